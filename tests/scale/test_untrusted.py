"""Untrusted files: model metadata schema, model folders, archives, store manifests, no pickle anywhere."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import gmlearn
from gmlearn.exceptions import ModelError, StoreError
from gmlearn.gmpe import persistence
from gmlearn.gmpe.persistence import load_model, save_model
from gmlearn.hazard.archive import pack_model, unpack_model


@pytest.fixture(scope="module")
def saved(small_tree, tmp_path_factory) -> Path:
    return save_model(small_tree, tmp_path_factory.mktemp("models") / "tree")


@pytest.fixture
def copy(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "m"))


def _edit(folder: Path, change) -> None:
    """Edit metadata.json and recompute its manifest hash (as a careful forger would)."""
    from gmlearn.gmpe.integrity import stamp

    meta = json.loads((folder / "metadata.json").read_text())
    change(meta)
    (folder / "metadata.json").write_text(json.dumps(stamp(meta)))


def _set(path: str, value):
    def change(meta):
        *parents, last = path.split("/")
        node = meta
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return change


@pytest.mark.parametrize(("path", "value", "match"), [
    ("imts", KeyError, "required metadata key 'imts' is missing"),
    ("format_version", "1", "format_version '1'"),
    ("format_version", True, "format_version True"),
    ("format_version", 99, "format_version 99"),
    ("imts", ["PGA", 5], "'imts' must be a list of strings"),
    ("imts", ["PGD", "SA(1.0)"], "'imts' must be a list of IMT strings"),
    ("params", [1, 2], "'params' must be a JSON object"),
    ("ranges/mag", [7.0, 3.0], "'ranges.mag' must be a \\[lo, hi\\] pair"),
    ("ranges/mag", "big", "'ranges.mag'"),
    ("files/PGA", "../booster_0.ubj", "'files.PGA' names '../booster_0.ubj'"),
    ("files/PGA", "/etc/passwd", "'files.PGA' names '/etc/passwd'"),
    ("sha256/booster_0.ubj", "abc", "'sha256.booster_0.ubj' must be a SHA-256"),
    ("effects/PGA/tau", "0.5", "'effects.PGA.tau' must be a finite number"),
    ("effects/PGA/phi", -1.0, "'effects.PGA.phi' must be a finite number"),
    ("effects/PGA/rounds", 0, "'effects.PGA.rounds' must be a positive integer"),
    ("features", "mag", "'features' must be a JSON list"),
    ("tectonic_region_type", 5, "'tectonic_region_type' must be a JSON str"),
])
def test_metadata_schema_names_the_key(copy, path, value, match):
    _edit(copy, _set(path, value))
    with pytest.raises(ModelError, match=match):
        load_model(copy)


def test_optional_and_unknown_keys_are_allowed(copy, small_tree, nzsmd_crustal):
    _edit(copy, _set("tectonic_region_type", "Active Shallow Crust"))
    _edit(copy, _set("notes", {"from": "a later gmlearn"}))
    loaded = load_model(copy)
    assert loaded.metadata_["tectonic_region_type"] == "Active Shallow Crust"
    np.testing.assert_array_equal(loaded.predict(nzsmd_crustal).mean, small_tree.predict(nzsmd_crustal).mean)


def test_metadata_is_not_json(copy):
    (copy / "metadata.json").write_bytes(b"\x80\x04\x95 not json, maybe a pickle")
    with pytest.raises(ModelError, match="Corrupt model metadata"):
        load_model(copy)
    (copy / "metadata.json").write_text("[" * 100_000)
    with pytest.raises(ModelError, match="Corrupt model metadata"):
        load_model(copy)


def test_oversized_metadata_is_not_read(copy, monkeypatch):
    monkeypatch.setattr(persistence, "MAX_METADATA_BYTES", 100)
    with pytest.raises(ModelError, match="at most 100 bytes"):
        load_model(copy)


@pytest.mark.parametrize("kind", ["symlink-outside", "symlink-inside", "fifo", "device"])
def test_data_files_must_be_regular_files(copy, kind, tmp_path):
    target = copy / "booster_0.ubj"
    real = tmp_path / "elsewhere.ubj"
    shutil.move(target, real)
    if kind == "symlink-outside":
        os.symlink(real, target)
    elif kind == "symlink-inside":
        shutil.copy(real, copy / "real.ubj")
        os.symlink("real.ubj", target)
    elif kind == "fifo":
        os.mkfifo(target)  # reading it would block forever
    else:
        os.symlink("/dev/zero", target)  # hashing it would never end
    with pytest.raises(ModelError, match="symlink or not a regular file"):
        load_model(copy)


def test_oversized_data_file(copy, monkeypatch):
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", 10)
    with pytest.raises(ModelError, match="more than the 10 allowed"):
        load_model(copy)


# -- archives ---------------------------------------------------------------------------------
def _zip(path: Path, entries: list[tuple[str, bytes]], *, mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None and name != "metadata.json":
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize(("entries", "mode", "match"), [
    ([("metadata.json", b"{}"), ("../evil.txt", b"x")], None, "'../evil.txt' outside its top level"),
    ([("metadata.json", b"{}"), ("/tmp/evil.txt", b"x")], None, "'/tmp/evil.txt' outside its top level"),
    ([("metadata.json", b"{}"), ("sub/booster_0.ubj", b"x")], None, "'sub/booster_0.ubj' outside"),
    ([("metadata.json", b"{}"), ("..\\evil.txt", b"x")], None, "outside its top level"),
    ([("metadata.json", b"{}"), ("link", b"/etc/passwd")], stat.S_IFLNK | 0o777, "'link' that is a symlink"),
    ([("metadata.json", b"{}"), ("dir/", b"")], None, "outside its top level|folder"),
    ([("metadata.json", b"{}"), ("metadata.json", b"{}")], None, "twice"),
    ([("booster_0.ubj", b"x")], None, "must hold metadata.json"),
])
def test_archive_entries_are_checked(tmp_path, entries, mode, match):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive = _zip(tmp_path / "bad.zip", entries, mode=mode)
    with pytest.raises(ModelError, match=match):
        unpack_model(archive, cache=tmp_path / "cache")
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
    assert not any((tmp_path / "cache").glob("*/*")) if (tmp_path / "cache").exists() else True


def test_archive_member_count_and_size_bombs(tmp_path):
    many = _zip(tmp_path / "many.zip", [("metadata.json", b"{}")] + [(f"f{i}", b"") for i in range(10)])
    with pytest.raises(ModelError, match="11 entries, more than the 5 allowed"):
        unpack_model(many, cache=tmp_path / "c", max_members=5)
    bomb = _zip(tmp_path / "bomb.zip", [("metadata.json", b"{}"), ("zeros", bytes(5 * 2**20))])
    assert bomb.stat().st_size < 20_000  # 5 MiB of zeros deflate to a few kB
    with pytest.raises(ModelError, match="more than the 100 allowed \\(a zip bomb"):
        unpack_model(bomb, cache=tmp_path / "c", max_bytes=2**20)
    plain = _zip(tmp_path / "plain.zip", [("metadata.json", b"{}"), ("noise", np.random.default_rng(0).bytes(2 * 2**20))])
    with pytest.raises(ModelError, match="more than 1048576 bytes"):
        unpack_model(plain, cache=tmp_path / "c", max_bytes=2**20)


def test_archive_lying_headers(tmp_path):
    """Declared sizes are checked before extraction, and the bytes actually written while extracting."""
    data = bytearray(_zip(tmp_path / "a.zip", [("metadata.json", b"{}"), ("zeros", bytes(2**20))]).read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the last central-directory entry ("zeros")
    huge = data.copy()
    huge[central + 24:central + 28] = struct.pack("<I", 0xFFFFFFF0)  # claims ~4 GiB
    (tmp_path / "huge.zip").write_bytes(huge)
    with pytest.raises(ModelError, match="size bomb|zip bomb"):
        unpack_model(tmp_path / "huge.zip", cache=tmp_path / "c")
    small = data.copy()
    small[central + 24:central + 28] = struct.pack("<I", 10)  # claims 10 bytes, holds 1 MiB
    (tmp_path / "small.zip").write_bytes(small)
    with pytest.raises(ModelError, match="corrupt|size bomb"):
        unpack_model(tmp_path / "small.zip", cache=tmp_path / "c", max_bytes=1000)
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file()]


def test_archive_roundtrip_and_not_a_zip(saved, tmp_path, small_tree, nzsmd_crustal):
    archive = pack_model(saved, tmp_path / "tree.zip")
    folder = unpack_model(archive, cache=tmp_path / "cache")
    np.testing.assert_array_equal(load_model(folder).predict(nzsmd_crustal).mean, small_tree.predict(nzsmd_crustal).mean)
    (tmp_path / "fake.zip").write_bytes(b"\x80\x04\x95pickle bytes")
    with pytest.raises(ModelError, match="not a zip archive"):
        unpack_model(tmp_path / "fake.zip", cache=tmp_path / "cache")


def test_pack_refuses_symlinks(copy, tmp_path):
    os.symlink("/etc/hostname", copy / "extra")
    with pytest.raises(ModelError, match="symlinks \\['extra'\\]"):
        pack_model(copy, tmp_path / "x.zip")


# -- feature-store manifests ------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value", "match"), [
    ("tables/records/parts/0/file", "/etc/passwd", "'tables.records.parts\\[0\\].file' must be a part file"),
    ("tables/events/parts/0/file", "../victim/keep.txt", "'tables.events.parts\\[0\\].file' must be a part file"),
    ("tables/events/parts/0/file", "data/records-000001.parquet", "'tables.events.parts\\[0\\].file' must be a part file"),
    ("tables/records/parts", [], "'tables.records.parts' must be a non-empty list"),
    ("retired", ["../victim/keep.txt"], "'retired' must be a list of part files"),
    ("version", "2", "'version' must be a positive integer"),
    ("tables/records/rows", -1, "'tables.records.rows'"),
    ("tables/records/rows", 999_999, "'tables.records.rows' says 999999 but its parts hold 0 rows"),
    ("tables/records/parts/0/sha256", "abc", "sha256' must be a SHA-256"),
    ("format_version", None, "'format_version' must be a positive integer"),
])
def test_store_manifest_is_checked(tmp_path, key, value, match):
    from gmlearn.store import FeatureStore

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    store = FeatureStore.create(tmp_path / "store")
    manifest = store.path / "manifest.json"
    meta = json.loads(manifest.read_text())
    *parents, last = key.split("/")
    node = meta
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    manifest.write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=match):
        FeatureStore(store.path)
    assert (victim / "keep.txt").read_text() == "precious"


# -- no code is ever loaded from a file -------------------------------------------------------
FORBIDDEN = {
    r"^\s*(import|from)\s+(pickle|cPickle|dill|cloudpickle|joblib|shelve|marshal)\b": "imports a pickle-like module",
    r"\b(pickle|dill|cloudpickle|joblib|marshal)\.loads?\(": "loads a pickle",
    r"\bread_pickle\(": "pandas.read_pickle",
    r"allow_pickle\s*=\s*True": "np.load(allow_pickle=True)",
    r"\byaml\.load\((?![^)]*SafeLoader)": "yaml.load without SafeLoader",
    r"(?<![.\w])(eval|exec)\(": "eval/exec",
}


def _calls(text: str, name: str) -> list[str]:
    """Source of every call ``name(...)`` (balanced parentheses)."""
    out = []
    for match in re.finditer(re.escape(name) + r"\(", text):
        depth, i = 0, match.end() - 1
        for i in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                break
        out.append(text[match.start():i + 1])
    return out


def test_no_pickle_anywhere():
    root = Path(gmlearn.__file__).parent
    problems = []
    for file in sorted(root.rglob("*.py")):
        text = file.read_text()
        rel = file.relative_to(root.parent)
        for pattern, what in FORBIDDEN.items():
            for line in text.splitlines():
                if re.search(pattern, line) and not line.lstrip().startswith("#"):
                    problems.append(f"{rel}: {what}: {line.strip()}")
        for call in _calls(text, "torch.load"):
            if not re.search(r"weights_only\s*=\s*True", call):
                problems.append(f"{rel}: torch.load without weights_only=True: {call}")
        for name in ("np.load", "numpy.load"):
            for call in _calls(text, name):
                if not re.search(r"allow_pickle\s*=\s*False", call):
                    problems.append(f"{rel}: {name} without allow_pickle=False: {call}")
    assert problems == []
    # The checker itself finds what it looks for.
    sample = "import pickle\nx = torch.load(f)\ny = np.load(p)\nz = torch.load(f, weights_only=True)\n"
    assert len(_calls(sample, "torch.load")) == 2 and re.search(next(iter(FORBIDDEN)), "import pickle", re.M)
