"""``gmlearn hazard``: run OpenQuake jobs in process with gmlearn models (Typer sub-app ``app``).

Commands: ``run`` (a job.ini, with progress and a summary), ``pack`` (a
model folder into one ``.zip`` for ``model_file``), ``export-table`` (an
OpenQuake GMPETable HDF5 for stock OpenQuake) and ``branches`` (a gsim logic
tree of a Bayesian model's epistemic branches). Each calls the public API
(:func:`gmlearn.hazard.run`, :func:`gmlearn.hazard.pack_model`,
:func:`gmlearn.hazard.export_table`, :func:`gmlearn.hazard.write_epistemic_logic_tree`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gmlearn.cli_errors import fail

app = typer.Typer(
    help="Seismic hazard with OpenQuake: run jobs whose logic trees use saved gmlearn models ([GMLearnGSIM]).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)


_fail = fail
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output that gmlearn wrote (never an input or a foreign folder).")]


def _check_file(path: Path, overwrite: bool, inputs: list[Path], suffixes: list[str]) -> None:
    from gmlearn.outputs import check_output

    check_output(path, overwrite=overwrite, kind="file", inputs=inputs, suffixes=suffixes)


def _param(items: list[str], option: str = "--param", example: str = "region_grid_spacing=20") -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{option} must look like name=value (e.g. {example}). Got {item!r} instead.")
        params[key.strip()] = value.strip()
    return params


def _summary(result: Any) -> Table:
    table = Table(title=f"calculation {result.calc_id} ({result.calculation_mode})")
    table.add_column("output")
    table.add_column("rows", justify="right")
    for name, frame in result.tables().items():
        table.add_row(name, str(len(frame)))
    for name, seconds in result.timings.items():
        table.add_row(f"time: {name}", f"{seconds:.2f} s")
    table.add_row("datastore", str(result.datastore))
    return table


@app.command("run")
def run(
    job_ini: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="OpenQuake job file (job.ini).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder for CSV tables and PNG plots (replaced whole).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Override a job parameter: name=value (repeatable).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Private job database and datastore folder (default: OpenQuake's own, ~/oqdata, seen by oq engine --lhc and oq export; $GMLEARN_DATA_DIR/hazard when that is set).")] = None,
    distribute: Annotated[str | None, typer.Option(help="OpenQuake distribution: no | processpool (default: OQ_DISTRIBUTE).")] = None,
    plots: Annotated[bool, typer.Option(help="Write PNG plots with the CSV files.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print OpenQuake's log.")] = False,
    overwrite: Overwrite = False,
    export: Annotated[Path | None, typer.Option("--export", "-e", hidden=True)] = None,  # older spelling of --out
) -> None:
    """Run a classical, scenario, event-based or disaggregation job in process and export its results."""
    import contextlib

    from gmlearn.exceptions import GMLearnError
    from gmlearn.hazard.runner import run as run_job
    from gmlearn.outputs import check_output, final_path, output_folder

    try:
        if out is not None and export is not None:
            raise ValueError("Give --out once (--export is its older spelling).")
        out = out if out is not None else export
        inputs = [job_ini, data_dir]
        if out is not None:
            check_output(out, overwrite=overwrite, kind="folder", inputs=inputs)
        params = _param(param or [])
        folder = output_folder(out, overwrite=overwrite, inputs=inputs, command="hazard run") if out is not None \
            else contextlib.nullcontext(None)
        with console.status(f"running {job_ini}") as status, folder as tmp:

            def _progress(message: str) -> None:
                status.update(f"{job_ini.name}: {message[:100]}")

            result = run_job(job_ini, export_dir=tmp, data_dir=data_dir, params=params, plots=plots,
                             distribute=distribute, progress=None if verbose else _progress, verbose=verbose)
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    Console().print(_summary(result))
    for path in result.exported:
        console.print(f"[green]wrote[/] {final_path(path, tmp, out) if tmp is not None else path}")


@app.command("pack")
def pack(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Model folder written by save_model / gmlearn train.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Archive path (default <folder>.zip).")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Zip a saved model folder into one file for model_file in a logic tree."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.hazard.archive import pack_model

    try:
        target = out if out is not None else folder.with_name(folder.name + ".zip")
        _check_file(target, overwrite, [folder], [".zip"])
        path = pack_model(folder, out)
    except (GMLearnError, OSError) as exc:
        _fail(exc)
        return
    console.print(f"[green]wrote[/] {path}")


def _floats(text: str | None, name: str) -> list[float] | None:
    """``"4:8.5:0.25"`` (start:stop:step, stop included) or ``"5,6,7"``."""
    if text is None:
        return None
    import numpy as np

    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            return [round(float(v), 6) for v in np.arange(start, stop + step / 2, step)]
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"{name} must be start:stop:step (e.g. 4:8.5:0.25) or a comma list; got {text!r}.") from None


@app.command("export-table")
def export_table(
    model_file: Annotated[Path, typer.Argument(help="Model folder, its metadata.json or a .zip archive.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HDF5 file to write.")],
    imts: Annotated[str | None, typer.Option(help="Comma list, e.g. 'PGA,SA(0.2),SA(1.0)' (default: the model's).")] = None,
    mags: Annotated[str | None, typer.Option(help="Magnitude nodes: start:stop:step or a comma list (default 4:8.5:0.25).")] = None,
    distances: Annotated[str | None, typer.Option(help="Distance nodes (km), comma list (default 0-1000 km, 31 nodes).")] = None,
    metric: Annotated[str, typer.Option(help="Distance of the table: rrup, rjb, rhypo or repi.")] = "rrup",
    vs30: Annotated[float, typer.Option(help="The one site's vs30 (m/s) every cell is computed for.")] = 760.0,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Fix another column: name=value (repeatable), e.g. rake=90.")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Write an OpenQuake GMPETable HDF5 (median and total sigma over magnitude x one distance).

    Stock OpenQuake reads it as <uncertaintyModel gmpe_table="FILE">GMPETable</uncertaintyModel>.
    Site, rupture parameters other than magnitude, the tau/phi split and station terms are lost:
    see docs/hazard.md.
    """
    import warnings

    from gmlearn.exceptions import GMLearnError
    from gmlearn.hazard.table import export_table as write_table

    try:
        fixed = {k: float(v) for k, v in _param(set_ or [], "--set", "rake=90").items()}
    except ValueError as exc:
        _fail(ValueError(f"--set values must be numbers ({exc})."))
        return
    mag_nodes, distance_nodes = _floats(mags, "--mags"), _floats(distances, "--distances")
    try:
        _check_file(out, overwrite, [model_file], [".hdf5", ".h5", ".hdf"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = write_table(model_file, out, imts=[i.strip() for i in imts.split(",")] if imts else None,
                               mags=mag_nodes, distances=distance_nodes,
                               metric=metric, vs30=vs30, fixed=fixed, overwrite=overwrite)
    except (GMLearnError, OSError) as exc:
        _fail(exc)
        return
    for w in caught:  # the model's warnings (e.g. extrapolation), not library housekeeping
        if not issubclass(w.category, (ResourceWarning, DeprecationWarning, PendingDeprecationWarning)):
            console.print(f"[yellow]warning:[/] {escape(str(w.message))}", soft_wrap=True, highlight=False)
    console.print(f"[green]wrote[/] {path}")


@app.command("branches")
def branches(
    model_file: Annotated[Path, typer.Argument(help="A saved Bayesian model (BayesianNNGMM): folder, metadata.json or .zip.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="gsim logic-tree XML to write.")],
    n: Annotated[int, typer.Option("--n", "-n", help="Number of epistemic branches (Gauss-Hermite points, 1-9).")] = 3,
    trt: Annotated[str | None, typer.Option(help="Tectonic region type of the branch set (default: the model's).")] = None,
    overwrite: Overwrite = False,
) -> None:
    """Write a gsim logic tree with a Bayesian model's epistemic uncertainty as n weighted branches."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.hazard.branches import epistemic_branches, write_epistemic_logic_tree

    try:
        _check_file(out, overwrite, [model_file], [".xml"])
        path = write_epistemic_logic_tree(model_file, out, n=n, trt=trt)
        points = epistemic_branches(n)
    except (GMLearnError, OSError) as exc:
        _fail(exc)
        return
    table = Table(title=f"{n} epistemic branches")
    table.add_column("epistemic_z", justify="right")
    table.add_column("weight", justify="right")
    for z, w in points:
        table.add_row(f"{z:+.4f}", f"{w:.4f}")
    Console().print(table)
    console.print(f"[green]wrote[/] {path}")
