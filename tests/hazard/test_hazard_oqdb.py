"""``gmlearn hazard run`` writes into OpenQuake's own job database and datastore folder by default."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("openquake.hazardlib")
ROOT = Path(__file__).resolve().parents[2]
JOB = ROOT / "docs" / "examples" / "hazard_scenario" / "job.ini"


def _oq(args: list[str], tmp: Path, cfg: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OQ_CONFIG_FILE": str(cfg), "OQ_DATADIR": str(tmp / "oqdata"),
           "HOME": str(tmp), "OQ_DISTRIBUTE": "no"}
    env.pop("GMLEARN_DATA_DIR", None)
    code = "import sys, gmlearn.hazard.gsim; from openquake.commands.__main__ import oq; sys.argv = ['oq', *sys.argv[1:]]; oq()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def own_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """OpenQuake's own database and datastore folder, as openquake.cfg and OQ_DATADIR would set them, in tmp_path."""
    from openquake.commonlib import dbapi

    db_file = tmp_path / "oq" / "db.sqlite3"  # stands for ~/oqdata/db.sqlite3
    (tmp_path / "openquake.cfg").write_text(f"[dbserver]\nfile = {db_file}\nhost = 127.0.0.1\n")
    monkeypatch.setattr(dbapi.db, "args", (str(db_file), *dbapi.db.args[1:]))
    monkeypatch.setattr(dbapi.db, "local", threading.local())
    monkeypatch.setenv("OQ_DATADIR", str(tmp_path / "oqdata"))
    monkeypatch.delenv("GMLEARN_DATA_DIR", raising=False)
    yield tmp_path
    conn = getattr(dbapi.db.local, "conn", None)
    if conn is not None:
        conn.close()


def test_run_records_its_calculation_and_outputs_in_openquakes_database(own_db: Path) -> None:
    from openquake.calculators.export import export
    from openquake.commonlib import datastore, logs

    from gmlearn import hazard

    first = hazard.run(JOB, params={"number_of_ground_motion_fields": "2"})
    second = hazard.run(JOB, params={"number_of_ground_motion_fields": "2"})
    assert (first.calc_id, second.calc_id) == (1, 2)
    assert Path(second.datastore) == own_db / "oqdata" / "calc_2.hdf5"
    assert [tuple(r) for r in logs.dbcmd("SELECT id, status, calculation_mode FROM job ORDER BY id")] == [
        (1, "complete", "scenario"), (2, "complete", "scenario")]
    assert any("Ground Motion Fields" in line for line in logs.dbcmd("list_outputs", 2, False))
    with datastore.read(2) as ds:  # what `oq export gmf_data 2 -d DIR` does
        (own_db / "export").mkdir()
        ds.export_dir = str(own_db / "export")
        files = export(("gmf_data", "csv"), ds)
    assert files and all(Path(f).is_file() and Path(f).parent == own_db / "export" for f in files)


@pytest.mark.slow
def test_stock_oq_and_gmlearn_share_one_id_sequence(own_db: Path) -> None:
    from gmlearn import hazard

    cfg = own_db / "openquake.cfg"
    stock = _oq(["engine", "--run", str(JOB)], own_db, cfg)  # OpenQuake's own run first: calc 1
    assert stock.returncode == 0, stock.stderr[-2000:]
    result = hazard.run(JOB, params={"number_of_ground_motion_fields": "2"})
    assert result.calc_id == 2  # the next id of OpenQuake's sequence, not a private one that clashes
    listed = _oq(["engine", "--lhc"], own_db, cfg)
    assert listed.returncode == 0, listed.stderr[-2000:]
    rows = [[c.strip() for c in line.split("|")] for line in listed.stdout.splitlines() if "|" in line]
    assert [(r[0], r[2]) for r in rows[1:]] == [("1", "complete"), ("2", "complete")]
