"""``gmlearn hazard``: run OpenQuake jobs in process with gmlearn models (Typer sub-app ``app``).

Commands: ``run`` (a job.ini, with progress and a summary) and ``pack`` (a
model folder into one ``.zip`` for ``model_file``). Both call the public API
(:func:`gmlearn.hazard.run`, :func:`gmlearn.hazard.pack_model`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    help="Seismic hazard with OpenQuake: run jobs whose logic trees use saved gmlearn models ([GMLearnGSIM]).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)


def _fail(exc: BaseException) -> None:
    console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


def _param(items: list[str]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--param must look like name=value (e.g. region_grid_spacing=20). Got {item!r} instead.")
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
    export: Annotated[Path | None, typer.Option("--export", "-e", help="Folder for CSV tables and PNG plots.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Override a job parameter: name=value (repeatable).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Job database and datastore folder (default $GMLEARN_DATA_DIR/hazard or ~/.gmlearn/hazard).")] = None,
    distribute: Annotated[str | None, typer.Option(help="OpenQuake distribution: no | processpool (default: OQ_DISTRIBUTE).")] = None,
    plots: Annotated[bool, typer.Option(help="Write PNG plots with the CSV files.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print OpenQuake's log.")] = False,
) -> None:
    """Run a classical, scenario or event-based job in process and export its results."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.hazard.runner import run as run_job

    try:
        params = _param(param or [])
        with console.status(f"running {job_ini}") as status:

            def _progress(message: str) -> None:
                status.update(f"{job_ini.name}: {message[:100]}")

            result = run_job(job_ini, export_dir=export, data_dir=data_dir, params=params, plots=plots,
                             distribute=distribute, progress=None if verbose else _progress, verbose=verbose)
    except (GMLearnError, ValueError, KeyError, FileNotFoundError, OSError) as exc:
        _fail(exc)
        return
    Console().print(_summary(result))
    for path in result.exported:
        console.print(f"[green]wrote[/] {path}")


@app.command("pack")
def pack(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Model folder written by save_model / gmlearn train.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Archive path (default <folder>.zip).")] = None,
) -> None:
    """Zip a saved model folder into one file for model_file in a logic tree."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.hazard.archive import pack_model

    try:
        path = pack_model(folder, out)
    except (GMLearnError, OSError) as exc:
        _fail(exc)
        return
    console.print(f"[green]wrote[/] {path}")
