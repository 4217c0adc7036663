"""gmlearn.outputs: what an output path may replace, and the atomic folder swap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gmlearn.exceptions import OutputError
from gmlearn.outputs import MARKER, check_output, is_gmlearn_folder, output_folder


def _store(path: Path) -> Path:
    path.mkdir()
    (path / "manifest.json").write_text(json.dumps({"format": "gmlearn-feature-store"}))
    (path / "v000001").mkdir()
    (path / "v000001" / "records.parquet").write_bytes(b"PAR1")
    return path


def _foreign(path: Path) -> Path:
    path.mkdir()
    (path / "thesis.tex").write_text("three years of work")
    return path


def _marked(path: Path) -> Path:
    path.mkdir()
    (path / MARKER).write_text("{}")
    (path / "old.csv").write_text("a\n1\n")
    return path


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize(("case", "needle"), [
    ("store", "feature store"),
    ("inside-store", "feature store"),
    ("foreign", "not written by gmlearn"),
    ("input-folder", "input of this command"),
    ("holds-input", "holds an input"),
    ("cwd", "current folder"),
    ("parent-of-cwd", "current folder"),
    ("home", "home folder"),
    ("root", "root folder"),
    ("symlink", "symbolic link"),
    ("file-for-folder", "is a file"),
])
def test_folder_refused_even_with_overwrite(tmp_path, monkeypatch, overwrite, case, needle):
    inputs: list[Path] = []
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    target = {
        "store": lambda: _store(tmp_path / "store"),
        "inside-store": lambda: _store(tmp_path / "store") / "v000001",
        "foreign": lambda: _foreign(tmp_path / "thesis"),
        "cwd": lambda: Path("."),
        "parent-of-cwd": lambda: tmp_path,
        "home": Path.home,
        "root": lambda: Path("/"),
    }.get(case)
    if case in ("input-folder", "holds-input"):
        folder = _marked(tmp_path / "data")
        inputs = [folder] if case != "holds-input" else [folder / "old.csv"]
        target = lambda: folder  # noqa: E731
    elif case == "symlink":
        real = _marked(tmp_path / "real")
        (tmp_path / "link").symlink_to(real)
        target = lambda: tmp_path / "link"  # noqa: E731
    elif case == "file-for-folder":
        (tmp_path / "f.csv").write_text("x")
        target = lambda: tmp_path / "f.csv"  # noqa: E731
    path = target()
    before = sorted(p.name for p in path.iterdir()) if path.is_dir() else None
    with pytest.raises(OutputError, match=needle) as info:
        check_output(path, overwrite=overwrite, kind="folder", inputs=inputs)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    if before is not None:
        assert sorted(p.name for p in path.iterdir()) == before


def test_marked_folder_needs_overwrite(tmp_path):
    folder = _marked(tmp_path / "out")
    with pytest.raises(OutputError, match="pass --overwrite"):
        check_output(folder, overwrite=False, kind="folder")
    assert check_output(folder, overwrite=True, kind="folder") == folder
    assert check_output(tmp_path / "new", overwrite=False, kind="folder") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert check_output(tmp_path / "empty", overwrite=False, kind="folder") == tmp_path / "empty"


def test_saved_model_folder_counts_as_written_by_gmlearn(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "metadata.json").write_text(json.dumps({"format_version": 1, "gmlearn_version": "0.1.0"}))
    assert is_gmlearn_folder(model)
    (model / "metadata.json").write_text(json.dumps({"title": "someone else's metadata"}))
    assert not is_gmlearn_folder(model)


@pytest.mark.parametrize(("name", "overwrite", "suffixes", "needle"), [
    ("pred.csv", False, [".csv"], "pass --overwrite"),
    ("thesis.docx", True, [".csv"], "not a file this command writes"),
    ("input.csv", True, [".csv"], "input of this command"),
    ("folder", True, [".csv"], "is a folder"),
])
def test_file_rules(tmp_path, name, overwrite, suffixes, needle):
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    else:
        path.write_text("precious")
    inputs = [path] if name == "input.csv" else []
    with pytest.raises(OutputError, match=needle):
        check_output(path, overwrite=overwrite, kind="file", inputs=inputs, suffixes=suffixes)
    assert path.is_dir() or path.read_text() == "precious"


def test_file_replaced_with_overwrite(tmp_path):
    path = tmp_path / "pred.csv"
    path.write_text("old")
    assert check_output(path, overwrite=True, kind="file", suffixes=[".csv"]) == path


def test_output_folder_replaces_whole_and_marks(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, overwrite=False, command="test") as tmp:
        (tmp / "stations.csv").write_text("first run")
        assert not out.exists()  # nothing visible until the block succeeds
    assert (out / MARKER).is_file() and json.loads((out / MARKER).read_text())["command"] == "test"
    with output_folder(out, overwrite=True) as tmp:
        (tmp / "map.csv").write_text("second run")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "map.csv"]  # the first run's stations.csv is gone
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_output_folder_failure_keeps_old_output(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, overwrite=False) as tmp:
        (tmp / "a.csv").write_text("kept")
    with pytest.raises(RuntimeError, match="boom"), output_folder(out, overwrite=True) as tmp:
        (tmp / "b.csv").write_text("half")
        raise RuntimeError("boom")
    assert (out / "a.csv").read_text() == "kept" and not (out / "b.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_folder_restores_marker_dropped_by_writer(tmp_path):
    import shutil

    out = tmp_path / "out"
    with output_folder(out, overwrite=False) as tmp:
        shutil.rmtree(tmp)  # a writer that rebuilds its folder (e.g. predict_parquet)
        tmp.mkdir()
        (tmp / "part-0.parquet").write_bytes(b"PAR1")
    assert is_gmlearn_folder(out)


@pytest.mark.parametrize("exchange", [True, False])
def test_swap_by_exchange_or_by_two_renames(tmp_path, monkeypatch, exchange):
    """On Linux the old and new folders trade places in one renameat2 call; elsewhere two renames do it."""
    import os

    import gmlearn.outputs as outputs

    out = tmp_path / "out"
    with output_folder(out, overwrite=False) as tmp:
        (tmp / "old.csv").write_text("1")
    if exchange:
        def no_replace(*args, **kwargs):
            raise AssertionError("an existing folder must be exchanged, not renamed away")

        monkeypatch.setattr(outputs.os, "replace", no_replace)
    else:
        monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
        monkeypatch.setattr(outputs.os, "replace", os.replace)
    with output_folder(out, overwrite=True) as tmp:
        (tmp / "new.csv").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
