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
from gmlearn.cli_errors import ErrorHandlingGroup, fail

app = typer.Typer(
    cls=ErrorHandlingGroup,
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


_fail = fail
DATA_HELP = ("Input data: a feature-store folder, a flatfile (CSV, CSV.gz, Parquet; NZSMD, NGA-West2 or generic) "
             "or a bundled dataset name (default nzsmd).")
FORMAT_HELP = "Flatfile format of --data: auto | nzsmd | ngawest2 | generic."
REGION_HELP = "Tectonic-region filter of the records: crustal, interface, slab, ... ('' for all)."
OVERWRITE_HELP = "Replace an existing output that gmlearn wrote (never a store, an input or a foreign folder)."


@app.callback(invoke_without_command=True)
def _main(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", envvar="GMLEARN_DEBUG",
                               help="Print the traceback of an error (also GMLEARN_DEBUG=1)."),
) -> None:
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
    derive: bool = typer.Option(True, help="Fill missing z1pt0, z2pt5, ztor, width, rrup, rjb, rx, ry0 (flagged)."),
    drop_incomplete: bool = typer.Option(
        False, help="Generic flatfiles: drop records without event/station id, magnitude or vs30 (counted) instead of failing.",
    ),
    drop_distance_mismatch: bool = typer.Option(
        False, help="Drop records whose coordinates contradict their repi by > max(5 km, 5 %) instead of failing.",
    ),
) -> None:
    """Validate flatfiles and append them to a feature store (atomic: all or nothing per file)."""
    from gmlearn.exceptions import GMLearnError
    from gmlearn.store import FeatureStore
    from gmlearn.store.readers import read_flatfile

    fs = None
    try:
        if store.exists() and not store.is_dir():
            raise ValueError(f"--store {str(store)!r} is a file; give a feature-store folder (created if missing).")
        for file in files:
            kwargs: dict = {"on_distance_mismatch": "drop" if drop_distance_mismatch else "raise"}
            if component is not None:
                kwargs["component"] = component
            if pgv_unit is not None:
                kwargs["pgv_unit"] = pgv_unit
            if acc_unit is not None:
                kwargs["acc_unit"] = acc_unit
            if drop_incomplete:
                kwargs["drop_incomplete"] = True
            with console.status(f"reading {file.name}"):
                try:
                    table = read_flatfile(file, format=fmt, **kwargs)
                except TypeError as exc:  # an option the chosen reader does not take
                    msg = f"{file.name}: option not accepted by the {table_format(file, fmt)} reader ({exc}); --component is for NZSMD files, --pgv-unit for generic ones."
                    raise ValueError(msg) from None
            from gmlearn.store.readers import report_of

            console.print(escape(str(report_of(table))), highlight=False, soft_wrap=True)
            if fs is None:  # create the store only once the first file has passed validation
                fs = FeatureStore(store) if (store / "manifest.json").exists() else FeatureStore.create(store)
            with console.status(f"writing {len(table)} records to {store}"):
                fs.append(table, source=str(file), derive=derive)
            console.print(f"[green]ingested[/] {len(table)} records from {file.name}")
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
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
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"gmlearn: {target}", show_header=False)
    for key, value in summary.items():
        table.add_row(key, json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value))
    Console().print(table)


def _one_data(data: str | None, store: Path | None, dataset: str | None) -> str | None:
    """The one ``--data`` value (``--store`` and ``--dataset`` are its older spellings)."""
    given = [v for v in (data, None if store is None else str(store), dataset) if v is not None]
    if len(given) > 1:
        msg = f"Give the input once, with --data (got {given}); --store and --dataset are older spellings of --data."
        raise ValueError(msg)
    return given[0] if given else None


def _region(region: str | None, old: str | None) -> str | None:
    """The tectonic-region filter (``--region`` is the older spelling of ``--tectonic-region``); '' means all."""
    value = old if old is not None else region
    return value or None


def _load_table(data: str | None, imts: list[str], region: str | None, fmt: str = "auto"):  # noqa: ANN202
    from gmlearn.cli_inputs import load_data

    return load_data(data, imts, region, fmt)


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


@app.command("evaluate")
def evaluate(
    data: str | None = typer.Option(None, "--data", "-d", help=DATA_HELP),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    store: Path | None = typer.Option(None, "--store", "-s", hidden=True),
    dataset: str | None = typer.Option(None, "--dataset", hidden=True),
    imts: str = typer.Option(DEFAULT_IMTS, help="Comma-separated IMTs."),
    gmpes: str = typer.Option("ASK14,BSSA14,CB14,CY14", help="GMPE labels or OpenQuake class names."),
    region: str | None = typer.Option("crustal", "--tectonic-region", help=REGION_HELP),
    region_old: str | None = typer.Option(None, "--region", hidden=True),
    xgboost: bool = typer.Option(True, help="Include the plain XGBoost baseline (event-grouped CV)."),
    folds: int = typer.Option(5, help="Cross-validation folds (grouped by event)."),
    seed: int = typer.Option(0, help="Random seed of the folds and models."),
    out: Path = typer.Option(Path("gmlearn-evaluation"), "--out", "-o", help="Output folder."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Score OpenQuake GMPEs and a plain XGBoost on a store, flatfile or dataset: RMS, tau, phi, LLH, EDR, coverage, plots."""
    from gmlearn.evaluation.yardstick import run_evaluation
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder

    imt_list = [i.strip() for i in _split_imts(imts)]
    try:
        source = _one_data(data, store, dataset)
        check_output(out, overwrite=overwrite, kind="folder", inputs=[source])
        table = _load_table(source, imt_list, _region(region, region_old), fmt)
        with _progress() as bar, output_folder(out, overwrite=overwrite, inputs=[source], command="evaluate") as tmp:
            task = bar.add_task("evaluating", total=1)

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message)

            result = run_evaluation(table, imt_list, gmpes.split(","), out=tmp, xgboost=xgboost,
                                    n_splits=folds, random_state=seed, progress=_step)
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
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
    base: str = typer.Option("auto", help="Physics base: 'auto' (by tectonic region; 'none' with --scheduler), 'none' (data only), or OpenQuake GSIMs / labels such as CB14, joined by '+'."),
    extrapolation: str = typer.Option("base", help="Outside the training domain: base (fall back towards the physics base) | warn | raise."),
    imts: str = typer.Option(DEFAULT_IMTS, help="Comma-separated IMTs."),
    data: str | None = typer.Option(None, "--data", "-d", help=DATA_HELP),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    store: Path | None = typer.Option(None, "--store", "-s", hidden=True),
    dataset: str | None = typer.Option(None, "--dataset", hidden=True),
    region: str | None = typer.Option("crustal", "--tectonic-region", help=REGION_HELP),
    region_old: str | None = typer.Option(None, "--region", hidden=True),
    seed: int = typer.Option(0, help="Random seed."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Train on Dask: 'local' (a LocalCluster) or a scheduler address such as tcp://host:8786 (tree and monotone)."),
) -> None:
    """Train a mixed-effects regressor and save it as a folder of data (JSON + XGBoost UBJ or NetCDF draws)."""
    from gmlearn.cli_inputs import data_kind
    from gmlearn.exceptions import GMLearnError
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.outputs import check_output
    from gmlearn.store import FeatureStore

    if model not in MODELS:
        _fail(ValueError(f"The '--model' option must be one of {list(MODELS)}. Got {model!r} instead."))
    imt_list = [i.strip() for i in _split_imts(imts)]
    if scheduler is not None and model not in ("tree", "monotone"):
        _fail(ValueError(f"--scheduler trains the tree and monotone models; got --model {model}. Leave out --scheduler."))
    try:
        source = _one_data(data, store, dataset)
        check_output(out, overwrite=overwrite, kind="folder", inputs=[source])
        is_store = source is not None and data_kind(source) == "store"
        if scheduler is not None and is_store:
            table = _dask_table(Path(source), imt_list, _region(region, region_old))
        else:
            table = _load_table(source, imt_list, _region(region, region_old), fmt)
        # Dask trains data-only models: with --scheduler the default base is none
        estimator = _estimator(model, "none" if scheduler is not None and base == "auto" else base, seed, extrapolation)
        with _progress() as bar:
            task = bar.add_task(f"training {model}", total=len(imt_list))

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message)

            if scheduler is not None:
                from gmlearn.distributed.fit import dask_fit

                dask_fit(estimator, table, imt_list, scheduler=scheduler, progress=_step)
            else:
                estimator.fit(table, imt_list, progress=_step)
        training_hash = FeatureStore(source).content_hash if is_store else f"table-sha256:{_table_hash(table)}"
        check_output(out, overwrite=overwrite, kind="folder", inputs=[source])  # again: training takes a while
        path = save_model(estimator, out, training_hash=training_hash, overwrite=out.exists())
        counts = {i: int(n) for i, n in table[estimator.imts_].count().items()} if scheduler is None or not is_store \
            else {i: int(n) for i, n in table[estimator.imts_].count().compute().items()}
    except (GMLearnError, ValueError, KeyError, OSError, ConnectionError) as exc:
        _fail(exc)
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
        msg = f"The '--tectonic-region' option must be one of {list(TECTONIC_REGIONS)} or ''. Got {region!r} instead."
        raise ValueError(msg)
    table = FeatureStore(store).to_dask(imts=imts)
    return table[table["tectonic_region"] == region] if region else table


def _estimator(model: str, base: str, seed: int, extrapolation: str = "base"):  # noqa: ANN202
    from gmlearn.gmpe.anchor import check_policy
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.monotone import MonotoneGMM
    from gmlearn.gmpe.tree import TreeGMM

    check_policy(extrapolation, "gmlearn train (--extrapolation)")
    physics = None if base.strip().lower() == "none" else base
    if model == "hybrid":
        if physics is None:
            raise ValueError("The hybrid model needs a physics base: pass --base auto or an OpenQuake GSIM such as CB14.")
        return HybridGMM(physics, extrapolation=extrapolation, random_state=seed)
    if model == "bnn":
        from gmlearn.gmpe.bnn import BayesianNNGMM

        return BayesianNNGMM(base=physics, extrapolation=extrapolation, random_state=seed)
    return {"tree": TreeGMM, "monotone": MonotoneGMM}[model](base=physics, extrapolation=extrapolation, random_state=seed)


def _table_hash(table) -> str:  # noqa: ANN001
    import hashlib

    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes()).hexdigest()


PARQUET = (".parquet", ".pq")


@app.command("predict")
def predict(
    model_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Model folder from `gmlearn train`."),
    table_path: str | None = typer.Argument(None, help="Input (or --data): CSV/Parquet of features, a flatfile, a feature store, a folder of Parquet files or a bundled dataset."),
    data: str | None = typer.Option(None, "--data", "-d", help="The input, as an option (instead of DATA)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .csv or .parquet file, or a folder of Parquet parts for Parquet or store input (streamed)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="Input format: auto (a table with the model's features, else a flatfile) | table | nzsmd | ngawest2 | generic."),
    imts: str | None = typer.Option(None, help="Comma-separated IMTs (default: all the model has)."),
    station_terms: str = typer.Option("ergodic", help="ergodic | known (add station terms of stations seen in training)."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Stream on Dask: 'local' (a LocalCluster) or a scheduler address (Parquet input)."),
    chunk_rows: int = typer.Option(250_000, "--chunk-rows", help="Rows predicted at once (CSV to CSV, and streamed Parquet)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Predict ln mean, tau, phi, sigma (and the median) for every row of a table, flatfile or store.

    Parquet or feature-store input with an output that is not a .csv (nor a .parquet file, for a
    store) is streamed in bounded memory into a folder of Parquet parts (columns <IMT>_ln_mean,
    _tau, _phi, _sigma), locally or on Dask with --scheduler.
    """
    import numpy as np
    import pandas as pd

    from gmlearn.cli_inputs import data_kind
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output
    from gmlearn.store.atomic import atomic_write_with

    try:
        if (table_path is None) == (data is None):
            raise ValueError("Give the input once: as DATA (the second argument) or as --data.")
        source = table_path if table_path is not None else data
        kind = data_kind(source)
        path = Path(source)
        inputs = [model_dir, source if kind != "dataset" else None]
        file_out = (".csv", *PARQUET) if kind == "store" else (".csv",)  # a store's .parquet output is one file
        parquet_in = kind in ("parquet-folder", "store") or (kind == "file" and path.suffix in PARQUET)
        if fmt in ("auto", "table") and parquet_in and out.suffix not in file_out:
            _predict_stream(model_dir, path, out, imts, station_terms, scheduler, chunk_rows, overwrite, inputs)
            return
        if scheduler is not None:
            raise ValueError("--scheduler streams Parquet input into a Parquet folder; give a .parquet input (or a folder "
                             f"of them) and an --out that is not a .csv (got {path.name} -> {out.name}).")
        if kind == "parquet-folder":
            raise ValueError(f"{source} is a folder of Parquet files; it is read only with a Parquet output folder "
                             "(an --out that is not a .csv).")
        check_output(out, overwrite=overwrite, kind="file", inputs=inputs, suffixes=[".csv", *PARQUET])
        estimator = _load_model(model_dir)
        if kind == "file" and not parquet_in and out.suffix == ".csv" and fmt in ("auto", "table") \
                and _csv_has_features(path, estimator):
            _predict_csv(estimator, path, out, imts, station_terms, chunk_rows)  # bounded memory
            return
        table = _predict_input(source, kind, fmt, estimator)
        with console.status(f"predicting {len(table)} rows"):
            pred = estimator.predict(table, None if imts is None else _split_imts(imts), station_terms=station_terms)
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    cols = {}
    for i, imt in enumerate(pred.imts):
        unit = "cm/s" if imt == "PGV" else "g"
        cols[f"{imt}_ln_mean"] = pred.mean[i]
        cols[f"{imt}_median_{'cm_s' if unit == 'cm/s' else unit}"] = np.exp(pred.mean[i])
        cols[f"{imt}_tau"], cols[f"{imt}_phi"], cols[f"{imt}_sigma"] = pred.tau[i], pred.phi[i], pred.sigma[i]
    result = pd.concat([table.reset_index(drop=True), pd.DataFrame(cols)], axis=1)
    if out.suffix in PARQUET:
        atomic_write_with(out, lambda tmp: result.to_parquet(tmp, index=False))
    else:
        atomic_write_with(out, lambda tmp: result.to_csv(tmp, index=False))
    console.print(f"[green]wrote[/] {len(result)} rows to {out}")


def _csv_has_features(path: Path, estimator) -> bool:  # noqa: ANN001
    """Whether a CSV's header holds every feature the model needs (else it is read as a flatfile)."""
    import pandas as pd

    try:
        header = set(pd.read_csv(path, nrows=0).columns)
    except (OSError, ValueError):
        return False
    return all(c in header for c in getattr(estimator, "required_features", []) or [])


def _predict_csv(estimator, table_path: Path, out: Path, imts: str | None, station_terms: str,  # noqa: ANN001
                 chunk_rows: int) -> None:
    """`gmlearn predict` CSV to CSV: read, predict and write --chunk-rows rows at a time (bounded memory)."""
    import warnings

    from gmlearn.distributed.predict import predict_csv

    with console.status(f"predicting {table_path.name} in chunks of {chunk_rows} rows"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = predict_csv(estimator, table_path, out, None if imts is None else _split_imts(imts),
                             chunk_rows=chunk_rows, station_terms=station_terms)
    if result.out_of_range:
        console.print(f"[yellow]warning:[/] {escape(result.out_of_range)}", soft_wrap=True, highlight=False)
    console.print(f"[green]wrote[/] {result.rows} rows to {out}")


def _load_model(model_dir: Path):  # noqa: ANN202
    from gmlearn.gmpe.persistence import load_model

    return load_model(model_dir)


def _predict_input(source: str, kind: str, fmt: str, estimator):  # noqa: ANN001, ANN202
    """The rows to predict: a table with the model's features, a flatfile read like `data ingest`, a store or a dataset."""
    from gmlearn import datasets
    from gmlearn.cli_inputs import read_flatfile_frame, read_table_file
    from gmlearn.store import FeatureStore

    if kind == "store":
        return FeatureStore(source).to_frame(dropna=False)
    if kind == "dataset":
        return datasets.load(source)
    if fmt not in ("auto", "table"):
        return read_flatfile_frame(source, fmt)
    table = read_table_file(source)
    needed = list(getattr(estimator, "required_features", []) or [])
    if fmt == "table" or all(c in table.columns for c in needed):
        return table
    return read_flatfile_frame(source, "auto")


def _check_parquet(path: Path) -> None:
    """Read the footer of a Parquet file; an unreadable one raises an error naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gmlearn.exceptions import FlatfileError

    try:
        pq.ParquetFile(path).close()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FlatfileError(f"cannot be read as Parquet ({' '.join(str(exc).split())}).", file=str(path)) from exc


def _predict_stream(model_dir: Path, table_path: Path, out: Path, imts: str | None, station_terms: str,
                    scheduler: str | None, chunk_rows: int, overwrite: bool, inputs: list) -> None:
    """`gmlearn predict` on Parquet: stream into a folder of Parquet parts (gmlearn.distributed.predict_parquet)."""
    from gmlearn.distributed.predict import predict_parquet
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder

    try:
        check_output(out, overwrite=overwrite, kind="folder", inputs=inputs)
        if table_path.is_file():
            _check_parquet(table_path)
        estimator = _load_model(model_dir)
        with _progress() as bar, output_folder(out, overwrite=overwrite, inputs=inputs, command="predict") as tmp:
            task = bar.add_task("predicting", total=None)

            def _step(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, total=total, description=message)

            result = predict_parquet(estimator, table_path, tmp, None if imts is None else _split_imts(imts),
                                     scheduler=scheduler, chunk_rows=chunk_rows, station_terms=station_terms,
                                     overwrite=True, progress=_step)
    except (GMLearnError, ValueError, KeyError, OSError, ConnectionError) as exc:
        _fail(exc)
    console.print(f"[green]wrote[/] {result.rows} rows in {result.parts} Parquet part(s) to {out} ({result.seconds:.1f} s)")


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("gmlearn-demo"), "--out", "-o", help="Output folder."),
    folds: int = typer.Option(5, help="Cross-validation folds."),
    seed: int = typer.Option(0, help="Random seed."),
    quick: bool = typer.Option(False, "--quick", help="Small settings (a smoke test of every stage in about a minute)."),
    stages: str | None = typer.Option(None, help="Comma-separated stages to run (default: all): store, train, "
                                      "evaluation, shakemap, hazard, explain, waveforms."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """The whole of gmlearn on the bundled data: store, models, evaluation, Kaikoura shakemap, hazard, SHAP report, waveforms, index.html."""
    from gmlearn.demo import run_demo
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder

    try:
        check_output(out, overwrite=overwrite, kind="folder")
        with _progress() as bar, output_folder(out, overwrite=overwrite, command="demo") as tmp:
            task = bar.add_task("demo", total=1)

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message[:70])

            names = [x.strip() for x in stages.split(",") if x.strip()] if stages else None
            index = out / run_demo(tmp, n_splits=folds, random_state=seed, quick=quick, stages=names,
                                   progress=_step).relative_to(tmp)
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
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


def main() -> None:
    """The ``gmlearn`` command: ``app``, whose group turns every error (a missing optional dependency
    included, named with its extra) into one line and exit code 2 (:mod:`gmlearn.cli_errors`)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
