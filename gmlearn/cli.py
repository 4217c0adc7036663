"""The ``gmlearn`` command: thin wrappers over the Python API, with progress bars.

Defined here: ``gmlearn data ingest|list|describe``, ``evaluate``, ``train``,
``predict`` and ``demo``. Each product registers its own commands in
:func:`_register_products`: ``hazard``, ``shakemap``, ``site``, ``waveforms``,
``explain``, ``catalog`` and ``geodesy``. docs/cli.md documents them all.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gmlearn._version import __version__

app = typer.Typer(
    name="gmlearn",
    help="Machine learning for ground motion and seismic hazard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
data_app = typer.Typer(help="Feature store: ingest flatfiles, list datasets, describe stores.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(stderr=True)
DEFAULT_IMTS = "PGA,PGV,SA(0.2),SA(1.0),SA(3.0)"


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


@app.callback(invoke_without_command=True)
def _main(version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if version:
        typer.echo(f"gmlearn {__version__}")
        raise typer.Exit()


@data_app.command("ingest")
def data_ingest(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="Flatfiles (CSV, CSV.gz, Parquet)."),
    store: Path = typer.Option(..., "--store", "-s", help="Feature-store folder (created if missing)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto | nzsmd | ngawest2 | generic"),
    component: str | None = typer.Option(None, help="NZSMD component: RotD50, RotD100, GeoMean, Vert (default: from the header)."),
    pgv_unit: str | None = typer.Option(None, help="PGV unit of a generic flatfile: cm/s, m/s or mm/s (default cm/s)."),
    acc_unit: str | None = typer.Option(None, help="Unit of PGA and SA in the file: g, cm/s2 (gal) or m/s2 (default g)."),
    derive: bool = typer.Option(True, help="Fill missing z1pt0, z2pt5, ztor, width, rx, ry0 (flagged)."),
) -> None:
    """Validate flatfiles and append them to a feature store (atomic: all or nothing per file)."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.store import FeatureStore
    from gmlearn.store.readers import read_flatfile

    fs = None
    try:
        for file in files:
            kwargs: dict = {}
            if component is not None:
                kwargs["component"] = component
            if pgv_unit is not None:
                kwargs["pgv_unit"] = pgv_unit
            if acc_unit is not None:
                kwargs["acc_unit"] = acc_unit
            with console.status(f"reading {file.name}"):
                try:
                    table = read_flatfile(file, format=fmt, **kwargs)
                except TypeError as exc:  # an option the chosen reader does not take
                    msg = f"{file.name}: option not accepted by the {table_format(file, fmt)} reader ({exc}); --component is for NZSMD files, --pgv-unit for generic ones."
                    raise ValueError(msg) from None
            if fs is None:  # create the store only once the first file has passed validation
                fs = FeatureStore(store) if (store / "manifest.json").exists() else FeatureStore.create(store)
            with console.status(f"writing {len(table)} records to {store}"):
                fs.append(table, source=str(file), derive=derive)
            console.print(f"[green]ingested[/] {len(table)} records from {file.name}")
    except (GMLearnError, ValueError, KeyError) as exc:
        _fail(exc)
    console.print(repr(fs))


def table_format(file: Path, fmt: str) -> str:
    """Reader name that ``read_flatfile`` picks for ``file``."""
    if fmt != "auto":
        return fmt
    from gmlearn.store.readers import _header, sniff_format

    return sniff_format(_header(file))


@data_app.command("list")
def data_list() -> None:
    """List the bundled datasets."""
    from gmlearn import datasets

    table = Table(title="gmlearn bundled datasets")
    for col in ("name", "records", "events", "stations", "license"):
        table.add_column(col)
    for name in datasets.available():
        meta = datasets.info(name)
        table.add_row(name, str(meta["rows"]), str(meta["events"]), str(meta["stations"]), meta["license"][:60])
    Console().print(table)


@data_app.command("describe")
def data_describe(
    target: str = typer.Argument(..., help="A feature-store folder or a bundled dataset name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Summarise a feature store or a bundled dataset."""
    from gmlearn import datasets
    from gmlearn.exceptions import GMLearnError
    from gmlearn.store import FeatureStore

    try:
        if Path(target).is_dir():
            summary = FeatureStore(target).describe()
        else:
            meta = datasets.info(target)
            summary = {k: meta[k] for k in ("description", "rows", "events", "stations", "citation", "license")}
    except (GMLearnError, ValueError, KeyError) as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"gmlearn: {target}", show_header=False)
    for key, value in summary.items():
        table.add_row(key, json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value))
    Console().print(table)


@data_app.command("verify")
def data_verify(
    store: Path = typer.Argument(..., help="A feature-store folder."),
) -> None:
    """Recompute the hash of every part file of a store against its manifest."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.store import FeatureStore

    try:
        result = FeatureStore(store).verify()
    except GMLearnError as exc:
        _fail(exc)
        return
    typer.echo(f"OK: {result['parts']} part files, {result['rows']} records, version {result['version']}, "
               f"content hash {result['content_hash'][:16]}.")


def _load_table(store: Path | None, dataset: str | None, imts: list[str], region: str | None):  # noqa: ANN202
    from gmlearn import datasets
    from gmlearn.schema import TECTONIC_REGIONS
    from gmlearn.store import FeatureStore

    if region and region not in TECTONIC_REGIONS:
        msg = f"The '--region' option must be one of {list(TECTONIC_REGIONS)} or ''. Got {region!r} instead."
        raise ValueError(msg)
    filters = {"tectonic_region": region} if region else {}
    if store is not None:
        return FeatureStore(store).to_frame(imts=imts, dropna=False, **filters)
    table = datasets.load(dataset or "nzsmd")
    if region:
        table = table[table["tectonic_region"] == region]
    if table.empty:
        msg = f"No records in dataset {dataset or 'nzsmd'!r} for region {region!r}."
        raise ValueError(msg)
    return table.reset_index(drop=True)


@app.command("evaluate")
def evaluate(
    store: Path | None = typer.Option(None, "--store", "-s", help="Feature-store folder."),
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="Bundled dataset (default nzsmd)."),
    imts: str = typer.Option(DEFAULT_IMTS, help="Comma-separated IMTs."),
    gmpes: str = typer.Option("ASK14,BSSA14,CB14,CY14", help="GMPE labels or OpenQuake class names."),
    region: str | None = typer.Option("crustal", help="Tectonic region filter ('' for all)."),
    xgboost: bool = typer.Option(True, help="Include the plain XGBoost baseline (event-grouped CV)."),
    folds: int = typer.Option(5, help="Cross-validation folds (grouped by event)."),
    seed: int = typer.Option(0, help="Random seed of the folds and models."),
    out: Path = typer.Option(Path("gmlearn-evaluation"), "--out", "-o", help="Output folder."),
) -> None:
    """Score OpenQuake GMPEs and a plain XGBoost on a store: RMS, tau, phi, LLH, EDR, coverage, plots."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.evaluation.yardstick import run_evaluation

    imt_list = [i.strip() for i in _split_imts(imts)]
    try:
        table = _load_table(store, dataset, imt_list, region or None)
        with _progress() as bar:
            task = bar.add_task("evaluating", total=1)

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message)

            result = run_evaluation(table, imt_list, gmpes.split(","), out=out, xgboost=xgboost,
                                    n_splits=folds, random_state=seed, progress=_step)
    except (GMLearnError, ValueError, KeyError) as exc:
        _fail(exc)
        return
    _print_scores(result.pivot("rms"), "total RMS of ln residuals")
    console.print(f"[green]wrote[/] {out}/scores.csv and plots")


def _split_imts(text: str) -> list[str]:
    """Split 'PGA,SA(1.0)' on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [p for p in [*parts, cur] if p.strip()]


def _progress():  # noqa: ANN202
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=console)


def _print_scores(pivot, title: str) -> None:  # noqa: ANN001
    table = Table(title=title)
    table.add_column("model")
    for col in pivot.columns:
        table.add_column(str(col), justify="right")
    for model, row in pivot.iterrows():
        table.add_row(str(model), *("-" if v != v else f"{v:.3f}" for v in row.to_numpy()))
    Console().print(table)


MODELS = ("tree", "monotone", "hybrid", "bnn")


@app.command("train")
def train(
    model: str = typer.Option("tree", "--model", "-m", help="tree | monotone | hybrid | bnn"),
    base: str = typer.Option("BooreEtAl2014", help="OpenQuake GSIM (or label such as CB14) of the hybrid's physics base."),
    imts: str = typer.Option(DEFAULT_IMTS, help="Comma-separated IMTs."),
    store: Path | None = typer.Option(None, "--store", "-s", help="Feature-store folder."),
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="Bundled dataset (default nzsmd)."),
    region: str | None = typer.Option("crustal", help="Tectonic region filter ('' for all)."),
    seed: int = typer.Option(0, help="Random seed."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    overwrite: bool = typer.Option(False, help="Replace an existing model folder."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Train on Dask: 'local' (a LocalCluster) or a scheduler address such as tcp://host:8786 (tree and monotone)."),
) -> None:
    """Train a mixed-effects regressor and save it as a folder of data (JSON + XGBoost UBJ or NetCDF draws)."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.evaluation.yardstick import resolve_gmpes
    from gmlearn.store import FeatureStore

    if model not in MODELS:
        _fail(ValueError(f"The '--model' option must be one of {list(MODELS)}. Got {model!r} instead."))
    imt_list = [i.strip() for i in _split_imts(imts)]
    if out.exists() and not overwrite:
        _fail(FileExistsError(f"{out} exists; pass --overwrite to replace it."))
    if scheduler is not None and model not in ("tree", "monotone"):
        _fail(ValueError(f"--scheduler trains the tree and monotone models; got --model {model}. Leave out --scheduler."))
    try:
        if scheduler is not None and store is not None:
            table = _dask_table(store, imt_list, region or None)
        else:
            table = _load_table(store, dataset, imt_list, region or None)
        estimator = _estimator(model, resolve_gmpes([base])[base], seed)
        with _progress() as bar:
            task = bar.add_task(f"training {model}", total=len(imt_list))

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message)

            if scheduler is not None:
                from gmlearn.distributed.fit import dask_fit

                dask_fit(estimator, table, imt_list, scheduler=scheduler, progress=_step)
            else:
                estimator.fit(table, imt_list, progress=_step)
        training_hash = FeatureStore(store).content_hash if store is not None else f"table-sha256:{_table_hash(table)}"
        path = save_model(estimator, out, training_hash=training_hash, overwrite=overwrite)
        counts = {i: int(n) for i, n in table[estimator.imts_].count().items()} if scheduler is None or store is None \
            else {i: int(n) for i, n in table[estimator.imts_].count().compute().items()}
    except (GMLearnError, ValueError, KeyError, FileExistsError, ConnectionError) as exc:
        _fail(exc)
        return
    summary = Table(title=f"{model}: variance components (ln units)")
    for col in ("imt", "tau", "phi", "phi_SS", "records"):
        summary.add_column(col, justify="right")
    for imt in estimator.imts_:
        eff = estimator.effects_[imt]
        summary.add_row(imt, f"{eff['tau']:.3f}", f"{eff['phi']:.3f}", f"{eff['phi_ss']:.3f}", str(counts[imt]))
    Console().print(summary)
    console.print(f"[green]saved[/] {path}")


def _dask_table(store: Path, imts: list[str], region: str | None):  # noqa: ANN202
    """A store as a lazy Dask DataFrame (one partition per records row group), filtered by region."""
    from gmlearn.schema import TECTONIC_REGIONS
    from gmlearn.store import FeatureStore

    if region and region not in TECTONIC_REGIONS:
        msg = f"The '--region' option must be one of {list(TECTONIC_REGIONS)} or ''. Got {region!r} instead."
        raise ValueError(msg)
    table = FeatureStore(store).to_dask(imts=imts)
    return table[table["tectonic_region"] == region] if region else table


def _estimator(model: str, base: str, seed: int):  # noqa: ANN202
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    if model == "hybrid":
        return HybridGMM(base, random_state=seed)
    if model == "bnn":
        from gmlearn.gmpe.bnn import BayesianNNGMM

        return BayesianNNGMM(random_state=seed)
    return {"tree": TreeGMM, "monotone": MonotoneGMM}[model](random_state=seed)


def _table_hash(table) -> str:  # noqa: ANN001
    import hashlib

    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes()).hexdigest()


@app.command("predict")
def predict(
    model_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Model folder from `gmlearn train`."),
    table_path: Path = typer.Argument(..., exists=True, help="CSV, Parquet file or folder of Parquet files with the model's features."),
    out: Path = typer.Option(..., "--out", "-o", help="Output CSV, or a folder of Parquet parts for Parquet input (streamed)."),
    imts: str | None = typer.Option(None, help="Comma-separated IMTs (default: all the model has)."),
    station_terms: str = typer.Option("ergodic", help="ergodic | known (add station terms of stations seen in training)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Stream on Dask: 'local' (a LocalCluster) or a scheduler address (Parquet input)."),
    chunk_rows: int = typer.Option(250_000, "--chunk-rows", help="Rows predicted at once (CSV input and streamed Parquet)."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder (streamed Parquet output)."),
) -> None:
    """Predict ln mean, tau, phi, sigma (and the median) for every row of a table.

    Parquet input with an output that is not a .csv is streamed in bounded memory into a folder of
    Parquet parts (columns <IMT>_ln_mean, _tau, _phi, _sigma), locally or on Dask with --scheduler.
    """
    import numpy as np
    import pandas as pd

    from gmlearn.exceptions import GMLearnError
    from gmlearn.gmpe.persistence import load_model
    from gmlearn.store.atomic import atomic_write_with

    parquet = table_path.is_dir() or table_path.suffix in (".parquet", ".pq")
    if parquet and out.suffix != ".csv":
        _predict_stream(model_dir, table_path, out, imts, station_terms, scheduler, chunk_rows, overwrite)
        return
    if scheduler is not None:
        _fail(ValueError("--scheduler streams Parquet input into a Parquet folder; give a .parquet input (or a folder of them) "
                         f"and an --out that is not a .csv (got {table_path.name} -> {out.name})."))
    if table_path.is_dir():
        _fail(ValueError(f"{table_path} is a folder; only Parquet folders are read, and only with a Parquet output folder."))
    if not parquet:
        _predict_csv(model_dir, table_path, out, imts, station_terms, chunk_rows)
        return
    try:
        estimator = load_model(model_dir)
        table = pd.read_parquet(table_path) if table_path.suffix in (".parquet", ".pq") else pd.read_csv(table_path)
        with console.status(f"predicting {len(table)} rows"):
            pred = estimator.predict(table, None if imts is None else _split_imts(imts), station_terms=station_terms)
    except (GMLearnError, ValueError, KeyError) as exc:
        _fail(exc)
        return
    cols = {}
    for i, imt in enumerate(pred.imts):
        unit = "cm/s" if imt == "PGV" else "g"
        cols[f"{imt}_ln_mean"] = pred.mean[i]
        cols[f"{imt}_median_{'cm_s' if unit == 'cm/s' else unit}"] = np.exp(pred.mean[i])
        cols[f"{imt}_tau"], cols[f"{imt}_phi"], cols[f"{imt}_sigma"] = pred.tau[i], pred.phi[i], pred.sigma[i]
    result = pd.concat([table.reset_index(drop=True), pd.DataFrame(cols)], axis=1)
    atomic_write_with(out, lambda tmp: result.to_csv(tmp, index=False))
    console.print(f"[green]wrote[/] {len(result)} rows to {out}")


def _predict_csv(model_dir: Path, table_path: Path, out: Path, imts: str | None, station_terms: str,
                 chunk_rows: int) -> None:
    """`gmlearn predict` CSV to CSV: read, predict and write --chunk-rows rows at a time (bounded memory)."""
    import warnings

    from gmlearn.distributed.predict import predict_csv
    from gmlearn.exceptions import GMLearnError
    from gmlearn.gmpe.persistence import load_model

    try:
        estimator = load_model(model_dir)
        with console.status(f"predicting {table_path.name} in chunks of {chunk_rows} rows"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = predict_csv(estimator, table_path, out, None if imts is None else _split_imts(imts),
                                 chunk_rows=chunk_rows, station_terms=station_terms)
    except (GMLearnError, ValueError, KeyError, FileNotFoundError) as exc:
        _fail(exc)
        return
    if result.out_of_range:
        console.print(f"[yellow]warning:[/] {escape(result.out_of_range)}", soft_wrap=True, highlight=False)
    console.print(f"[green]wrote[/] {result.rows} rows to {out}")


def _predict_stream(model_dir: Path, table_path: Path, out: Path, imts: str | None, station_terms: str,
                    scheduler: str | None, chunk_rows: int, overwrite: bool) -> None:
    """`gmlearn predict` on Parquet: stream into a folder of Parquet parts (gmlearn.distributed.predict_parquet)."""
    from gmlearn.distributed.predict import predict_parquet
    from gmlearn.exceptions import GMLearnError
    from gmlearn.gmpe.persistence import load_model

    try:
        estimator = load_model(model_dir)
        with _progress() as bar:
            task = bar.add_task("predicting", total=None)

            def _step(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, total=total, description=message)

            result = predict_parquet(estimator, table_path, out, None if imts is None else _split_imts(imts),
                                     scheduler=scheduler, chunk_rows=chunk_rows, station_terms=station_terms,
                                     overwrite=overwrite, progress=_step)
    except (GMLearnError, ValueError, KeyError, FileExistsError, FileNotFoundError, ConnectionError) as exc:
        _fail(exc)
        return
    console.print(f"[green]wrote[/] {result.rows} rows in {result.parts} Parquet part(s) to {out} ({result.seconds:.1f} s)")


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("gmlearn-demo"), "--out", "-o", help="Output folder."),
    folds: int = typer.Option(5, help="Cross-validation folds."),
    seed: int = typer.Option(0, help="Random seed."),
    quick: bool = typer.Option(False, "--quick", help="Small settings (a smoke test of every stage in about a minute)."),
    stages: str | None = typer.Option(None, help="Comma-separated stages to run (default: all): store, train, "
                                      "evaluation, shakemap, hazard, explain, waveforms."),
) -> None:
    """The whole of gmlearn on the bundled data: store, models, evaluation, Kaikoura shakemap, hazard, SHAP report, waveforms, index.html."""
    from gmlearn.demo import run_demo
    from gmlearn.exceptions import GMLearnError

    try:
        with _progress() as bar:
            task = bar.add_task("demo", total=1)

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message[:70])

            names = [x.strip() for x in stages.split(",") if x.strip()] if stages else None
            index = run_demo(out, n_splits=folds, random_state=seed, quick=quick, stages=names, progress=_step)
    except (GMLearnError, ValueError, KeyError, FileNotFoundError) as exc:
        _fail(exc)
        return
    summary = json.loads((index.parent / "demo.json").read_text())
    console.print(f"[green]demo written:[/] {index} (stages: {', '.join(summary['stages'])})")


def _register_products() -> None:
    """Sub-commands of the products (each module keeps its heavy imports inside functions)."""
    from gmlearn.catalog.cli import app as catalog_app
    from gmlearn.explain.cli import explain_command
    from gmlearn.geodesy.cli import app as geodesy_app
    from gmlearn.hazard.cli import app as hazard_app
    from gmlearn.shakemap.cli import shakemap as shakemap_command
    from gmlearn.site.cli import app as site_app
    from gmlearn.waveform.cli import app as waveforms_app

    app.add_typer(hazard_app, name="hazard")
    app.command("shakemap")(shakemap_command)
    app.add_typer(site_app, name="site")
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(geodesy_app, name="geodesy")
    app.command("explain")(explain_command)
    app.add_typer(waveforms_app, name="waveforms")


_register_products()

if __name__ == "__main__":  # pragma: no cover
    app()
