"""Model files that cannot crash the process: booster checks, manifest hash, signatures, plausible values, archives."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.booster_check import check_booster_file, decode_ubjson
from gmlearn.gmpe.integrity import stamp
from gmlearn.gmpe.persistence import load_model, save_model, sign_model
from gmlearn.hazard.archive import pack_model, prune_cache, unpack_model

KEY = "a-key-of-at-least-16-bytes"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, nzsmd_crustal) -> Path:
    from gmlearn.gmpe.tree import TreeGMM

    model = TreeGMM(n_estimators=8, learning_rate=0.3, n_jobs=1).fit(nzsmd_crustal, ["PGA", "SA(1.0)"])
    return save_model(model, tmp_path_factory.mktemp("m") / "tree")


@pytest.fixture
def copy(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "m"))


def _meta(folder: Path) -> dict:
    return json.loads((folder / "metadata.json").read_text())


def _write(folder: Path, meta: dict, *, restamp: bool) -> None:
    (folder / "metadata.json").write_text(json.dumps(stamp(meta) if restamp else meta))


def _key(name: str) -> bytes:
    return b"L" + struct.pack(">q", len(name)) + name.encode()


BOMB = b"{" + _key("learner") + b"[$d#L" + struct.pack(">q", 2**28) + b"}"


def _replace_file(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)
    meta = _meta(folder)
    meta["sha256"][name] = hashlib.sha256(data).hexdigest()
    _write(folder, meta, restamp=True)


def test_declared_array_larger_than_file_is_refused_without_a_crash(copy):
    """The 31-byte booster declaring 2**28 floats killed the process (SIGSEGV) inside XGBoost."""
    _replace_file(copy, "booster_0.ubj", BOMB)
    code = ("import sys\nfrom gmlearn.gmpe.persistence import load_model\nfrom gmlearn.exceptions import ModelError\n"
            f"try:\n    load_model({str(copy)!r})\nexcept ModelError as e:\n    print('REFUSED', e)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-500:]
    assert "REFUSED" in done.stdout and "268435456 items" in done.stdout


@pytest.mark.parametrize(("data", "match"), [
    (BOMB, "declares 268435456 items"),
    (b"{" + _key("learner") + b"S" + b"L" + struct.pack(">q", 2**40) + b"}", "declares 1099511627776 items"),
    (b"{" + _key("learner") + b"[" * 100, "deeper than 64"),
    (b"{" + _key("a") + b"Z}" + b"junk", "trailing"),
    (b"{" + _key("a") + b"Q}", "unknown UBJSON marker"),
    (b"{" + _key("a"), "only 0 remain"),
    (b"", "only 0 remain"),
])
def test_malformed_ubjson_is_refused(tmp_path, data, match):
    path = tmp_path / "b.ubj"
    path.write_bytes(data)
    with pytest.raises(ModelError, match=match):
        check_booster_file(path)


def _json_model(saved: Path) -> dict:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(str(saved / "booster_0.ubj"))
    return json.loads(booster.save_raw("json"))


@pytest.mark.parametrize(("edit", "match"), [
    (lambda t, m: t["tree_param"].update(num_nodes=str(int(t["tree_param"]["num_nodes"]) + 5)), "for num_nodes"),
    (lambda t, m: t["left_children"].__setitem__(0, 10**6), "child indices"),
    (lambda t, m: t["left_children"].__setitem__(0, 0), "child indices"),
    (lambda t, m: t["split_indices"].__setitem__(0, 500), "split_indices"),
    (lambda t, m: t["base_weights"].__setitem__(-1, float("nan")), "not finite"),
    (lambda t, m: m["learner"]["gradient_booster"]["model"]["gbtree_model_param"].update(num_trees="99"), "num_trees 99"),
])
def test_inconsistent_tree_structure_is_refused(saved, tmp_path, edit, match):
    model = _json_model(saved)
    edit(model["learner"]["gradient_booster"]["model"]["trees"][0], model)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(model))
    with pytest.raises(ModelError, match=match):
        check_booster_file(path)


def test_valid_boosters_pass_and_decode_like_xgboost(saved, tmp_path):
    check_booster_file(saved / "booster_0.ubj")
    model = _json_model(saved)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(model))
    check_booster_file(path)
    ours = decode_ubjson((saved / "booster_0.ubj").read_bytes())
    trees = ours["learner"]["gradient_booster"]["model"]["trees"]
    assert len(trees) == len(model["learner"]["gradient_booster"]["model"]["trees"])
    np.testing.assert_allclose(trees[0]["split_conditions"], model["learner"]["gradient_booster"]["model"]["trees"][0]["split_conditions"])


@pytest.mark.parametrize("edit", [
    lambda m: m.update(features=m["features"][::-1]),
    lambda m: m.update({"class": "MonotoneGMM"}),
    lambda m: m["files"].update({"PGA": m["files"]["SA(1.0)"], "SA(1.0)": m["files"]["PGA"]}),
    lambda m: m["effects"]["PGA"].update(tau=0.9),
])
def test_hand_edits_are_caught_by_the_manifest_hash(copy, edit):
    meta = _meta(copy)
    edit(meta)
    _write(copy, meta, restamp=False)
    with pytest.raises(ModelError, match="manifest_sha256 does not match"):
        load_model(copy)


@pytest.mark.parametrize(("key", "value", "match"), [
    ("tau", 1e308, "effects.PGA.tau"),
    ("phi", 0.0, "effects.PGA.phi"),
    ("phi_ss", 3.5, "effects.PGA.phi_ss"),
    ("bias", 1e300, "effects.PGA.bias"),
    ("bias", -12.0, "effects.PGA.bias"),
])
def test_implausible_variance_components_are_refused(copy, key, value, match):
    meta = _meta(copy)
    meta["effects"]["PGA"][key] = value
    _write(copy, meta, restamp=True)
    with pytest.raises(ModelError, match=match):
        load_model(copy)


@pytest.mark.parametrize("value", [1e300, float("inf"), float("nan"), -11.0])
def test_implausible_random_effect_terms_are_refused(copy, value):
    terms = pd.read_parquet(copy / "random_effects.parquet")
    terms.loc[3, "term"] = value
    terms.to_parquet(copy / "random_effects.parquet", index=False)
    _replace_file(copy, "random_effects.parquet", (copy / "random_effects.parquet").read_bytes())
    with pytest.raises(ModelError, match="random-effect term"):
        load_model(copy)


def test_signed_models_load_only_with_their_key(copy, monkeypatch, nzsmd_crustal):
    reference = load_model(copy)
    with pytest.raises(ModelError, match="needs a key"):
        sign_model(copy)
    sign_model(copy, KEY)
    assert _meta(copy)["signature"]["algorithm"] == "hmac-sha256"
    loaded = load_model(copy, key=KEY)
    np.testing.assert_array_equal(loaded.predict(nzsmd_crustal).mean, reference.predict(nzsmd_crustal).mean)
    with pytest.raises(ModelError, match="signature does not match"):
        load_model(copy, key=KEY + "x")
    meta = _meta(copy)  # a forger recomputes the manifest hash but cannot sign
    meta["features"] = meta["features"][::-1]
    _write(copy, {**meta, "signature": meta["signature"]}, restamp=False)
    restamped = stamp(_meta(copy))
    (copy / "metadata.json").write_text(json.dumps({**restamped, "signature": meta["signature"]}))
    load_model(copy)  # no key set: the manifest hash alone cannot tell
    monkeypatch.setenv("GMLEARN_MODEL_KEY", KEY)
    with pytest.raises(ModelError, match="signature does not match"):
        load_model(copy)
    with pytest.raises(ModelError, match="at least 16 bytes"):
        load_model(copy, key="short")


def test_unsigned_model_is_refused_when_a_key_is_set(copy, monkeypatch):
    monkeypatch.setenv("GMLEARN_MODEL_KEY", KEY)
    with pytest.raises(ModelError, match="not signed"):
        load_model(copy)


def test_signed_archive_travels(saved, tmp_path, monkeypatch):
    archive = pack_model(saved, tmp_path / "tree.zip", key=KEY)
    assert "signature" not in _meta(saved)  # the folder is unchanged
    plain = unpack_model(pack_model(saved, tmp_path / "plain.zip"), cache=tmp_path / "cache")
    folder = unpack_model(archive, cache=tmp_path / "cache")
    monkeypatch.setenv("GMLEARN_MODEL_KEY", KEY)
    assert load_model(folder).imts_ == ["PGA", "SA(1.0)"]
    monkeypatch.delenv("GMLEARN_MODEL_KEY")
    load_model(plain)
    with pytest.raises(ModelError, match="not signed"):
        load_model(plain, key=KEY)


def test_zip_bomb_is_refused_before_extraction(saved, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(saved.iterdir()):
            zf.write(file, file.name)
        with zf.open("padding.bin", "w", force_zip64=True) as fh:
            block = bytes(2**20)
            for _ in range(48):
                fh.write(block)
    assert bomb.stat().st_size < 2**20
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match="expanding .* times .* zip bomb"):
        unpack_model(bomb, cache=cache)
    assert not cache.exists() or not any(p for p in cache.iterdir() if not p.name.startswith("."))


def test_model_cache_is_capped_least_recently_used_first(saved, tmp_path):
    cache = tmp_path / "cache"
    folders = []
    for k in range(3):
        archive = tmp_path / f"m{k}.zip"
        shutil.copyfile(pack_model(saved, tmp_path / "x.zip"), archive)
        with zipfile.ZipFile(archive, "a") as zf:
            zf.writestr(f"note{k}.txt", str(k))  # distinct archives
        folders.append(unpack_model(archive, cache=cache))
        os.utime(folders[-1], (1000 + k, 1000 + k))
    size = sum(p.stat().st_size for p in folders[0].iterdir())
    os.utime(folders[0], (5000, 5000))  # used most recently
    removed = prune_cache(cache, max_bytes=2 * size + 10)
    assert removed == [folders[1]]
    assert folders[0].exists() and folders[2].exists()
    removed = prune_cache(cache, max_bytes=0, keep=folders[0])
    assert sorted(removed) == [folders[2]] and folders[0].exists()
