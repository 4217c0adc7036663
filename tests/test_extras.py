"""Optional dependencies: a missing one is reported in one line naming the extra that installs it."""

from __future__ import annotations

import sys

import pytest

from gmlearn.extras import EXTRAS, MissingExtraError, missing_extra_message, require


def test_every_extra_named_exists_in_pyproject() -> None:
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert set(EXTRAS.values()) <= set(extras)
    assert "shap>=0.44" in extras["explain"] and "gmlearn[test,bnn,explain,bench,waveform,distributed,docs]" in extras["all"]


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap now raises ModuleNotFoundError
    with pytest.raises(MissingExtraError, match=r"^SHAP reports needs the optional dependency 'shap', which is not "
                                                r"installed; install it with: pip install 'gmlearn\[explain\]'$"):
        require("shap", "SHAP reports")
    assert require("json", "anything").dumps([1]) == "[1]"
    with pytest.raises(ModuleNotFoundError) as info:
        require("no_such_module_2099", "x")  # not an optional dependency of gmlearn: the plain error
    assert not isinstance(info.value, MissingExtraError)
    assert missing_extra_message(ValueError("x")) is None


def test_cli_reports_a_missing_extra_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                 tmp_path) -> None:  # noqa: ANN001
    from gmlearn.cli import main

    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setattr(sys, "argv", ["gmlearn", "waveforms", "generate", "--mag", "6", "--rrup", "10", "--vs30", "400",
                                      "-o", str(tmp_path / "w"), "--model", "diffusion", "-n", "1"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1  # one line, no traceback
    assert "Traceback" not in err and "gmlearn waveforms generate needs the optional dependency 'torch'" in err
    assert err.endswith("pip install 'gmlearn[waveform]'")


def test_demo_skips_a_stage_whose_extra_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    import json

    from gmlearn import demo

    def _explain(ctx):  # noqa: ANN001, ANN202 - what the explain stage does first on a core install
        import shap  # noqa: F401

    monkeypatch.setitem(sys.modules, "shap", None)
    monkeypatch.setitem(demo._RUNNERS, "explain", _explain)
    index = demo.run_demo(tmp_path / "d", quick=True, stages=["explain"])
    summary = json.loads((index.parent / "demo.json").read_text())
    assert summary["stages"] == [] and summary["absent"] == ["explain"]
    assert summary["skipped"] == {"explain": "the explain stage needs the optional dependency 'shap', which is not "
                                             "installed; install it with: pip install 'gmlearn[explain]'"}
