"""Crash safety: a save killed midway (separate process, SIGKILL) leaves the previous version intact.

The child process patches one write step so that it stops there, tells the
parent (a marker file), and sleeps; the parent then kills it with SIGKILL. So
"midway" is a chosen, repeatable point, not a race.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmlearn.gmpe.persistence import load_model, save_model
from gmlearn.store import FeatureStore
from gmlearn.store.manifest import table_files

CHILD = {
    # Half of a new records part file is on disk (under its temporary name) when the process dies.
    "store-mid-file": """
        import pandas as pd
        real = pd.DataFrame.to_parquet
        def to_parquet(self, path, *a, **k):
            if ".records-" in str(path):
                real(self, path, *a, **k)
                data = open(path, "rb").read()
                open(path, "wb").write(data[: len(data) // 2])
                stop()
            return real(self, path, *a, **k)
        pd.DataFrame.to_parquet = to_parquet
        from gmlearn.store import FeatureStore
        FeatureStore(ARGS[0]).append(pd.read_parquet(ARGS[1]), derive=False)
    """,
    # The new part files are in place, the manifest not yet replaced.
    "store-before-manifest": """
        import pandas as pd
        import gmlearn.store.writing as writing
        from gmlearn.store import FeatureStore
        writing.atomic_write_json = lambda *a, **k: stop()
        FeatureStore(ARGS[0]).append(pd.read_parquet(ARGS[1]), derive=False)
    """,
    # Overwriting a model: half a booster file written in the staging folder.
    "model-mid-file": """
        import xgboost as xgb
        from gmlearn.gmpe.persistence import load_model, save_model
        def save(self, fname):
            open(fname, "wb").write(b"\\x7b\\x00partial")
            stop()
        xgb.XGBRegressor.save_model = save
        save_model(load_model(ARGS[1]), ARGS[0], overwrite=True)
    """,
    # Overwriting a model: the old folder moved aside, the new one not yet renamed into place.
    "model-between-renames": """
        import os
        from gmlearn.gmpe import persistence
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            if os.path.basename(str(dst)) == ".m.old":
                stop()
        os.replace = replace
        persistence.save_model(persistence.load_model(ARGS[1]), ARGS[0], overwrite=True)
    """,
}

PRELUDE = """
import os, sys, time
ARGS = sys.argv[2:]
def stop():
    open(sys.argv[1], "w").write("ready")
    time.sleep(120)
"""


def _kill_midway(scenario: str, tmp_path: Path, *args: Path) -> None:
    """Run the scenario's child until it reaches its stop point, then SIGKILL it."""
    marker = tmp_path / f"{scenario}.ready"
    code = PRELUDE + textwrap.dedent(CHILD[scenario])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code, str(marker), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"child ended before its stop point (rc {proc.returncode}): {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("child never reached its stop point")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("scenario", ["store-mid-file", "store-before-manifest"])
def test_store_append_killed_midway(scenario, tmp_path, nzsmd_crustal):
    first, second = nzsmd_crustal.iloc[:60], nzsmd_crustal.iloc[60:120]
    store = FeatureStore.create(tmp_path / "store").append(first, derive=False)
    before = store.to_frame(dropna=False)
    second.to_parquet(tmp_path / "second.parquet")
    _kill_midway(scenario, tmp_path, store.path, tmp_path / "second.parquet")
    reopened = FeatureStore(store.path)
    assert reopened.version == 2 and len(reopened) == 60
    pd.testing.assert_frame_equal(reopened.to_frame(dropna=False), before)
    live = {f for t in ("events", "stations", "records") for f in table_files(reopened._meta, t)}
    debris = sorted(f"data/{p.name}" for p in (store.path / "data").iterdir() if f"data/{p.name}" not in live)
    assert debris, "the kill left no partial write behind: the stop point was not midway"
    reopened.append(second, derive=False)  # the next write cleans up and succeeds
    after = FeatureStore(store.path)
    assert len(after) == 120 and after.verify()["rows"] == 120
    live = {f for t in ("events", "stations", "records") for f in table_files(after._meta, t)}
    assert sorted(p.name for p in store.path.iterdir()) == [".lock", "data", "manifest.json"]
    leftover = {f"data/{p.name}" for p in (store.path / "data").iterdir()} - live
    assert leftover == set(after._meta["retired"])  # kept for readers until the next write; no debris


@pytest.mark.parametrize("scenario", ["model-mid-file", "model-between-renames"])
def test_model_save_killed_midway(scenario, tmp_path, small_tree, nzsmd_crustal):
    from gmlearn.gmpe.tree import TreeGMM

    path = save_model(small_tree, tmp_path / "m")
    newer = TreeGMM(n_estimators=10, learning_rate=0.3, n_jobs=1).fit(nzsmd_crustal, ["PGA"])
    save_model(newer, tmp_path / "newer")
    _kill_midway(scenario, tmp_path, path, tmp_path / "newer")
    if scenario == "model-between-renames":
        assert not path.exists() and (tmp_path / ".m.old").is_dir()  # killed inside the swap
    loaded = load_model(path)  # restores the previous model if the swap was cut short
    assert loaded.imts_ == ["PGA", "SA(1.0)"]
    np.testing.assert_array_equal(loaded.predict(nzsmd_crustal).mean, small_tree.predict(nzsmd_crustal).mean)
    save_model(newer, path, overwrite=True)  # and the next save goes through
    assert load_model(path).imts_ == ["PGA"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".m")) == []
