"""``gmlearn explain MODEL_DIR --data ... -o report.html``: the explanation report from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["explain_command", "read_table"]

console = Console(stderr=True)


def read_table(data: str, region: str | None) -> tuple[object, str]:
    """The records of ``data`` (a CSV/Parquet file, a feature store or a bundled dataset name) and a label for the report.

    Raises
    ------
    FileNotFoundError
        If ``data`` is neither an existing file nor a bundled dataset.
    """

    from gmlearn import datasets

    path = Path(data)
    if path.is_dir() and (path / "manifest.json").is_file():
        from gmlearn.store import FeatureStore

        table = FeatureStore(path).to_frame(dropna=False)
        label = f"feature store {path.name}"
    elif path.is_file():
        from gmlearn.cli_inputs import read_table_file

        table = read_table_file(path)
        label = f"file {path.name}"
    elif data in datasets.available():
        table = datasets.load(data)
        label = f"bundled dataset {data}"
    else:
        msg = f"--data {data!r} is neither a CSV/Parquet file nor a bundled dataset; datasets: {datasets.available()}."
        raise FileNotFoundError(msg)
    if region and "tectonic_region" in table:
        table = table[table["tectonic_region"] == region].reset_index(drop=True)
        label += f", {region} records"
    return table, f"{label} ({len(table)} rows)"


def explain_command(
    model_dir: Annotated[Path, typer.Argument(help="Model folder from `gmlearn train` / save_model.")],
    data: Annotated[str, typer.Option("--data", "-d", help="CSV or Parquet of records, a feature-store folder or a bundled dataset name.")] = "nzsmd",
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML report to write.")] = Path("report.html"),
    imt: Annotated[str | None, typer.Option(help="IMT of the figures (default: the model's first).")] = None,
    region: Annotated[str, typer.Option("--tectonic-region", help="Tectonic-region filter of the records ('' for all).")] = "crustal",
    gmpe: Annotated[str | None, typer.Option(help="OpenQuake GSIM drawn beside the dependence plots (default: the hybrid's base, else BooreEtAl2014).")] = None,
    scenario: Annotated[list[int] | None, typer.Option("--scenario", help="Row of the table to explain one by one (repeatable).")] = None,
    max_rows: Annotated[int, typer.Option(help="Records explained (a random subset of the table).")] = 500,
    method: Annotated[str, typer.Option(help="auto | tree | kernel | sampling")] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed of the row subset and background.")] = 0,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print the report to PDF (needs Chromium).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing report that this command wrote.")] = False,
    region_old: Annotated[str | None, typer.Option("--region", hidden=True)] = None,  # older spelling of --tectonic-region
) -> None:
    """Explain a saved model with SHAP: one self-contained HTML report (importance, dependence, waterfalls, model card).

    Exit status: 0 with a full report, 1 when no SHAP values could be computed (e.g. an empty
    table: the report then holds the model card and the reason), 2 on an error (no report).
    """
    import shlex
    import sys

    from gmlearn.cli_errors import fail
    from gmlearn.exceptions import GMLearnError
    from gmlearn.explain.pdf import export_pdf
    from gmlearn.explain.report import write_report
    from gmlearn.explain.values import load_explainable
    from gmlearn.outputs import check_output

    try:
        inputs = [model_dir, data]
        check_output(out, overwrite=overwrite, kind="file", inputs=inputs, suffixes=[".html", ".htm"])
        if pdf:
            check_output(out.with_suffix(".pdf"), overwrite=overwrite, kind="file", inputs=inputs, suffixes=[".pdf"])
        model = load_explainable(model_dir)
        table, label = read_table(data, (region_old if region_old is not None else region) or None)
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        fail(exc)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("explaining", total=6)
            report = write_report(
                model, table, out, imt=imt, data_label=label, gmpe=gmpe, scenarios=scenario or None,
                max_rows=max_rows, method=method, random_state=seed,
                command="gmlearn explain " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
                progress=lambda i, n, m: bar.update(task, completed=i, total=n, description=m),
            )
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        fail(exc)
    for note in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(note)}", soft_wrap=True, highlight=False)
    console.print(f"[green]wrote[/] {report.path} ({len(report.figures)} figures, {len(report.warnings)} warnings)")
    if pdf:
        try:
            console.print(f"[green]wrote[/] {export_pdf(report.path, report.path.with_suffix('.pdf'))}")
        except (FileNotFoundError, OSError) as exc:
            console.print(f"[yellow]no PDF:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
    if not report.explanations:  # the report holds the model card only
        raise typer.Exit(code=1)
