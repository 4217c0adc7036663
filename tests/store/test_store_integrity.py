"""Store writer lock, incremental appends, verify(), manifest edits, read-only stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gmlearn.cli import app
from gmlearn.exceptions import StoreError
from gmlearn.store import FeatureStore
from gmlearn.store.lock import store_lock
from gmlearn.store.manifest import table_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small(nzsmd_table) -> pd.DataFrame:
    return nzsmd_table.iloc[:120].reset_index(drop=True)


def _store(tmp_path: Path, small: pd.DataFrame) -> FeatureStore:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FeatureStore.create(tmp_path / "s").append(small, derive=False)


def _batch(small: pd.DataFrame, tag: str, n: int = 20) -> pd.DataFrame:
    return small.iloc[:n].assign(record_id=small["record_id"].iloc[:n] + f"_{tag}")


def test_concurrent_appends_all_land(tmp_path, small):
    store = _store(tmp_path, small)
    files = []
    for k in range(4):
        _batch(small, f"p{k}", 30).to_parquet(tmp_path / f"b{k}.parquet")
        files.append(tmp_path / f"b{k}.parquet")
    code = ("import sys, pandas as pd\nfrom gmlearn.store import FeatureStore\n"
            "FeatureStore(sys.argv[1]).append(pd.read_parquet(sys.argv[2]), derive=False)\nprint('OK')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(store.path), str(f)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for f in files]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-400:] for o in outs]
    final = FeatureStore(store.path)
    assert len(final) == 120 + 4 * 30 and final.version == 2 + 4
    ids = set(final.to_frame(dropna=False)["record_id"])
    assert all(f"{r}_p{k}" in ids for k in range(4) for r in small["record_id"].iloc[:30])
    assert final.verify()["rows"] == 240


def test_second_writer_waits_then_fails_clearly(tmp_path, small):
    store = _store(tmp_path, small)
    with store_lock(store.path):
        with pytest.raises(StoreError, match=r"Another process \(pid \d+\) is writing .* waited 0.2 s"):
            store.append(_batch(small, "x"), derive=False, lock_timeout=0.2)
        assert len(FeatureStore(store.path).to_frame(dropna=False)) == 120  # readers never block
    store.append(_batch(small, "x"), derive=False)
    assert len(store) == 140


def test_append_adds_part_files_and_leaves_stored_ones(tmp_path, small):
    store = _store(tmp_path, small)
    first = store.path / table_files(store._meta, "records")[0]
    stamp = (first.stat().st_mtime_ns, first.read_bytes())
    store.append(_batch(small, "two", 2), derive=False)
    parts = table_files(store._meta, "records")
    assert len(parts) == 2 and (store.path / parts[0]) == first
    assert (first.stat().st_mtime_ns, first.read_bytes()) == stamp
    assert store._meta["tables"]["records"]["parts"][1]["rows"] == 2
    assert len(table_files(store._meta, "events")) == 1  # events already stored are not written again
    flat = store.to_frame(dropna=False)
    assert list(flat["record_id"].iloc[-2:]) == list(small["record_id"].iloc[:2] + "_two")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = FeatureStore.create(tmp_path / "w").append(pd.concat([small, _batch(small, "two", 2)]), derive=False)
    assert whole.content_hash == store.content_hash


def test_new_column_rewrites_the_store(tmp_path, small):
    store = _store(tmp_path, small)
    extra = _batch(small, "n").assign(**{"SA(0.0123)": -3.0})
    store.append(extra, derive=False)
    assert len(table_files(store._meta, "records")) == 1 and "SA(0.0123)" in store.imts
    assert store.verify()["rows"] == 140


def test_duplicate_ids_and_columns_are_refused(tmp_path, small):
    store = _store(tmp_path, small)
    twice = pd.concat([_batch(small, "d", 3), _batch(small, "d", 3)])
    with pytest.raises(StoreError, match="appear more than once in it"):
        store.append(twice, derive=False)
    dup = pd.concat([_batch(small, "c", 3), _batch(small, "c", 3)[["mag"]]], axis=1)
    with pytest.raises(StoreError, match=r"column\(s\) \['mag'\] appear more than once"):
        store.append(dup, derive=False)
    assert len(FeatureStore(store.path)) == 120


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete", "rewrite"])
def test_verify_names_the_damaged_part(tmp_path, small, damage):
    store = _store(tmp_path, small)
    store.append(_batch(small, "v"), derive=False)
    name = table_files(store._meta, "records")[1]
    part = store.path / name
    if damage == "flip":
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 0xFF
        part.write_bytes(bytes(data))
    elif damage == "truncate":
        part.write_bytes(part.read_bytes()[:100])
    elif damage == "delete":
        part.unlink()
    else:  # a hand edit that keeps a valid Parquet file
        df = pd.read_parquet(part)
        df.loc[0, "PGA"] = 0.0
        df.to_parquet(part, index=False)
    with pytest.raises(StoreError, match=f"part file {name} "):
        FeatureStore(store.path).verify()
    result = CliRunner().invoke(app, ["data", "verify", str(store.path)])
    assert result.exit_code == 2 and name in result.output and "Traceback" not in result.output


def test_reading_a_missing_or_corrupt_part_names_it(tmp_path, small):
    store = _store(tmp_path, small)
    name = table_files(store._meta, "records")[0]
    (store.path / name).write_bytes(b"PAR1 not parquet at all PAR1")
    with pytest.raises(StoreError, match=f"part file {name} is corrupt"):
        FeatureStore(store.path).to_frame()
    (store.path / name).unlink()
    with pytest.raises(StoreError, match=f"part file {name} is missing"):
        FeatureStore(store.path).to_frame()


def test_verify_passes_and_cli_reports(tmp_path, small):
    store = _store(tmp_path, small)
    store.append(_batch(small, "ok"), derive=False)
    assert store.verify() == {"path": str(store.path), "version": 3, "parts": 4, "rows": 140,
                              "content_hash": store.content_hash}
    result = CliRunner().invoke(app, ["data", "verify", str(store.path)])
    assert result.exit_code == 0 and "4 part files, 140 records" in result.output


def test_edited_manifest_rows_are_caught(tmp_path, small):
    store = _store(tmp_path, small)
    manifest = store.path / "manifest.json"
    meta = json.loads(manifest.read_text())
    meta["tables"]["records"]["rows"] = 999_999
    manifest.write_text(json.dumps(meta))
    with pytest.raises(StoreError, match="says 999999 but its parts hold 120 rows"):
        FeatureStore(store.path)
    meta["tables"]["records"]["parts"][0]["rows"] = 999_999  # both edited: the part file disagrees
    manifest.write_text(json.dumps(meta))
    with pytest.raises(StoreError, match="holds 120 rows; the manifest says 999999"):
        FeatureStore(store.path).verify()


def _read_only_mount(folder: Path) -> Path | None:
    """A read-only bind mount of ``folder`` (a real EROFS even for root), or None where mounting is not allowed."""
    mount = folder.with_name(folder.name + "-ro")
    mount.mkdir()
    ok = subprocess.run(["mount", "--bind", str(folder), str(mount)], capture_output=True).returncode == 0
    if ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(mount)], capture_output=True).returncode == 0:
        return mount
    if ok:
        subprocess.run(["umount", str(mount)], capture_output=True)
    mount.rmdir()
    return None


def test_read_only_store_gives_a_clear_error(tmp_path, small, monkeypatch):
    store = _store(tmp_path, small)
    mount = _read_only_mount(store.path) if os.geteuid() == 0 else None
    target = mount or store.path
    if mount is None and os.geteuid() == 0:  # root ignores modes and may not mount: refuse as the OS would
        import gmlearn.store.lock as lock

        real_open = os.open

        def refuse(path, flags, *args):
            if str(path).endswith(".lock"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args)

        monkeypatch.setattr(lock.os, "open", refuse)
    if mount is None:
        os.chmod(store.path, 0o555)
    try:
        with pytest.raises(StoreError, match="read-only for this user"):
            FeatureStore(target).append(_batch(small, "ro"), derive=False)
        assert len(FeatureStore(target)) == 120  # readers still read it
    finally:
        if mount is not None:
            subprocess.run(["umount", str(mount)], check=False)
            mount.rmdir()
        os.chmod(store.path, 0o755)
    assert len(FeatureStore(store.path)) == 120
