"""Streaming prediction of Parquet tables in bounded memory, in this process or on Dask workers.

The input (one Parquet file, a folder of Parquet files, or a feature store)
is cut into *pieces*: consecutive row groups of one file adding up to about
``chunk_rows`` rows. Each piece is read in batches of at most ``chunk_rows``
rows (only the columns the model needs, plus ``keep``), predicted, and
written to its own ``part-NNNNN.parquet``, so memory is bounded by one batch,
not by the table. Without a scheduler the pieces run one after the other in
this process; with one, they run on the workers, which must see the input
and output paths (a shared filesystem on a cluster). The output folder has
the same parts either way, and reading it in name order gives the input rows
in order. It is built under a temporary name and renamed into place, so a
crash never leaves a half-written result.

Output columns per IMT: ``<IMT>_ln_mean``, ``<IMT>_tau``, ``<IMT>_phi``,
``<IMT>_sigma`` (natural-log units; the median is ``exp(ln_mean)``).
"""

from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, ModelError, OutOfRangeWarning
from gmlearn.store.atomic import atomic_folder

__all__ = ["predict_parquet", "predict_csv", "StreamResult", "prediction_columns", "DEFAULT_CHUNK_ROWS"]

#: Rows predicted at once (per batch), by default.
DEFAULT_CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class StreamResult:
    """What :func:`predict_parquet` wrote.

    Attributes
    ----------
    path
        Output folder of ``part-NNNNN.parquet`` files.
    rows
        Rows predicted.
    parts
        Number of part files.
    seconds
        Wall time.
    out_of_range
        The out-of-range warnings, one line per feature with the count over
        all rows (``None`` when every row was inside the model's training
        ranges); the same counts as predicting the whole table at once.
    out_of_range_rows
        Feature -> number of rows outside its training range (``"domain"``:
        rows outside the training domain of an anchored model; ``"region"``:
        rows of a region it was not trained on).
    """

    path: Path
    rows: int
    parts: int
    seconds: float
    out_of_range: str | None = None
    out_of_range_rows: dict[str, int] | None = None


# what -> [rows, rows predicted in the batches that warned, first message]
_Counts = dict[str, list[Any]]
_WARNING = re.compile(r"^(?P<owner>[^:]+): (?P<n>\d+)(?: of (?P<m>\d+))? row\(s\) (?P<rest>.*)$", re.S)


def _count_warnings(caught: list, counts: _Counts, rows: int) -> None:
    """Add one batch's out-of-range warnings to ``counts``, keyed by feature (or 'domain', 'region')."""
    for w in caught:
        if not issubclass(w.category, OutOfRangeWarning):
            continue
        text = str(w.message)
        match = _WARNING.match(text)
        if match is None:  # a message without a count: keep the first of its kind
            counts.setdefault(text, [0, 0, text])
            continue
        rest = match["rest"]
        feature = re.search(r"^have (\S+) outside", rest)
        key = feature.group(1) if feature else "domain" if "training domain" in rest else \
            "region" if "from a region" in rest else rest[:40]
        entry = counts.setdefault(key, [0, 0, text])
        entry[0] += int(match["n"])
        entry[1] += rows if match["m"] else 0
        if _farther(text, entry[2]):
            entry[2] = text


_EXAMPLE = re.compile(r"\[(?P<lo>[-+0-9.eE]+), (?P<hi>[-+0-9.eE]+)\] \(e\.g\. (?P<v>[-+0-9.eE]+|nan|inf|-inf)\)")


def _farther(new: str, old: str) -> bool:
    """Whether ``new`` names a value farther outside the range than ``old`` (so the report shows the worst)."""
    a, b = _EXAMPLE.search(new), _EXAMPLE.search(old)
    if a is None or b is None:
        return False
    lo, hi = float(a["lo"]), float(a["hi"])
    return max(lo - float(a["v"]), float(a["v"]) - hi) > max(lo - float(b["v"]), float(b["v"]) - hi)


def _merge_counts(parts: Iterable[_Counts]) -> _Counts:
    total: _Counts = {}
    for counts in parts:
        for key, (n, m, text) in counts.items():
            entry = total.setdefault(key, [0, 0, text])
            entry[0] += n
            entry[1] += m
            if _farther(text, entry[2]):
                entry[2] = text
    return total


def _range_message(counts: _Counts, rows: int) -> str | None:
    """One line per kind of warning, with the counts over every batch (``rows`` predicted in all)."""
    lines = []
    for n, _, text in counts.values():
        match = _WARNING.match(text)
        if match is None:
            lines.append(text)
            continue
        total = f" of {rows}" if match["m"] else ""
        lines.append(f"{match['owner']}: {n}{total} row(s) {match['rest']}")
    return "\n".join(lines) if lines else None


@dataclass(frozen=True)
class _Piece:
    file: str
    row_groups: tuple[int, ...]


def prediction_columns(imts: Sequence[str]) -> list[str]:
    """Output columns for ``imts``, in order."""
    return [f"{imt}_{k}" for imt in imts for k in ("ln_mean", "tau", "phi", "sigma")]


def _files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in (".parquet", ".pq"))
        if files:
            return files
    msg = f"The 'source' parameter must be a Parquet file, a folder of Parquet files or a FeatureStore. Got {str(source)!r}."
    raise FileNotFoundError(msg)


def _pieces(files: list[Path], chunk_rows: int) -> list[_Piece]:
    import pyarrow.parquet as pq

    pieces: list[_Piece] = []
    for file in files:
        meta = pq.ParquetFile(file).metadata
        group: list[int] = []
        rows = 0
        for i in range(meta.num_row_groups):
            group.append(i)
            rows += meta.row_group(i).num_rows
            if rows >= chunk_rows:
                pieces.append(_Piece(str(file), tuple(group)))
                group, rows = [], 0
        if group:
            pieces.append(_Piece(str(file), tuple(group)))
    return pieces or [_Piece(str(files[0]), ())]


def _predict_frame(model: Any, table: pd.DataFrame, imts: list[str], station_terms: str, keep: list[str],
                   counts: _Counts | None = None) -> pd.DataFrame:
    """Prediction columns (after the ``keep`` columns) for one batch; out-of-range rows are added to ``counts``."""
    kwargs = {} if type(model).__name__ == "OpenQuakeGMPE" else {"station_terms": station_terms}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OutOfRangeWarning)  # counted over all batches, reported once
        pred = model.predict(table, imts, **kwargs)
    if counts is not None:
        _count_warnings(caught, counts, len(table))
    cols: dict[str, np.ndarray] = {k: table[k].to_numpy() for k in keep}
    for i, imt in enumerate(pred.imts):
        cols[f"{imt}_ln_mean"], cols[f"{imt}_tau"] = pred.mean[i], pred.tau[i]
        cols[f"{imt}_phi"], cols[f"{imt}_sigma"] = pred.phi[i], pred.sigma[i]
    return pd.DataFrame(cols)


def _run_piece(model: Any, piece: _Piece, index: int, folder: str, imts: list[str], columns: list[str],
               keep: list[str], station_terms: str, chunk_rows: int, join: tuple | None) -> tuple[int, _Counts]:
    """Predict one piece batch by batch into ``part-<index>.parquet``; return (rows, out-of-range counts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, counts = 0, {}
    writer = None
    path = Path(folder) / f"part-{index:05d}.parquet"
    try:
        for batch in pq.ParquetFile(piece.file).iter_batches(batch_size=chunk_rows, row_groups=list(piece.row_groups),
                                                            columns=columns):
            table = batch.to_pandas()
            if join is not None:
                from gmlearn.store.partitioned import _join

                table = _join(table, *join)
            out = _predict_frame(model, table, imts, station_terms, keep, counts)
            arrow = pa.Table.from_pandas(out, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, arrow.schema)
            writer.write_table(arrow)
            rows += len(out)
            del table, out, arrow
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # an empty input still gets one (empty) part
        empty = {k: pd.Series(dtype="string") for k in keep} | {c: pd.Series(dtype=float) for c in prediction_columns(imts)}
        pd.DataFrame(empty).to_parquet(path, index=False)
    return rows, counts


def _for_workers(model: Any, threads: int) -> Any:
    """A copy of ``model`` whose XGBoost boosters use the workers' thread count (no oversubscription)."""
    boosters = getattr(model, "boosters_", None)
    if not boosters:
        return model
    import copy

    clone = copy.copy(model)
    clone.boosters_ = {}
    for imt, booster in boosters.items():
        clone.boosters_[imt] = copy.deepcopy(booster)
        clone.boosters_[imt].set_params(n_jobs=max(int(threads), 1))
    return clone


def _compiled(model: Any) -> Any:
    """A shallow copy of a boosted model with compiled trees (the model itself when it cannot be compiled)."""
    if not hasattr(model, "compile") or getattr(model, "compiled_", None) is not None:
        return model
    import copy

    try:
        return copy.copy(model).compile()
    except ModelError:
        return model


def _resolve_model(model: Any) -> Any:
    if isinstance(model, (str, os.PathLike)):
        from gmlearn.gmpe.persistence import load_model

        return load_model(model)
    if not hasattr(model, "predict"):
        msg = f"The 'model' parameter must be a fitted gmlearn model or a model folder. Got {type(model).__name__} instead."
        raise ModelError(msg)
    return model


def _plan(source: Any, model: Any, keep: Sequence[str], chunk_rows: int) -> tuple[list[_Piece], list[str], list[str], tuple | None]:
    """Pieces, columns to read, columns to keep, and the store join (events, stations, order) if any."""
    import pyarrow.parquet as pq

    from gmlearn.store import FeatureStore

    needed = list(model.required_features)
    if not isinstance(source, FeatureStore) and (Path(source) / "manifest.json").is_file():
        source = FeatureStore(source)  # a store folder: its records joined with events and stations
    if isinstance(source, FeatureStore):
        from gmlearn.store.partitioned import flat_columns

        recs = source._files("records")
        rec_names = list(pq.read_schema(recs[0]).names)
        events, stations = source.events, source.stations
        ev, st, rec_only = flat_columns(rec_names, list(events.columns), list(stations.columns))
        available = ["event_id", "station_id", *ev, *st, *rec_only]
        files = recs
    else:
        files = _files(Path(source))
        available = list(pq.read_schema(files[0]).names)
    wanted_keep = [k for k in keep if k in available]
    missing = [c for c in needed if c not in available]
    if missing:
        msg = f"{type(model).__name__} requires column(s) {missing}; the input has {available}."
        raise MissingColumnError(msg)
    order = list(dict.fromkeys([*wanted_keep, *needed]))
    if isinstance(source, FeatureStore):
        read = [c for c in rec_names if c in order or c in ("event_id", "station_id")]
        join = (events[["event_id", *[c for c in ev if c in order]]], stations[["station_id", *[c for c in st if c in order]]], order)
        return _pieces(files, chunk_rows), read, wanted_keep, join
    return _pieces(files, chunk_rows), order, wanted_keep, None


def _prepare(model: Any, imts: Any, chunk_rows: Any, station_terms: str, compile_trees: bool,
             caller: str) -> tuple[Any, list[str]]:
    """Check the arguments shared by the streamed predictions; return the (compiled) model and its IMTs."""
    from gmlearn.gmpe.base import as_imts, check_station_mode

    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        msg = f"The 'chunk_rows' parameter of {caller} must be a positive int. Got {chunk_rows!r} instead."
        raise ValueError(msg)
    model = _resolve_model(model)
    if compile_trees:
        model = _compiled(model)
    names = list(model.imts_) if imts is None and hasattr(model, "imts_") else as_imts(imts if imts is not None else [])
    check_station_mode(station_terms, pd.DataFrame({"station_id": []}))
    return model, names


def predict_parquet(
    model: Any,
    source: str | os.PathLike[str] | Any,
    out: str | os.PathLike[str],
    imts: str | Iterable[str] | None = None,
    *,
    scheduler: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    station_terms: str = "ergodic",
    keep: Sequence[str] = ("record_id",),
    overwrite: bool = False,
    compile_trees: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> StreamResult:
    """Predict every row of a Parquet table into a Parquet folder, in bounded memory.

    Parameters
    ----------
    model
        A fitted gmlearn model (``TreeGMM``, ``MonotoneGMM``, ``HybridGMM``,
        ``BayesianNNGMM``, ``OpenQuakeGMPE``) or the folder of a saved one.
    source
        A Parquet file, a folder of Parquet files (read in name order), or a
        :class:`~gmlearn.store.FeatureStore` (or its folder), with the model's features.
    out
        Output folder to create (``part-NNNNN.parquet`` files).
    imts
        IMTs to predict (default: every IMT the model was fitted for; needed
        for an ``OpenQuakeGMPE``).
    scheduler
        ``None``: run in this process. ``"local"``: a LocalCluster; an address
        or a ``Client``: that cluster (see :func:`gmlearn.distributed.get_client`).
    chunk_rows
        Rows per batch (and about per part): peak memory grows with it.
    station_terms
        ``"ergodic"`` or ``"known"`` (see the models' ``predict``).
    keep
        Input columns copied to the output when present (e.g. ``record_id``).
    overwrite
        Replace an existing output folder.
    compile_trees
        Evaluate boosted models through :mod:`gmlearn.gmpe.compiled` lookup
        tables (several times faster; equal to XGBoost's predictions to about
        1e-5 in ln units). ``False`` uses XGBoost's own prediction. The
        caller's model is not modified.
    progress
        Optional ``callable(done, total, message)``, once per part (local runs).

    Returns
    -------
    StreamResult

    Raises
    ------
    MissingColumnError
        If the input lacks a feature the model needs (before anything runs).
    ValueError
        For impossible feature values (from the model's input checks) or a
        bad ``chunk_rows``; the output folder is then not created.
    """

    start = time.perf_counter()
    model, names = _prepare(model, imts, chunk_rows, station_terms, compile_trees, "predict_parquet")
    keep = list(keep) + (["station_id"] if station_terms == "known" and "station_id" not in keep else [])
    pieces, columns, kept, join = _plan(source, model, keep, chunk_rows)
    if station_terms == "known" and "station_id" not in kept:
        msg = "station_terms='known' needs a 'station_id' column in the input; it has none."
        raise ValueError(msg)
    out = Path(out)
    if out.exists() and not overwrite:
        msg = f"{out} exists; pass overwrite=True to replace it."
        raise FileExistsError(msg)
    results: list[tuple[int, _Counts]] = []

    def _write(tmp: Path) -> None:
        args = (names, columns, kept, station_terms, chunk_rows, join)
        if scheduler is None:
            for i, piece in enumerate(pieces):
                results.append(_run_piece(model, piece, i, str(tmp), *args))
                if progress is not None:
                    progress(i + 1, len(pieces), f"{sum(r for r, _ in results)} rows")
            return
        from gmlearn.distributed.client import get_client

        with get_client(scheduler) as client:
            remote = client.scatter(_for_workers(model, min(client.nthreads().values(), default=1)), broadcast=True)
            futures = client.map(_run_piece, [remote] * len(pieces), pieces, range(len(pieces)),
                                 [str(tmp)] * len(pieces), *[[a] * len(pieces) for a in args], pure=False)
            results.extend(client.gather(futures))

    if out.exists():
        staging = out.with_name(f".{out.name}.new")
        shutil.rmtree(staging, ignore_errors=True)
        atomic_folder(staging, _write)
        shutil.rmtree(out)
        os.replace(staging, out)
    else:
        atomic_folder(out, _write)
    counts = _merge_counts(c for _, c in results)
    warning = _range_message(counts, int(sum(r for r, _ in results)))
    for line in (warning or "").splitlines():
        warnings.warn(f"predict_parquet: {line}", OutOfRangeWarning, stacklevel=2)
    return StreamResult(out, int(sum(r for r, _ in results)), len(pieces), time.perf_counter() - start, warning,
                        {k: int(v[0]) for k, v in counts.items()})


def _csv_columns(pred_frame: pd.DataFrame, imts: list[str]) -> pd.DataFrame:
    """Prediction columns of the CSV output: ln mean, median (g or cm/s), tau, phi, sigma per IMT."""
    cols = {}
    for imt in imts:
        mean = pred_frame[f"{imt}_ln_mean"].to_numpy()
        cols[f"{imt}_ln_mean"] = mean
        cols[f"{imt}_median_{'cm_s' if imt == 'PGV' else 'g'}"] = np.exp(mean)
        for k in ("tau", "phi", "sigma"):
            cols[f"{imt}_{k}"] = pred_frame[f"{imt}_{k}"].to_numpy()
    return pd.DataFrame(cols)


def predict_csv(
    model: Any,
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    imts: str | Iterable[str] | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    station_terms: str = "ergodic",
    compile_trees: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> StreamResult:
    """Predict every row of a CSV table into a CSV file, ``chunk_rows`` rows at a time (bounded memory).

    The output holds the input columns then, per IMT, ``<IMT>_ln_mean``,
    ``<IMT>_median_g`` (``_median_cm_s`` for PGV), ``_tau``, ``_phi`` and
    ``_sigma``, with the values of predicting the whole table at once (a
    column pandas types differently in one chunk, e.g. integers with a gap,
    may print as ``1.0`` rather than ``1``). It is written under a temporary name and renamed into
    place (``out`` is replaced when it exists; the caller decides whether
    that is allowed).

    Parameters
    ----------
    model, imts, station_terms, compile_trees
        As for :func:`predict_parquet`.
    source
        CSV file (optionally compressed) with the model's features.
    out
        Output CSV file.
    chunk_rows
        Rows read and predicted at once: peak memory grows with it, not with the table.
    progress
        Optional ``callable(done_rows, 0, message)`` after each chunk.

    Returns
    -------
    StreamResult
        ``parts`` is the number of chunks; ``out_of_range`` counts every row.
    """
    from gmlearn.store.atomic import atomic_write_with

    start = time.perf_counter()
    model, names = _prepare(model, imts, chunk_rows, station_terms, compile_trees, "predict_csv")
    header = list(pd.read_csv(source, nrows=0).columns)
    missing = [c for c in model.required_features if c not in header]
    if missing:
        msg = f"{type(model).__name__} requires column(s) {missing}; the input has {header}."
        raise MissingColumnError(msg)
    counts: _Counts = {}
    done = [0, 0]

    def _write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            for chunk in pd.read_csv(source, chunksize=chunk_rows):
                pred = _predict_frame(model, chunk, names, station_terms, [], counts)
                result = pd.concat([chunk.reset_index(drop=True), _csv_columns(pred, names)], axis=1)
                result.to_csv(fh, index=False, header=done[1] == 0)
                done[0] += len(result)
                done[1] += 1
                if progress is not None:
                    progress(done[0], 0, f"{done[0]} rows")
            if done[1] == 0:
                fh.write(",".join(header + list(_csv_columns(pd.DataFrame(
                    {c: [] for c in prediction_columns(names)}), names).columns)) + "\n")

    atomic_write_with(Path(out), _write)
    warning = _range_message(counts, done[0])
    for line in (warning or "").splitlines():
        warnings.warn(f"predict_csv: {line}", OutOfRangeWarning, stacklevel=2)
    return StreamResult(Path(out), done[0], done[1], time.perf_counter() - start, warning,
                        {k: int(v[0]) for k, v in counts.items()})
