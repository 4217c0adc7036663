"""The wheel: what it carries, and what a non-editable install of it does outside the source tree.

A wheel is built from the repository (``pip wheel --no-deps --no-build-isolation``)
and installed with ``--no-deps`` into a fresh virtual environment that sees this
environment's packages (numpy, OpenQuake, ...) through a path file, so gmlearn
itself is imported from the installed wheel, never from the checkout. Commands
run with ``PYTHONPATH`` unset, from a folder outside the repository, with a
private OpenQuake configuration (sqlite job database in a temporary folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"


def _clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH (which would put the checkout's gmlearn first)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OQ_DATABASE")}


def _source_copy(dest: Path) -> Path:
    """The files a build reads, copied, so builds never share the checkout's build/ folder (parallel workers)."""
    import shutil

    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "_gmlearn_openquake.py",
                 "gmlearn-openquake.pth"):
        shutil.copy2(ROOT / name, dest / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "gmlearn", dest / "gmlearn", ignore=skip)
    shutil.copytree(EXAMPLES, dest / "docs" / "examples", ignore=skip)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = _source_copy(tmp_path_factory.mktemp("source"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300, env=_clean_env())
    [built] = out.glob("gmlearn-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (not editable) and this environment's packages on its path."""
    root = tmp_path_factory.mktemp("venv")
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120, env=env)
    purelib = subprocess.run([str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True, env=env).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True, timeout=300, env=env)
    # after the install, so pip never sees (nor touches) this environment's gmlearn
    Path(purelib, "_host_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _env(tmp: Path) -> dict[str, str]:
    env = _clean_env()
    cfg = tmp / "openquake.cfg"
    cfg.write_text(f"[dbserver]\nfile = {tmp / 'db.sqlite3'}\nhost = 127.0.0.1\n[directory]\nshared_dir =\ncustom_tmp =\n")
    env.update(HOME=str(tmp), OQ_CONFIG_FILE=str(cfg), OQ_DATADIR=str(tmp / "oqdata"), OQ_DISTRIBUTE="no",
               MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _run(venv: Path, args: list[str], tmp: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=tmp, env=_env(tmp), capture_output=True, text=True, timeout=timeout)


def test_wheel_carries_the_openquake_hook_the_example_jobs_and_the_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        pth = zf.read("gmlearn-openquake.pth").decode()
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert pth.strip() == "import _gmlearn_openquake" and "_gmlearn_openquake.py" in names
    for example in ("hazard_classical", "hazard_scenario", "hazard_scenario_conditioned"):
        shipped = {n for n in names if n.startswith(f"gmlearn/hazard/example_jobs/{example}/")}
        source = {f"gmlearn/hazard/example_jobs/{p.relative_to(EXAMPLES).as_posix()}"
                  for p in (EXAMPLES / example).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert shipped == source and source
    assert {"gmlearn/datasets/data/nzsmd.parquet", "gmlearn/datasets/data/registry.json"} <= names
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert not any(r.startswith(("shap", "tqdm")) for r in core)
    assert any(r.startswith("shap") and "extra == \"explain\"" in r for r in requires)
    assert "gmlearn = gmlearn.cli:main" in entry


def test_editable_install_carries_the_openquake_hook_too(tmp_path: Path) -> None:
    code = "import sys; from setuptools import build_meta; print(build_meta.build_editable(sys.argv[1]))"
    (tmp_path / "source").mkdir()
    source = _source_copy(tmp_path / "source")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=source, env=_clean_env(),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    with zipfile.ZipFile(tmp_path / out.stdout.strip().splitlines()[-1]) as zf:
        names = zf.namelist()
        assert zf.read("gmlearn-openquake.pth").decode().strip() == "import _gmlearn_openquake"
    # the editable finder (which maps _gmlearn_openquake to the checkout) is installed by a .pth that runs first
    finder_pth = next(n for n in names if n.startswith("__editable__") and n.endswith(".pth"))
    assert sorted([finder_pth, "gmlearn-openquake.pth"])[0] == finder_pth


def test_installed_wheel_loads_only_the_hook_at_startup(venv: Path, tmp_path: Path) -> None:
    code = ("import sys, gmlearn, gmlearn.hazard.examples as ex; "
            "print(gmlearn.__file__); print(ex.example_dir()); "
            "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'openquake', 'gmlearn.hazard.gsim'))))")
    out = _run(venv, [str(venv / "bin" / "python"), "-c", code], tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    module, example, heavy = out.stdout.strip().splitlines()
    assert module.startswith(str(venv)) and example.startswith(str(venv))  # the wheel's copy, not the checkout
    assert heavy == "[]"


def _curves(path: Path):  # noqa: ANN202
    from gmlearn.hazard.results import read_result

    return read_result(path).hazard_curves


def test_stock_oq_engine_runs_the_classical_example(venv: Path, tmp_path: Path) -> None:
    """`oq engine --run` of a fresh install resolves [GMLearnGSIM]; its curves equal `gmlearn hazard run`'s."""
    import numpy as np

    from gmlearn import hazard

    job = EXAMPLES / "hazard_classical" / "job.ini"
    out = _run(venv, [str(venv / "bin" / "python"), "-m", "openquake.commands", "engine", "--run", str(job)], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    [calc] = (tmp_path / "oqdata").glob("calc_*.hdf5")
    stock = _curves(calc)
    ours = hazard.run(job, data_dir=tmp_path / "gmlearn").hazard_curves
    assert len(stock) == len(ours) and set(stock["kind"]) == {"mean", "rlz-000", "rlz-001"}
    native, gml = (stock[stock["kind"] == k]["poe"].to_numpy() for k in ("rlz-000", "rlz-001"))
    assert (gml > 1e-3).sum() > 100  # the gmlearn branch gives real hazard, and the native BA08 the same
    np.testing.assert_allclose(gml, native, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(stock["poe"].to_numpy(), ours["poe"].to_numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("job", ["hazard_classical/job_event_based.ini", "hazard_classical/job_disaggregation.ini",
                                 "hazard_classical/job_conditional_spectrum.ini", "hazard_scenario/job.ini",
                                 "hazard_scenario_conditioned/job.ini"])
def test_stock_oq_engine_runs_every_example_job_kind(venv: Path, tmp_path: Path, job: str) -> None:
    import h5py

    out = _run(venv, [str(venv / "bin" / "python"), "-m", "openquake.commands", "engine", "--run", str(EXAMPLES / job)],
               tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    [calc] = (tmp_path / "oqdata").glob("calc_*.hdf5")
    expected = {"job_event_based.ini": "gmf_data", "job_disaggregation.ini": "disagg-rlzs",
                "job_conditional_spectrum.ini": "cs-rlzs", "job.ini": "gmf_data"}[Path(job).name]
    with h5py.File(calc) as fh:
        assert expected in fh and fh[expected]


@pytest.mark.slow  # about 20 s; test_installed_wheel_loads_only_the_hook_at_startup finds the packaged job fast
def test_wheel_runs_the_demo_hazard_stage_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    import json

    import pandas as pd

    out = _run(venv, [str(venv / "bin" / "gmlearn"), "demo", "--quick", "--stages", "hazard", "--out", "demo"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads((tmp_path / "demo" / "demo.json").read_text())["stages"] == ["hazard"]
    curves = pd.read_csv(tmp_path / "demo" / "hazard" / "hazard_curves.csv")
    assert (curves["poe"] > 1e-3).sum() > 50


@pytest.mark.slow
def test_wheel_runs_the_whole_quick_demo(venv: Path, tmp_path: Path) -> None:
    import json

    out = _run(venv, [str(venv / "bin" / "gmlearn"), "demo", "--quick", "--out", "demo"], tmp_path, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((tmp_path / "demo" / "demo.json").read_text())
    assert {"store", "train", "evaluation", "hazard", "explain"} <= set(summary["stages"])
    assert summary["skipped"] == {}
