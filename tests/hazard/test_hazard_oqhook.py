"""``_gmlearn_openquake``: the start-up hook that lets stock OpenQuake resolve ``[GMLearnGSIM]`` lazily.

Each check runs in a fresh interpreter (the hook acts at import time). The
wheel-installed ``.pth`` and ``oq engine --run`` are covered in tests/test_packaging.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("openquake.hazardlib")
ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "docs" / "examples" / "hazard_classical" / "models" / "ba08" / "metadata.json"

PROBE = r"""
import json, sys
import _gmlearn_openquake
report = {"after_startup": sorted(m for m in sys.modules if m.startswith(("gmlearn", "numpy", "openquake")))}
from openquake.hazardlib import valid
from openquake.hazardlib.gsim import base, get_available_gsims
report["registry_type"] = type(base.registry).__name__
report["gmlearn_after_oq_import"] = "gmlearn.hazard.gsim" in sys.modules
try:
    valid.gsim("Nonexistent2099")
except NameError as exc:
    report["unknown"] = str(exc)
report["get_unknown"] = base.registry.get("Nonexistent2099", "absent")
report["gmlearn_after_unknown"] = "gmlearn.hazard.gsim" in sys.modules
gsim = valid.gsim('[GMLearnGSIM]\nmodel_file = "metadata.json"', basedir="FOLDER")
report["resolved"] = type(gsim).__module__ + "." + type(gsim).__name__
report["requires"] = sorted(gsim.REQUIRES_DISTANCES | gsim.REQUIRES_SITES_PARAMETERS)
report["listed"] = "GMLearnGSIM" in get_available_gsims()
try:
    valid.gsim('[GMLearnGSIM]\nmodel_file = "metadata.json"\nepistemic_z = 1.0', basedir="FOLDER")  # the epistemic-branch form
except Exception as exc:
    report["epistemic"] = type(exc).__name__ + ": " + str(exc)
print(json.dumps(report))
"""


def _probe(code: str, **env: str) -> dict:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    out = subprocess.run([sys.executable, "-c", code.replace("FOLDER", str(MODEL.parent))], capture_output=True, text=True,
                         env=environ, cwd=ROOT.parent, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_hook_resolves_gmlearn_gsim_lazily() -> None:
    report = _probe(PROBE)
    assert report["after_startup"] == []  # the hook alone imports no gmlearn, numpy or OpenQuake
    assert report["registry_type"] == "_LazyRegistry"
    assert report["gmlearn_after_oq_import"] is False  # importing OpenQuake does not import gmlearn either
    assert report["unknown"] == "Unknown GSIM: Nonexistent2099" and report["get_unknown"] == "absent"
    assert report["gmlearn_after_unknown"] is False
    assert report["resolved"] == "gmlearn.hazard.gsim.GMLearnGSIM"
    assert report["requires"] == ["rjb", "vs30"]  # BA08's inputs, read from the model's metadata
    assert report["listed"] is True  # registered once resolved: `oq info gsims` lists it
    # the epistemic-branch form reaches gmlearn's own check (BA08 has no epistemic uncertainty)
    assert report["epistemic"].startswith("ModelError: GMLearnGSIM: epistemic_z is set but the model")


def test_hook_can_be_switched_off() -> None:
    code = PROBE.split("try:")[0] + "print(json.dumps(report))"
    assert _probe(code, GMLEARN_NO_OQ_HOOK="1")["registry_type"] == "dict"


def test_install_after_openquake_was_imported_registers_now() -> None:
    code = r"""
import json, sys
from openquake.hazardlib import valid
import _gmlearn_openquake
gsim = valid.gsim('[GMLearnGSIM]\nmodel_file = "metadata.json"', basedir="FOLDER")
print(json.dumps({"resolved": type(gsim).__name__, "finders": [type(f).__name__ for f in sys.meta_path]}))
"""
    report = _probe(code)
    assert report["resolved"] == "GMLearnGSIM" and "_Finder" not in report["finders"]
