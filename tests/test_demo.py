"""The main job: every built stage runs and is linked from index.html; missing products are absent, not faked."""

from __future__ import annotations

import json
import re
import sys
import types

import pytest

from gmlearn.demo import STAGES, run_demo


def _links(index):
    html = index.read_text()
    return html, re.findall(r'(?:src|href)="([^"#]+)"', html)


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    steps = []
    out = tmp_path_factory.mktemp("demo") / "gmlearn-demo"
    index = run_demo(out, n_splits=2, quick=True, progress=lambda i, n, m: steps.append((i, n, m)))
    return index, steps


def test_demo_runs_every_built_stage_and_links_its_files(quick_demo):
    index, steps = quick_demo
    html, links = _links(index)
    files = [link for link in links if not link.startswith("data:")]
    assert files and all((index.parent / link).is_file() for link in files)
    summary = json.loads((index.parent / "demo.json").read_text())
    built = ["store", "train", "evaluation", "hazard", "explain"]  # the stages of this package always run
    assert [s for s in summary["stages"] if s in built] == built
    assert set(summary["stages"]) | set(summary["absent"]) == set(STAGES) == set(summary["stage_seconds"])
    assert summary["stages"] == [s for s in STAGES if s in summary["stages"]]  # in the documented order
    for stage in summary["stages"]:
        assert f'<section id="{stage}">' in html
    assert {"models/tree/metadata.json", "models/hybrid/metadata.json", "evaluation/scores.csv",
            "explain/report.html"} <= set(files)
    assert any(f.startswith("hazard/") and f.endswith("hazard_curves.csv") for f in files)
    # evaluation: learned models and GMPEs scored on the NZSMD crustal records of the store
    assert "NZSMD crustal records (2319 records, 135 events" in html
    for label in ("TreeGMM", "HybridGMM", "BSSA14", "Bradley2013"):
        assert label in html
    # the saved models keep their cross-validation scores for the model card
    meta = json.loads((index.parent / "models" / "hybrid" / "metadata.json").read_text())
    assert set(meta["metrics"]["cv_rms"]) == set(meta["imts"]) and meta["metrics"]["cv_folds"] == 2
    # hazard: a real PSHA with the demo tree model as a logic-tree branch
    import pandas as pd

    curves = pd.read_csv(index.parent / "hazard" / "hazard_curves.csv")
    assert set(curves["kind"]) == {"mean", "rlz-000", "rlz-001"} and curves["poe"].between(0, 1).all()
    native, tree = (curves[curves["kind"] == k]["poe"].to_numpy() for k in ("rlz-000", "rlz-001"))
    assert (native > 1e-3).sum() > 50 and abs(native - tree).max() > 1e-3  # two real, different branches
    assert "model_file = \"models/tree/metadata.json\"" in (index.parent / "hazard/job/gmpe_logic_tree.xml").read_text()
    # progress: one step per stage, in order, ending with done
    seen = [i for i, _, _ in steps]
    assert seen == sorted(seen) and steps[-1] == (len(STAGES), len(STAGES), "done")
    assert any(m.startswith("hazard: ") for _, _, m in steps)


def test_index_in_chromium(quick_demo, tmp_path):
    import os
    from pathlib import Path

    from gmlearn.explain.browser import check_page

    index, _ = quick_demo
    shot = Path(os.environ.get("GMLEARN_SCREENSHOT_DIR") or tmp_path) / "index.png"
    seen = check_page(index, screenshot=shot)
    assert seen.title == "gmlearn demo" and seen.console_errors == [] and seen.external_requests == []
    assert seen.images >= 3 and seen.broken_images == [] and shot.stat().st_size > 50_000


def _stub(monkeypatch, module, title, with_model):
    calls = {}

    def run(out, *, progress=None, **kwargs):
        out.mkdir(parents=True, exist_ok=True)
        (out / "map.png").write_bytes(_PNG)
        (out / "data.csv").write_text("a,b\n1,2\n")
        if progress:
            progress(1, 1, "stub")
        calls.update(kwargs)
        return {"title": title, "paragraph": f"{title} made by a stub.", "files": ["data.csv", "map.png"], "image": "map.png"}

    monkeypatch.setitem(sys.modules, module, types.SimpleNamespace(run=run))
    return calls


# a 1x1 PNG
_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_product_stages_are_absent_while_their_modules_are_missing(tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def fake_import(name, *args):
        if name in ("gmlearn.shakemap.demo", "gmlearn.waveform.demo"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, *args)

    monkeypatch.setattr("gmlearn.demo.importlib.import_module", fake_import)
    index = run_demo(tmp_path / "d", stages=["shakemap", "waveforms"], quick=True)
    html, links = _links(index)
    assert "<section" not in html and links == []
    assert json.loads((tmp_path / "d" / "demo.json").read_text())["absent"] == ["shakemap", "waveforms"]


def test_product_stages_run_and_are_linked_when_their_modules_exist(tmp_path, monkeypatch):
    shake = _stub(monkeypatch, "gmlearn.shakemap.demo", "Kaikoura 2016 shakemap", True)
    _stub(monkeypatch, "gmlearn.waveform.demo", "Generated waveforms", False)
    index = run_demo(tmp_path / "d", stages=["shakemap", "waveforms"], quick=True)
    html, links = _links(index)
    assert "Kaikoura 2016 shakemap" in html and "Generated waveforms made by a stub." in html
    assert {"shakemap/data.csv", "shakemap/map.png", "waveforms/data.csv", "waveforms/map.png"} <= set(links)
    assert type(shake["model"]).__name__ == "HybridGMM"  # the shakemap uses the demo's hybrid model
    assert json.loads((tmp_path / "d" / "demo.json").read_text())["stages"] == ["shakemap", "waveforms"]


def test_a_product_listing_files_it_did_not_write_fails(tmp_path, monkeypatch):
    def run(out, *, progress=None):
        return {"title": "t", "paragraph": "p", "files": ["nowhere.nc"], "image": None}

    monkeypatch.setitem(sys.modules, "gmlearn.waveform.demo", types.SimpleNamespace(run=run))
    with pytest.raises(ValueError, match=r"listed file\(s\) \['waveforms/nowhere.nc'\] that it did not write"):
        run_demo(tmp_path / "d", stages=["waveforms"])
    with pytest.raises(ValueError, match=r"'stages' parameter of run_demo must hold names from"):
        run_demo(tmp_path / "d", stages=["shakemaps"])
