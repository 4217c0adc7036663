"""Reliability benchmark: hostile and careless input, concurrent appends, CSV prediction memory.

Run from the repository root::

    python benchmarks/reliability.py [--rows 10000000] [--trials 20] [--store-rows 1000000] [--only NAME ...]

Every hostile case runs in its own child process (``--case NAME``), so a
crash (a signal such as SIGSEGV) is seen as one and cannot take the benchmark
down. The child prints one JSON verdict; the parent classifies each case:

- ``handled``: refused with a gmlearn error naming the problem (API cases), or
  exit code 2 with a one-line message and no traceback (CLI cases), or the
  input was read correctly (a recognised unit converted to g);
- ``unhandled_traceback``: the child (or the CLI it ran) ended in a Python traceback;
- ``silent_wrong_output``: the input was accepted and produced a wrong result;
- ``data_loss``: something gmlearn did not write (a store, an input folder,
  a thesis) was deleted or altered;
- ``crash``: the process died from a signal (exit code < 0, or 128 + signal).

The fixtures are real: a ``TreeGMM`` (40 trees) fitted on the first 40 NZSMD
crustal events (``gmlearn.datasets`` ``nzsmd``, PGA and SA(1.0)), a feature
store of 300 NZSMD records, a PEER AT2 record of ``../shared/data``.

``concurrent_append_trials``: each trial copies a 200-record store and starts
two processes that wait on one start file, then each append 200 new records;
lost records = 600 minus the records in the store afterwards.

``peak_rss_mb_10m_csv_predict``: ``gmlearn predict MODEL in.csv -o out.csv``
on ``--rows`` rows (a ``TreeGMM`` with default parameters, seed 0, fitted on
the NZSMD crustal records for PGA, PGV, SA(0.2), SA(1.0), SA(3.0), as in
``benchmarks/scale.py``; rows resampled from those records with jittered
magnitude and distances), peak resident memory of the CLI process sampled
every 50 ms with psutil.

``append_2_rows_seconds``: appending 2 records to a store of ``--store-rows``
records (NZSMD records repeated with new ids), in a child process.

Writes ``benchmarks/results/reliability.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data"
KEY = "benchmark-signing-key-0123456789"
CASES: dict[str, tuple[str, str, Callable[[Path], tuple[str, str]]]] = {}
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}


def case(group: str, note: str = "") -> Callable:
    """Register a case: ``fn(work) -> (outcome, detail)``."""
    def wrap(fn: Callable) -> Callable:
        CASES[fn.__name__] = (group, note, fn)
        return fn
    return wrap


# -- helpers run inside the child ---------------------------------------------------------------
def refused(fn: Callable[[], Any], match: str, *types: type) -> tuple[str, str]:
    """handled if ``fn`` raises one of ``types`` (default: any gmlearn error) with ``match`` in its message."""
    from gmlearn.exceptions import GMLearnError

    types = types or (GMLearnError,)
    try:
        fn()
    except types as exc:
        text = " ".join(str(exc).split())
        if re.search(match, text):
            return "handled", text[:160]
        return "unhandled_traceback", f"refused, but the message does not say {match!r}: {text[:160]}"
    return "silent_wrong_output", "accepted"


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gmlearn.cli", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=timeout, cwd=ROOT)


def cli_refused(done: subprocess.CompletedProcess, match: str = "") -> tuple[str, str]:
    """handled: exit 2, one error line, no traceback."""
    text = (done.stdout + done.stderr).strip()
    if done.returncode < 0 or done.returncode >= 128:
        return "crash", f"exit {done.returncode}"
    if "Traceback" in text or (done.returncode not in (0, 2)):
        return "unhandled_traceback", f"exit {done.returncode}: {text.splitlines()[-1][:160] if text else ''}"
    if done.returncode == 0:
        return "silent_wrong_output", f"exit 0: {text[-160:]}"
    errors = [ln for ln in text.splitlines() if ln.strip()]
    first = errors[0] if errors else ""
    if match and not re.search(match, " ".join(text.split())):
        return "unhandled_traceback", f"exit 2 but the message does not say {match!r}: {first[:160]}"
    return "handled", " ".join(text.split())[:160]


def model_copy(work: Path, name: str = "m") -> Path:
    return Path(shutil.copytree(work / "model", work / name))


def edit_meta(folder: Path, change: Callable[[dict], None], *, restamp: bool) -> None:
    from gmlearn.gmpe.integrity import stamp

    meta = json.loads((folder / "metadata.json").read_text())
    change(meta)
    (folder / "metadata.json").write_text(json.dumps(stamp(meta) if restamp else meta))


def replace_file(folder: Path, name: str, data: bytes) -> None:
    """Replace a model file and update its SHA-256 and the manifest hash (a careful forger)."""
    (folder / name).write_bytes(data)
    edit_meta(folder, lambda m: m["sha256"].__setitem__(name, hashlib.sha256(data).hexdigest()), restamp=True)


def _ubj_key(name: str) -> bytes:
    return b"L" + struct.pack(">q", len(name)) + name.encode()


def load(folder: Path, **kw: Any) -> Any:
    from gmlearn.gmpe.persistence import load_model

    return load_model(folder, **kw)


def store_copy(work: Path, name: str = "s") -> Any:
    from gmlearn.store import FeatureStore

    return FeatureStore(shutil.copytree(work / "store", work / name))


def part(store: Any, table: str = "records", k: int = 0) -> Path:
    from gmlearn.store.manifest import table_files

    return store.path / table_files(store._meta, table)[k]


def flat(work: Path) -> pd.DataFrame:
    """A raw generic flatfile (linear PGA, SA in g; PGV cm/s) from real NZSMD records."""
    from gmlearn import datasets

    d = datasets.load("nzsmd").dropna(subset=["PGA", "PGV", "SA(1.0)", "rrup", "rjb", "repi"]).iloc[:400]
    return pd.DataFrame({"record_id": d["record_id"], "event_id": d["event_id"], "station_id": d["station_id"],
                         "mag": d["mag"], "vs30": d["vs30"], "rrup": d["rrup"], "rjb": d["rjb"], "repi": d["repi"],
                         "PGA": np.exp(d["PGA"]), "SA(1.0)": np.exp(d["SA(1.0)"]), "PGV": np.exp(d["PGV"])}).reset_index(drop=True)


def read_flat(frame: pd.DataFrame, work: Path, **kw: Any) -> pd.DataFrame:
    from gmlearn.store.readers import read_flatfile

    path = work / "flat.csv"
    frame.to_csv(path, index=False)
    return read_flatfile(path, **kw)


def at2(work: Path, *, line3: str | None = None, line4: str | None = None, scale: float = 1.0) -> Path:
    src = SHARED / "waveforms_peer_at2" / "records" / "RSN125_FRIULI.A_A-TMZ000.AT2.gz"
    lines = gzip.open(src, "rt", encoding="latin-1").read().splitlines()
    lines[2] = line3 if line3 is not None else lines[2]
    lines[3] = line4 if line4 is not None else lines[3]
    if scale != 1.0:
        v = np.array(" ".join(lines[4:]).split(), dtype=float) * scale
        lines = lines[:4] + [" ".join(f"{x:.7E}" for x in v[i:i + 5]) for i in range(0, len(v), 5)]
    out = work / "r.AT2.gz"
    with gzip.open(out, "wt", encoding="latin-1") as fh:
        fh.write("\n".join(lines) + "\n")
    return out


def fema(work: Path, values: list[str]) -> Path:
    path = work / "f.csv"
    path.write_text("time_s,acc_g\n" + "\n".join(f"{0.01 * i:.2f},{v}" for i, v in enumerate(values)) + "\n")
    return path


# -- model files ----------------------------------------------------------------------------------
@case("model", "issue: 47-byte UBJ declaring 2^28 floats killed predict with SIGSEGV")
def ubj_declares_2p28_floats(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    replace_file(m, "booster_0.ubj", b"{" + _ubj_key("learner") + b"[$d#L" + struct.pack(">q", 2**28) + b"}" + b"\0" * 16)
    return refused(lambda: load(m), "declares 268435456 items")


@case("model", "issue: the same booster through `gmlearn predict`")
def cli_predict_ubj_bomb(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    replace_file(m, "booster_0.ubj", b"{" + _ubj_key("learner") + b"[$d#L" + struct.pack(">q", 2**28) + b"}")
    return cli_refused(cli("predict", m, work / "features.csv", "-o", work / "p.csv"), "declares 268435456")


@case("model", "issue: the same booster in a hazard GSIM (was exit 139)")
def hazard_gsim_ubj_bomb(work: Path) -> tuple[str, str]:
    from gmlearn.hazard.gsim import cached_model

    m = model_copy(work)
    replace_file(m, "booster_0.ubj", b"{" + _ubj_key("learner") + b"[$d#L" + struct.pack(">q", 2**28) + b"}")
    return refused(lambda: cached_model(m / "metadata.json"), "declares 268435456")


@case("model")
def ubj_string_length_2p40(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    replace_file(m, "booster_0.ubj", b"{" + _ubj_key("learner") + b"SL" + struct.pack(">q", 2**40) + b"}")
    return refused(lambda: load(m), "declares 1099511627776")


@case("model")
def ubj_truncated(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    data = (m / "booster_0.ubj").read_bytes()
    replace_file(m, "booster_0.ubj", data[: len(data) // 2])
    return refused(lambda: load(m), "not a valid XGBoost model")


@case("model")
def ubj_trailing_bytes(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    replace_file(m, "booster_0.ubj", (m / "booster_0.ubj").read_bytes() + b"\x00junk")
    return refused(lambda: load(m), "trailing")


@case("model")
def ubj_deep_nesting(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    replace_file(m, "booster_0.ubj", b"{" + _ubj_key("learner") + b"[" * 100_000)
    return refused(lambda: load(m), "deeper than 64")


def _json_booster(m: Path, change: Callable[[dict, dict], None]) -> None:
    import xgboost as xgb

    b = xgb.Booster()
    b.load_model(str(m / "booster_0.ubj"))
    model = json.loads(b.save_raw("json"))
    change(model["learner"]["gradient_booster"]["model"]["trees"][0], model)
    replace_file(m, "booster_0.ubj", json.dumps(model).encode())


@case("model")
def booster_num_nodes_mismatch(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    _json_booster(m, lambda t, _: t["tree_param"].update(num_nodes=str(int(t["tree_param"]["num_nodes"]) + 1000)))
    return refused(lambda: load(m), "for num_nodes")


@case("model")
def booster_child_out_of_range(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    _json_booster(m, lambda t, _: t["left_children"].__setitem__(0, 2**30))
    return refused(lambda: load(m), "child indices")


@case("model")
def booster_cycle(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    _json_booster(m, lambda t, _: t["left_children"].__setitem__(0, 0))
    return refused(lambda: load(m), "child indices")


@case("model")
def booster_feature_index_out_of_range(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    _json_booster(m, lambda t, _: t["split_indices"].__setitem__(0, 10**6))
    return refused(lambda: load(m), "split_indices")


@case("model")
def booster_nan_leaf(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    _json_booster(m, lambda t, _: t["base_weights"].__setitem__(-1, float("nan")))
    return refused(lambda: load(m), "not finite")


@case("model")
def booster_num_trees_mismatch(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    _json_booster(m, lambda _, mm: mm["learner"]["gradient_booster"]["model"]["gbtree_model_param"].update(num_trees="999"))
    return refused(lambda: load(m), "num_trees 999")


@case("model", "issue: swapped files load")
def swapped_booster_files(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    a, b = (m / "booster_0.ubj").read_bytes(), (m / "booster_1.ubj").read_bytes()
    (m / "booster_0.ubj").write_bytes(b)
    (m / "booster_1.ubj").write_bytes(a)

    def swap(meta: dict) -> None:
        s = meta["sha256"]
        s["booster_0.ubj"], s["booster_1.ubj"] = s["booster_1.ubj"], s["booster_0.ubj"]
    edit_meta(m, swap, restamp=False)
    return refused(lambda: load(m), "manifest_sha256 does not match")


@case("model", "issue: reversed features load")
def reversed_features(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    edit_meta(m, lambda meta: meta.update(features=meta["features"][::-1]), restamp=False)
    return refused(lambda: load(m), "manifest_sha256 does not match")


@case("model")
def renamed_feature(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    edit_meta(m, lambda meta: meta["features"].__setitem__(0, "rhypo"), restamp=False)
    return refused(lambda: load(m), "manifest_sha256 does not match")


@case("model", "issue: class changed loads")
def class_changed(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    edit_meta(m, lambda meta: meta.update({"class": "MonotoneGMM"}), restamp=False)
    return refused(lambda: load(m), "manifest_sha256 does not match")


def _effect(key: str, value: float) -> Callable[[Path], tuple[str, str]]:
    def run(work: Path) -> tuple[str, str]:
        m = model_copy(work)
        edit_meta(m, lambda meta: meta["effects"]["PGA"].__setitem__(key, value), restamp=True)
        return refused(lambda: load(m), f"effects.PGA.{key}")
    return run


@case("model", "issue: bias 1e300 loads (manifest hash recomputed)")
def bias_1e300(work: Path) -> tuple[str, str]:
    return _effect("bias", 1e300)(work)


@case("model", "issue: tau 1e308 loads and a hazard run writes infinite PGA")
def tau_1e308(work: Path) -> tuple[str, str]:
    return _effect("tau", 1e308)(work)


@case("model")
def phi_zero(work: Path) -> tuple[str, str]:
    return _effect("phi", 0.0)(work)


@case("model")
def phi_ss_5(work: Path) -> tuple[str, str]:
    return _effect("phi_ss", 5.0)(work)


def _term(value: float) -> Callable[[Path], tuple[str, str]]:
    def run(work: Path) -> tuple[str, str]:
        m = model_copy(work)
        terms = pd.read_parquet(m / "random_effects.parquet")
        terms.loc[0, "term"] = value
        terms.to_parquet(m / "random_effects.parquet", index=False)
        replace_file(m, "random_effects.parquet", (m / "random_effects.parquet").read_bytes())
        return refused(lambda: load(m), "random-effect term")
    return run


@case("model", "issue: random-effect terms 1e300 load")
def random_effect_term_1e300(work: Path) -> tuple[str, str]:
    return _term(1e300)(work)


@case("model")
def random_effect_term_nan(work: Path) -> tuple[str, str]:
    return _term(float("nan"))(work)


@case("model", "issue: a hazard GSIM on a tau=1e308 model (was 1 680 infinite PGA values, exit 0)")
def hazard_gsim_tau_1e308(work: Path) -> tuple[str, str]:
    from gmlearn.hazard.gsim import cached_model

    m = model_copy(work)
    edit_meta(m, lambda meta: meta["effects"]["PGA"].__setitem__("tau", 1e308), restamp=True)
    return refused(lambda: cached_model(m / "metadata.json"), "effects.PGA.tau")


@case("model")
def metadata_pickle_bytes(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    (m / "metadata.json").write_bytes(b"\x80\x04\x95 pickle")
    return refused(lambda: load(m), "Corrupt model metadata")


@case("model")
def metadata_unknown_class(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    edit_meta(m, lambda meta: meta.update({"class": "os.system"}), restamp=True)
    return refused(lambda: load(m), "unknown model class")


@case("model")
def metadata_path_traversal(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    edit_meta(m, lambda meta: meta["files"].update(PGA="../../etc/passwd"), restamp=True)
    return refused(lambda: load(m), "names '../../etc/passwd'")


@case("model", "HMAC-SHA256 signature with a user key")
def signed_model_tampered(work: Path) -> tuple[str, str]:
    from gmlearn.gmpe.persistence import sign_model

    m = model_copy(work)
    sign_model(m, KEY)
    sig = json.loads((m / "metadata.json").read_text())["signature"]
    edit_meta(m, lambda meta: meta.update(features=meta["features"][::-1]), restamp=True)  # hash recomputed
    edit_meta(m, lambda meta: meta.update(signature=sig), restamp=False)
    return refused(lambda: load(m, key=KEY), "signature does not match")


@case("model")
def unsigned_model_with_key_set(work: Path) -> tuple[str, str]:
    m = model_copy(work)
    os.environ["GMLEARN_MODEL_KEY"] = KEY
    return refused(lambda: load(m), "not signed")


@case("model")
def signed_with_another_key(work: Path) -> tuple[str, str]:
    from gmlearn.gmpe.persistence import sign_model

    m = model_copy(work)
    sign_model(m, KEY + "-other")
    return refused(lambda: load(m, key=KEY), "signature does not match")


# -- archives and the model cache -------------------------------------------------------------------
def _unpack(archive: Path, cache: Path) -> Any:
    from gmlearn.hazard.archive import unpack_model

    return unpack_model(archive, cache=cache)


@case("archive", "issue: 1.69 MB -> 1.5 GiB zip bomb was extracted, kept and loaded")
def zip_bomb_1p5_gib(work: Path) -> tuple[str, str]:
    bomb = work / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((work / "model").iterdir()):
            zf.write(f, f.name)
        with zf.open("padding.bin", "w", force_zip64=True) as fh:
            block = bytes(2**24)
            for _ in range(96):  # 1.5 GiB of zeros
                fh.write(block)
    cache = work / "cache"
    verdict = refused(lambda: _unpack(bomb, cache), "zip bomb")
    left = [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
    if left:
        return "silent_wrong_output", f"refused but left {len(left)} files in the cache"
    return verdict[0], f"{bomb.stat().st_size / 1e6:.2f} MB archive: {verdict[1]}"


def _zip(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


@case("archive")
def zip_path_traversal(work: Path) -> tuple[str, str]:
    z = _zip(work / "t.zip", [("metadata.json", b"{}"), ("../../evil.py", b"print(1)")])
    return refused(lambda: _unpack(z, work / "cache"), "path traversal")


@case("archive")
def zip_symlink_entry(work: Path) -> tuple[str, str]:
    z = work / "l.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("metadata.json", b"{}")
        info = zipfile.ZipInfo("booster_0.ubj")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    return refused(lambda: _unpack(z, work / "cache"), "symlink")


@case("archive")
def zip_lying_header(work: Path) -> tuple[str, str]:
    data = bytearray(_zip(work / "a.zip", [("metadata.json", b"{}"), ("zeros", bytes(2**20))]).read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 0xFFFFFFF0)
    (work / "h.zip").write_bytes(bytes(data))
    return refused(lambda: _unpack(work / "h.zip", work / "cache"), "bomb")


@case("archive")
def zip_not_a_zip(work: Path) -> tuple[str, str]:
    (work / "x.zip").write_bytes(b"\x80\x04\x95pickle")
    return refused(lambda: _unpack(work / "x.zip", work / "cache"), "not a zip archive")


@case("archive", "issue: the model cache was never cleaned")
def model_cache_is_capped(work: Path) -> tuple[str, str]:
    from gmlearn.hazard.archive import pack_model

    cache = work / "cache"
    base = pack_model(work / "model", work / "base.zip")
    size = sum(p.stat().st_size for p in (work / "model").iterdir())
    os.environ["GMLEARN_MODEL_CACHE_BYTES"] = str(int(2.5 * size))
    for k in range(5):
        z = work / f"m{k}.zip"
        shutil.copyfile(base, z)
        with zipfile.ZipFile(z, "a") as zf:
            zf.writestr(f"note{k}.txt", str(k))
        _unpack(z, cache)
        time.sleep(0.02)
    total = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    kept = sorted(p.name for p in cache.iterdir())
    if total <= 2.5 * size + 100 and len(kept) == 2:
        return "handled", f"5 archives extracted, {len(kept)} most recent kept ({total} bytes <= cap)"
    return "silent_wrong_output", f"cache holds {kept} ({total} bytes)"


@case("archive", "a signed archive altered after packing")
def signed_archive_altered(work: Path) -> tuple[str, str]:
    from gmlearn.hazard.archive import pack_model

    z = pack_model(work / "model", work / "s.zip", key=KEY)
    folder = _unpack(z, work / "cache")
    sig = json.loads((folder / "metadata.json").read_text())["signature"]
    edit_meta(folder, lambda meta: meta["effects"]["PGA"].update(bias=0.5), restamp=True)  # hash recomputed
    edit_meta(folder, lambda meta: meta.update(signature=sig), restamp=False)  # old signature kept
    return refused(lambda: load(folder, key=KEY), "signature does not match")


# -- the feature store -------------------------------------------------------------------------------
@case("store", "issue: a corrupt store Parquet part gave a raw DuckDB traceback")
def store_corrupt_part_read(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    p = part(s)
    data = bytearray(p.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
    p.write_bytes(bytes(data))
    from gmlearn.store import FeatureStore

    def read() -> None:
        FeatureStore(s.path).to_frame()
        FeatureStore(s.path).verify()
    return refused(read, f"part file {p.relative_to(s.path)}")


@case("store", "issue: a missing store part gave a raw DuckDB traceback")
def store_missing_part_read(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    p = part(s)
    p.unlink()
    from gmlearn.store import FeatureStore

    return refused(lambda: FeatureStore(s.path).to_frame(), f"part file {p.relative_to(s.path)} is missing")


@case("store", "issue: hand-edited Parquet passed and content_hash did not change")
def store_hand_edited_part(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    p = part(s)
    df = pd.read_parquet(p)
    df.loc[0, "PGA"] = df.loc[0, "PGA"] + 1.0
    df.to_parquet(p, index=False)
    from gmlearn.store import FeatureStore

    return refused(lambda: FeatureStore(s.path).verify(), f"part file {p.relative_to(s.path)} does not match")


@case("store")
def store_truncated_part(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    p = part(s)
    p.write_bytes(p.read_bytes()[:200])
    from gmlearn.store import FeatureStore

    return refused(lambda: FeatureStore(s.path).to_frame(), f"part file {p.relative_to(s.path)}")


@case("store", "issue: an edited manifest rows made len(store) 999 999 for 3 records")
def store_manifest_rows_edited(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    meta = json.loads((s.path / "manifest.json").read_text())
    meta["tables"]["records"]["rows"] = 999_999
    (s.path / "manifest.json").write_text(json.dumps(meta))
    from gmlearn.store import FeatureStore

    return refused(lambda: len(FeatureStore(s.path)), "says 999999 but its parts hold")


@case("store")
def store_manifest_rows_edited_everywhere(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    meta = json.loads((s.path / "manifest.json").read_text())
    meta["tables"]["records"]["rows"] = 999_999
    meta["tables"]["records"]["parts"][0]["rows"] = 999_999
    (s.path / "manifest.json").write_text(json.dumps(meta))
    from gmlearn.store import FeatureStore

    return refused(lambda: FeatureStore(s.path).verify(), "manifest says 999999")


@case("store")
def store_manifest_path_traversal(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    meta = json.loads((s.path / "manifest.json").read_text())
    meta["tables"]["records"]["parts"][0]["file"] = "../../etc/passwd"
    (s.path / "manifest.json").write_text(json.dumps(meta))
    from gmlearn.store import FeatureStore

    return refused(lambda: FeatureStore(s.path), "must be a part file")


@case("store")
def store_manifest_not_json(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    (s.path / "manifest.json").write_text("{not json")
    from gmlearn.store import FeatureStore

    return refused(lambda: FeatureStore(s.path), "Corrupt feature-store manifest")


@case("store")
def store_duplicate_record_append(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    before = len(s)
    verdict = refused(lambda: s.append(s.to_frame(dropna=False).iloc[:3], derive=False), "already in the store")
    from gmlearn.store import FeatureStore

    if len(FeatureStore(s.path)) != before:
        return "data_loss", "store changed"
    return verdict


@case("store")
def store_duplicate_column_append(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    frame = s.to_frame(dropna=False).iloc[:3].assign(record_id=lambda d: d["record_id"] + "_x")
    frame = pd.concat([frame, frame[["mag"]] + 1], axis=1)
    return refused(lambda: s.append(frame, derive=False), r"\['mag'\] appear more than once")


@contextlib.contextmanager
def read_only(folder: Path):  # noqa: ANN201
    """``folder`` on a read-only bind mount (a real EROFS, even for root); a plain chmod 555 for other users."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            yield folder
        finally:
            os.chmod(folder, 0o755)
        return
    mount = folder.with_name(folder.name + "-ro")
    mount.mkdir()
    subprocess.run(["mount", "--bind", str(folder), str(mount)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mount)], check=True)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        mount.rmdir()


@case("store", "issue: writing to a read-only store gave a raw PermissionError")
def store_read_only(work: Path) -> tuple[str, str]:
    from gmlearn.store import FeatureStore

    s = store_copy(work)
    frame = s.to_frame(dropna=False).iloc[:3].assign(record_id=lambda d: d["record_id"] + "_ro")
    with read_only(s.path) as ro:
        return refused(lambda: FeatureStore(ro).append(frame, derive=False), "read-only")


@case("store", "`gmlearn data verify` on a corrupt store")
def cli_data_verify_corrupt(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    p = part(s)
    p.write_bytes(p.read_bytes()[:-50] + b"\x00" * 50)
    return cli_refused(cli("data", "verify", s.path), f"part file {p.relative_to(s.path)}")


@case("store", "issue: `gmlearn data describe` on a store with a missing part")
def cli_describe_missing_part(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    part(s).unlink()
    return cli_refused(cli("data", "describe", s.path), "is missing")


# -- units ---------------------------------------------------------------------------------------------
@case("units", "issue: PGA/SA in cm/s^2 with values <= 20 were stored as g")
def flatfile_cm_s2_small_values(work: Path) -> tuple[str, str]:
    f = flat(work).drop(columns=["PGV"])
    f[["PGA", "SA(1.0)"]] *= 980.665
    f = f[(f[["PGA", "SA(1.0)"]] <= 20).all(axis=1)]
    return refused(lambda: read_flat(f, work), r"look like cm/s² \(gal\)")


@case("units", "issue: with PGV present the error blamed PGV and its fix ingested both wrongly")
def flatfile_cm_s2_with_pgv_fix_is_right(work: Path) -> tuple[str, str]:
    from gmlearn.exceptions import FlatfileError
    from gmlearn.store.validation import to_canonical

    f = flat(work)
    g = f.copy()
    f[["PGA", "SA(1.0)"]] *= 980.665
    f = f[(f[["PGA", "SA(1.0)"]] <= 20).all(axis=1)].reset_index(drop=True)
    cols = {c: c for c in ("record_id", "event_id", "station_id", "mag", "vs30", "rrup", "rjb", "repi")}
    imts = {"PGA": "PGA", "SA(1.0)": "SA(1.0)", "PGV": "PGV"}
    try:
        to_canonical(f, cols, imts, file="flat.csv")
        return "silent_wrong_output", "accepted"
    except FlatfileError as exc:
        text = str(exc)
    if "column 'PGA'" not in text or "acc_unit='cm/s2'" not in text:
        return "silent_wrong_output", f"wrong column or fix: {text[:160]}"
    fixed = to_canonical(f, cols, imts, file="flat.csv", acc_unit="cm/s2")
    want = g.set_index("record_id").loc[fixed["record_id"]]
    ok = np.allclose(np.exp(fixed["PGA"]), want["PGA"], rtol=1e-9) and np.allclose(np.exp(fixed["PGV"]), want["PGV"])
    return ("handled", "PGA blamed; acc_unit='cm/s2' restores the g values") if ok else ("silent_wrong_output", "fix wrong")


@case("units")
def flatfile_pgv_in_m_s(work: Path) -> tuple[str, str]:
    f = flat(work)
    f["PGV"] /= 100
    return refused(lambda: read_flat(f, work), "PGV looks like the wrong unit.*pgv_unit='m/s'")


@case("units")
def flatfile_sa_in_cm_s2_pga_in_g(work: Path) -> tuple[str, str]:
    f = flat(work)
    f["SA(1.0)"] *= 980.665
    return refused(lambda: read_flat(f, work), r"SA\(1.0\) looks like cm/s² while PGA is in g")


@case("units")
def flatfile_pga_in_m_s2_over_20(work: Path) -> tuple[str, str]:
    f = flat(work)
    f[["PGA", "SA(1.0)"]] *= 9.80665 * 3
    return refused(lambda: read_flat(f, work), "must lie in|look like")


def _at2_unit(line3: str, scale: float) -> Callable[[Path], tuple[str, str]]:
    def run(work: Path) -> tuple[str, str]:
        from gmlearn.waveform.records import read_at2

        ref, _, _ = read_at2(at2(work))
        acc, _, header = read_at2(at2(work, line3=line3, scale=scale))
        if np.allclose(acc, ref, rtol=1e-6, atol=1e-12):
            return "handled", f"read as {header['unit']} and converted to g"
        return "silent_wrong_output", f"values off by {np.nanmax(np.abs(acc)) / np.nanmax(np.abs(ref)):.3g}x"
    return run


@case("units", "issue: 'UNITS OF GAL' was read as g")
def at2_units_of_gal(work: Path) -> tuple[str, str]:
    return _at2_unit("ACCELERATION TIME SERIES IN UNITS OF GAL", 980.665)(work)


@case("units", "issue: 'CM/S/S (AVERAGE)' was read as g")
def at2_cm_s_s_average(work: Path) -> tuple[str, str]:
    return _at2_unit("CM/S/S (AVERAGE)", 980.665)(work)


@case("units")
def at2_m_s_s(work: Path) -> tuple[str, str]:
    return _at2_unit("ACCELERATION IN M/S/S", 9.80665)(work)


@case("units")
def at2_unknown_unit(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_at2

    return refused(lambda: read_at2(at2(work, line3="ACCELERATION IN FT/S/S")), "line 3 states no acceleration unit")


@case("units", "issue: DT 1e-300 gave zero spectra")
def at2_dt_1e_300(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_at2

    return refused(lambda: read_at2(at2(work, line4="NPTS=   7278, DT=   1E-300 SEC")), "DT must be a time step")


@case("units", "issue: DT 1e6 asked for 2.65 TiB")
def at2_dt_1e6(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_at2

    return refused(lambda: read_at2(at2(work, line4="NPTS=   7278, DT=   1E6 SEC")), "DT must be a time step")


@case("units", "issue: NPTS 0 crashed the metrics")
def at2_npts_0(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_at2

    return refused(lambda: read_at2(at2(work, line4="NPTS=   0, DT=   .0050 SEC")), "NPTS must be between")


@case("units")
def at2_npts_mismatch(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_at2

    return refused(lambda: read_at2(at2(work, line4="NPTS=   9000, DT=   .0050 SEC")), "declares NPTS=9000")


@case("units", "issue: FEMA CSVs with NaN were accepted")
def fema_nan(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_fema_csv

    return refused(lambda: read_fema_csv(fema(work, ["0.01"] * 20 + ["nan"] + ["0.01"] * 20)), "NaN or inf")


@case("units", "issue: FEMA CSVs with inf were accepted")
def fema_inf(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_fema_csv

    return refused(lambda: read_fema_csv(fema(work, ["0.01"] * 20 + ["inf"] + ["0.01"] * 20)), "NaN or inf")


@case("units")
def fema_other_unit_header(work: Path) -> tuple[str, str]:
    from gmlearn.waveform.records import read_fema_csv

    path = work / "f.csv"
    path.write_text("time_s,acc_cm_s2\n" + "\n".join(f"{0.01 * i:.2f},1.0" for i in range(40)) + "\n")
    return refused(lambda: read_fema_csv(path), "header must be 'time_s,acc_g'")


# -- geometry ------------------------------------------------------------------------------------------
@case("geometry", "issue: rjb = 300 with rrup = 10 was accepted")
def rjb_300_rrup_10(work: Path) -> tuple[str, str]:
    f = flat(work)
    f.loc[5, ["rjb", "rrup"]] = [300.0, 10.0]
    return refused(lambda: read_flat(f, work), "rjb = 300 km exceeds rrup = 10 km")


@case("geometry")
def rjb_far_beyond_repi(work: Path) -> tuple[str, str]:
    f = flat(work)
    f.loc[7, "repi"] = 1.0
    f.loc[7, ["rjb", "rrup"]] = [80.0, 81.0]
    return refused(lambda: read_flat(f, work), "rjb = 80 km exceeds repi = 1 km")


@case("geometry", "issue: a duplicate mag column was silently ignored")
def duplicate_mag_column(work: Path) -> tuple[str, str]:
    f = flat(work)
    text = f.to_csv(index=False).splitlines()
    mags = (f["mag"] + 1).round(2).astype(str).tolist()
    lines = [text[0] + ",mag"] + [f"{row},{m}" for row, m in zip(text[1:], mags, strict=True)]
    (work / "dup.csv").write_text("\n".join(lines) + "\n")
    from gmlearn.store.readers import read_flatfile

    return refused(lambda: read_flatfile(work / "dup.csv"), "column 'mag' appears twice")


@case("geometry")
def negative_distance(work: Path) -> tuple[str, str]:
    f = flat(work)
    f.loc[3, "rrup"] = -5.0
    return refused(lambda: read_flat(f, work), "'rrup'")


@case("geometry")
def nan_magnitude(work: Path) -> tuple[str, str]:
    f = flat(work)
    f.loc[3, "mag"] = np.nan
    return refused(lambda: read_flat(f, work), "'mag' is missing")


@case("geometry", "issue: streamed predict counted 18 074 out-of-range rows, the CSV path 714 276")
def out_of_range_counts_agree(work: Path) -> tuple[str, str]:
    import warnings

    from gmlearn.distributed.predict import predict_csv, predict_parquet
    from gmlearn.exceptions import OutOfRangeWarning

    model = load(work / "model")
    table = pd.read_csv(work / "features.csv")
    table.to_parquet(work / "f.parquet", row_group_size=97)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OutOfRangeWarning)
        model.predict(table)
    whole: dict[str, int] = {}
    for w in caught:
        if issubclass(w.category, OutOfRangeWarning):
            text = str(w.message)
            name = text.split(" have ")[1].split(" outside")[0] if " have " in text else "domain"
            whole[name] = whole.get(name, 0) + int(text.split(": ", 1)[1].split(" ")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = predict_parquet(model, work / "f.parquet", work / "o", chunk_rows=97).out_of_range_rows
        b = predict_csv(model, work / "features.csv", work / "o.csv", chunk_rows=113).out_of_range_rows
    if whole and a == b == whole:
        return "handled", f"whole table, Parquet stream and CSV stream all count {whole}"
    return "silent_wrong_output", f"whole {whole}, parquet {a}, csv {b}"


# -- CLI (safe outputs and one-line errors) ------------------------------------------------------------
def _survives(folder: Path, before: dict[str, bytes]) -> bool:
    return all((folder / k).is_file() and (folder / k).read_bytes() == v for k, v in before.items())


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _overwrite_case(work: Path, target: Path, *args: str) -> tuple[str, str]:
    before = _snapshot(target)
    done = cli(*args)
    if not _survives(target, before):
        return "data_loss", f"exit {done.returncode}: {target.name} was replaced or deleted"
    return cli_refused(done)


@case("cli", "issue: `predict --out STORE --overwrite` replaced a feature store")
def cli_predict_overwrites_store(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    return _overwrite_case(work, s.path, "predict", work / "model", work / "features.csv", "--out", s.path, "--overwrite")


@case("cli", "issue: `predict --out INPUT_FOLDER --overwrite` wiped the input folder")
def cli_predict_overwrites_input_folder(work: Path) -> tuple[str, str]:
    (work / "inputs").mkdir()
    table = pd.read_csv(work / "features.csv")
    table.to_parquet(work / "inputs" / "a.parquet")
    return _overwrite_case(work, work / "inputs", "predict", work / "model", work / "inputs", "--out", work / "inputs",
                           "--overwrite")


@case("cli", "issue: `predict --overwrite` wiped an unrelated folder holding a thesis")
def cli_predict_overwrites_thesis(work: Path) -> tuple[str, str]:
    (work / "thesis").mkdir()
    (work / "thesis" / "thesis.tex").write_text("\\chapter{Years of work}\n")
    table = pd.read_csv(work / "features.csv")
    table.to_parquet(work / "f.parquet")
    return _overwrite_case(work, work / "thesis", "predict", work / "model", work / "f.parquet", "--out",
                           work / "thesis", "--overwrite")


@case("cli", "issue: `train --overwrite` replaced a foreign folder")
def cli_train_overwrites_thesis(work: Path) -> tuple[str, str]:
    (work / "thesis").mkdir()
    (work / "thesis" / "thesis.tex").write_text("\\chapter{Years of work}\n")
    return _overwrite_case(work, work / "thesis", "train", "--dataset", "nzsmd", "--imts", "PGA", "--out",
                           work / "thesis", "--overwrite")


@case("cli", "issue: `data ingest` into a read-only store gave a raw PermissionError")
def cli_ingest_read_only_store(work: Path) -> tuple[str, str]:
    s = store_copy(work)
    flat(work).assign(record_id=lambda d: d["record_id"] + "_n").to_csv(work / "flat.csv", index=False)
    with read_only(s.path) as ro:
        return cli_refused(cli("data", "ingest", work / "flat.csv", "--store", ro), "read-only")


@case("cli", "issue: a truncated .gz catalogue ended in 'Aborted.'")
def cli_catalog_truncated_gz(work: Path) -> tuple[str, str]:
    src = (SHARED / "catalog_geonet_nz" / "MLNZ20_RapidEvents_2024.csv.gz").read_bytes()
    (work / "cat.csv.gz").write_bytes(src[: len(src) // 2])
    return cli_refused(cli("catalog", "read", work / "cat.csv.gz"))


@case("cli", "issue: a truncated GNSS file ended in 'Aborted.'")
def cli_geodesy_truncated_gz(work: Path) -> tuple[str, str]:
    src = (SHARED / "gnss_pbo_nam08" / "pbo.final_nam08.vel.gz").read_bytes()
    (work / "v.vel.gz").write_bytes(src[: len(src) // 3])
    return cli_refused(cli("geodesy", "read", work / "v.vel.gz"))


@case("cli", "issue: a GNSS file of random bytes read as 0 rows with exit 0")
def cli_geodesy_random_bytes(work: Path) -> tuple[str, str]:
    (work / "r.vel").write_bytes(np.random.default_rng(0).bytes(4096))
    return cli_refused(cli("geodesy", "read", work / "r.vel"))


@case("cli", "issue: `catalog smooth` with all events at one time gave 'error: inf'")
def cli_catalog_smooth_one_time(work: Path) -> tuple[str, str]:
    src = pd.read_csv(SHARED / "catalog_geonet_nz" / "MLNZ20_RapidEvents_2024.csv.gz", nrows=400)
    time_cols = [c for c in src.columns if c == "OT" or "time" in c.lower() or "date" in c.lower()]
    if not time_cols:
        return "unhandled_traceback", f"no origin-time column in {list(src.columns)}"
    for c in time_cols:
        src[c] = src[c].iloc[0]
    src.to_csv(work / "same.csv", index=False)
    done = cli("catalog", "smooth", work / "same.csv", "-o", work / "s.xml", "--format", "mlnz20")
    text = done.stdout + done.stderr
    if done.returncode == 2 and re.search(r"error: inf\s*$", text.strip()):
        return "unhandled_traceback", "exit 2 but the message is 'error: inf' (names nothing)"
    if done.returncode == 0:
        xml = (work / "s.xml").read_text() if (work / "s.xml").exists() else ""
        if re.search(r"\b(inf|nan)\b", xml, re.IGNORECASE) or not xml:
            return "silent_wrong_output", "exit 0 with non-finite rates (or no file)"
        return "handled", "exit 0: a finite source model"
    return cli_refused(done)


@case("cli", "issue: `geodesy strain` with 2 stations gave a KeyError traceback")
def cli_geodesy_strain_two_stations(work: Path) -> tuple[str, str]:
    src = pd.read_csv(SHARED / "gnss_pbo_nam08" / "pbo_nam08_velocities_per_station.csv.gz", nrows=2)
    src.to_csv(work / "two.csv", index=False)
    return cli_refused(cli("geodesy", "strain", work / "two.csv", "--format", "csv"))


@case("cli", "a model folder that is not a model")
def cli_predict_not_a_model(work: Path) -> tuple[str, str]:
    (work / "nomodel").mkdir()
    return cli_refused(cli("predict", work / "nomodel", work / "features.csv", "-o", work / "p.csv"), "metadata.json")


@case("cli")
def cli_predict_missing_feature(work: Path) -> tuple[str, str]:
    pd.read_csv(work / "features.csv").drop(columns=["mag"]).to_csv(work / "nomag.csv", index=False)
    return cli_refused(cli("predict", work / "model", work / "nomag.csv", "-o", work / "p.csv"), "mag")


@case("cli")
def cli_ingest_cm_s2_flatfile(work: Path) -> tuple[str, str]:
    f = flat(work).drop(columns=["PGV"])
    f[["PGA", "SA(1.0)"]] *= 980.665
    f[(f[["PGA", "SA(1.0)"]] <= 20).all(axis=1)].to_csv(work / "cms2.csv", index=False)
    return cli_refused(cli("data", "ingest", work / "cms2.csv", "--store", work / "new"), "cm/s²")


# -- driver --------------------------------------------------------------------------------------------
def _fixtures(work: Path) -> None:
    """Model, store and features shared (read-only) by every case."""
    import warnings

    from gmlearn import datasets
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM
    from gmlearn.store import FeatureStore

    warnings.simplefilter("ignore")
    nz = datasets.load("nzsmd")
    crustal = nz[nz["tectonic_region"] == "crustal"]
    crustal = crustal[crustal["event_id"].isin(crustal["event_id"].drop_duplicates().iloc[:40])].reset_index(drop=True)
    model = TreeGMM(n_estimators=40, learning_rate=0.2, n_jobs=1, random_state=0).fit(crustal, ["PGA", "SA(1.0)"])
    save_model(model, work / "model")
    FeatureStore.create(work / "store").append(nz.iloc[:300], derive=False)
    cols = list(dict.fromkeys(["record_id", *model.required_features]))
    nz[cols].dropna(subset=list(model.required_features)).iloc[:1000].to_csv(work / "features.csv", index=False)


def _run_case(name: str, work: Path) -> dict[str, Any]:
    group, note, _ = CASES[name]
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))
    for item in ("model", "store", "features.csv"):
        src = work / "_fixtures" / item
        (folder / item).symlink_to(src) if item == "features.csv" else shutil.copytree(src, folder / item)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--case", name, "--work", str(folder)], capture_output=True,
                          text=True, env=ENV, timeout=900, cwd=ROOT)
    seconds = time.perf_counter() - t0
    text = done.stdout.strip().splitlines()
    if done.returncode < 0 or done.returncode >= 128:
        sig = -done.returncode if done.returncode < 0 else done.returncode - 128
        outcome, detail = "crash", f"killed by signal {sig} ({signal.Signals(sig).name})"
    elif done.returncode != 0 or not text:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        outcome, detail = "unhandled_traceback", last[:200]
    else:
        verdict = json.loads(text[-1])
        outcome, detail = verdict["outcome"], verdict["detail"]
    detail = detail.replace(str(folder), "<case>").replace(str(work), "<work>")
    with contextlib.suppress(OSError):
        for p in folder.rglob("*"):
            if p.is_dir() and not p.is_symlink():
                os.chmod(p, 0o755)
        shutil.rmtree(folder, ignore_errors=True)
    return {"case": name, "group": group, "from_issue": note.startswith("issue:"), "note": note, "outcome": outcome,
            "detail": detail, "seconds": round(seconds, 2)}


_WRITER = """
import sys, time, pandas as pd
from pathlib import Path
from gmlearn.store import FeatureStore
table = pd.read_parquet(sys.argv[2])
while not Path(sys.argv[3]).exists():
    time.sleep(0.005)
try:
    FeatureStore(sys.argv[1]).append(table, derive=False)
    print("OK")
except Exception as exc:
    print("FAILED", type(exc).__name__, str(exc)[:200])
"""


def _concurrent(work: Path, trials: int) -> dict[str, Any]:
    """``trials`` x two processes appending 200 records each to a 200-record store at once."""
    import warnings

    from gmlearn import datasets
    from gmlearn.store import FeatureStore

    warnings.simplefilter("ignore")
    nz = datasets.load("nzsmd").iloc[:600].reset_index(drop=True)
    base = work / "cbase"
    FeatureStore.create(base).append(nz.iloc[:200], derive=False)
    nz.iloc[200:400].to_parquet(work / "w1.parquet")
    nz.iloc[400:600].to_parquet(work / "w2.parquet")
    lost, outcomes = 0, []
    for t in range(trials):
        target = work / f"c{t}"
        shutil.copytree(base, target)
        go = work / f"go{t}"
        procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(target), str(work / f"w{k}.parquet"), str(go)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for k in (1, 2)]
        time.sleep(2.5)  # both processes imported and waiting
        go.touch()
        outs = [p.communicate(timeout=600) for p in procs]
        n = len(FeatureStore(target))
        lost += 600 - n
        kinds = ["crash" if p.returncode < 0 else "traceback" if p.returncode else o[0].strip().split(" ")[0]
                 for p, o in zip(procs, outs, strict=True)]
        outcomes.append({"trial": t, "writers": kinds, "records": n})
        shutil.rmtree(target, ignore_errors=True)
    both = sum(o["writers"] == ["OK", "OK"] for o in outcomes)
    return {"trials": trials, "lost_records": lost, "both_landed": both, "outcomes": outcomes}


def _append_two(work: Path, rows: int) -> dict[str, Any]:
    """Seconds and peak memory to append 2 records to a store of ``rows`` records (child process)."""
    import warnings

    from gmlearn import datasets
    from gmlearn.store import FeatureStore

    warnings.simplefilter("ignore")
    nz = datasets.load("nzsmd")
    reps = -(-rows // len(nz))
    big = pd.concat([nz.assign(record_id=nz["record_id"] + f"_{k}") for k in range(reps)], ignore_index=True).iloc[:rows]
    t0 = time.perf_counter()
    store = FeatureStore.create(work / "big").append(big, derive=False)
    build = time.perf_counter() - t0
    nz.iloc[:2].assign(record_id=lambda d: d["record_id"] + "_new").to_parquet(work / "two.parquet")
    code = ("import sys, time, pandas as pd\nfrom gmlearn.store import FeatureStore\nt=time.perf_counter()\n"
            "FeatureStore(sys.argv[1]).append(pd.read_parquet(sys.argv[2]), derive=False)\nprint(time.perf_counter()-t)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(store.path), str(work / "two.parquet")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    peak = _peak(proc)
    out, err = proc.communicate()
    seconds = float(out.strip().splitlines()[-1]) if proc.returncode == 0 else float("nan")
    after = FeatureStore(store.path)
    shutil.rmtree(work / "big", ignore_errors=True)
    return {"store_rows": rows, "build_seconds": round(build, 1), "append_2_rows_seconds": round(seconds, 2),
            "append_2_rows_peak_rss_mb": round(peak / 2**20), "records_after": len(after), "error": err[-300:] if proc.returncode else ""}


def _peak(proc: subprocess.Popen) -> int:
    import psutil

    parent = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        time.sleep(0.05)
    return peak


def _csv_memory(work: Path, rows: int, seed: int = 0) -> dict[str, Any]:
    """Peak RSS of `gmlearn predict MODEL in.csv -o out.csv` on ``rows`` rows (scale.py's model and rows)."""
    import warnings

    from gmlearn import datasets
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM

    warnings.simplefilter("ignore")
    imts = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
    table = datasets.load("nzsmd")
    table = table[table["tectonic_region"] == "crustal"].reset_index(drop=True)
    model = TreeGMM(random_state=seed, n_jobs=1).fit(table, imts)
    save_model(model, work / "csv_model")
    features = list(dict.fromkeys(model.required_features))
    base = table[features].dropna().reset_index(drop=True)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with open(work / "in.csv", "w") as fh:
        for start in range(0, rows, 250_000):
            m = min(250_000, rows - start)
            chunk = base.iloc[rng.integers(0, len(base), m)].reset_index(drop=True)
            chunk["mag"] = np.clip(chunk["mag"] + rng.normal(0, 0.2, m), 3.5, 7.8)
            scale = np.exp(rng.normal(0, 0.2, m))
            chunk["rjb"] = chunk["rjb"] * scale
            chunk["rrup"] = np.maximum(chunk["rrup"] * scale, chunk["rjb"])
            chunk.to_csv(fh, index=False, header=start == 0, float_format="%.6g")
    write = time.perf_counter() - t0
    proc = subprocess.Popen([sys.executable, "-m", "gmlearn.cli", "predict", str(work / "csv_model"), str(work / "in.csv"),
                             "-o", str(work / "out.csv")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV, cwd=ROOT)
    t0 = time.perf_counter()
    peak = _peak(proc)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    with open(work / "out.csv") as fh:
        n_out = sum(1 for _ in fh) - 1 if proc.returncode == 0 else 0
    sizes = {"in_mb": round((work / "in.csv").stat().st_size / 1e6), "out_mb": round((work / "out.csv").stat().st_size / 1e6)
             if (work / "out.csv").exists() else 0}
    for f in ("in.csv", "out.csv"):
        (work / f).unlink(missing_ok=True)
    return {"rows": rows, "rows_written": n_out, "exit_code": proc.returncode, "seconds": round(seconds, 1),
            "write_input_seconds": round(write, 1), "peak_rss_mb": round(peak / 2**20), **sizes,
            "error": err[-300:] if proc.returncode else ""}


def _args_without_work(argv: list[str]) -> list[str]:
    """The command-line arguments less ``--work DIR`` (a scratch folder; it does not change the results)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--work":
            skip = True
        elif not arg.startswith("--work="):
            out.append(arg)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the CSV prediction memory run (0: skip)")
    parser.add_argument("--trials", type=int, default=20, help="concurrent-append trials")
    parser.add_argument("--store-rows", type=int, default=1_000_000, help="records of the append-2-rows store (0: skip)")
    parser.add_argument("--only", nargs="*", help="run only these cases (no JSON written)")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:  # child: run one case, print its verdict
        import warnings

        warnings.simplefilter("ignore")
        outcome, detail = CASES[args.case][2](args.work)
        print(json.dumps({"outcome": outcome, "detail": detail}))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="gmlearn-reliability-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "_fixtures").mkdir(exist_ok=True)
    if not (work / "_fixtures" / "model").exists():
        _fixtures(work / "_fixtures")
    names = args.only or list(CASES)
    rows = []
    for name in names:
        row = _run_case(name, work)
        rows.append(row)
        print(f"{row['group']:9s} {name:42s} {row['outcome']:20s} {row['detail'][:90]}", flush=True)
    if args.only:
        return
    concurrent = _concurrent(work, args.trials) if args.trials else {"trials": 0, "lost_records": None}
    print(f"concurrent appends: {concurrent['trials']} trials, {concurrent['lost_records']} records lost", flush=True)
    append = _append_two(work, args.store_rows) if args.store_rows else {}
    print(f"append 2 rows: {append}", flush=True)
    memory = _csv_memory(work, args.rows) if args.rows else {}
    print(f"CSV predict: {memory}", flush=True)
    count = {k: sum(r["outcome"] == k for r in rows) for k in
             ("handled", "unhandled_traceback", "silent_wrong_output", "data_loss", "crash")}
    summary = {
        "cases_tried": len(rows),
        "cases_from_issue": sum(r["from_issue"] for r in rows),
        "handled": count["handled"],
        "unhandled_tracebacks": count["unhandled_traceback"],
        "silent_wrong_outputs": count["silent_wrong_output"],
        "data_loss_cases": count["data_loss"],
        "crashes": count["crash"],
        "not_handled_cases": [r["case"] for r in rows if r["outcome"] != "handled"],
        "not_handled_cli_cases": [r["case"] for r in rows if r["outcome"] != "handled" and r["group"] == "cli"],
        "concurrent_append_trials": concurrent["trials"],
        "concurrent_append_lost_records": concurrent["lost_records"],
        "concurrent_append_both_landed": concurrent.get("both_landed"),
        "peak_rss_mb_10m_csv_predict": memory.get("peak_rss_mb"),
        "csv_predict_rows": memory.get("rows"),
        "csv_predict_seconds": memory.get("seconds"),
        "append_2_rows_seconds": append.get("append_2_rows_seconds"),
        "append_2_rows_peak_rss_mb": append.get("append_2_rows_peak_rss_mb"),
        "append_store_rows": append.get("store_rows"),
    }
    payload = {
        "benchmark": "reliability",
        "command": " ".join(["python benchmarks/reliability.py", *_args_without_work(sys.argv[1:])]),
        "data": "bundled nzsmd (model, store, flatfiles); ../shared/data PEER AT2 RSN125, GeoNet MLNZ20 2024 "
                "catalogue, PBO NAM08 velocities",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "rows": rows,
        "concurrent_appends": concurrent,
        "append_2_rows": append,
        "csv_predict_memory": memory,
        "summary": summary,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reliability.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
