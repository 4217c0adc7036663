"""The numbered tutorials in notebooks/ run top to bottom (small settings) so they never rot.

Each notebook reads ``GMLEARN_NOTEBOOK_QUICK=1`` (small models and grids) and writes into
``GMLEARN_NOTEBOOK_WORKDIR``; its own ``assert`` cells check the numbers it shows. The
notebooks share one kernel (its namespace is reset between them with ``%reset -f``), so
heavy imports (OpenQuake, XGBoost, shap) are paid once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_tutorial_is_numbered_and_listed():
    names = [p.name for p in NOTEBOOKS]
    assert names[:1] == ["01_train_and_evaluate.ipynb"] and len(names) >= 4
    readme = (ROOT / "notebooks" / "README.md").read_text()
    assert all(name in readme for name in names)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, shared_data):
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path_factory.mktemp("notebooks")
    env = {"GMLEARN_NOTEBOOK_QUICK": "1", "GMLEARN_NOTEBOOK_WORKDIR": str(work), "GMLEARN_SHARED_DATA": str(shared_data),
           "GMLEARN_REPO": str(ROOT), "MPLBACKEND": "Agg"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        client = NotebookClient(nbformat.v4.new_notebook(), timeout=300, kernel_name="python3", shutdown_kernel="immediate",
                                resources={"metadata": {"path": str(ROOT / "notebooks")}})
        with client.setup_kernel():

            def run(path: Path):
                book = nbformat.read(path, as_version=4)
                client.nb = book
                client.execute_cell(nbformat.v4.new_code_cell("%reset -f"), 0)
                for index, cell in enumerate(book.cells):
                    client.execute_cell(cell, index)  # raises CellExecutionError naming the cell
                return book

            yield run


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel):
    book = kernel(path)
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]
