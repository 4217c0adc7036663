"""The feature store as a Dask DataFrame: partitioned Parquet read by ``dask.dataframe``.

The records table is stored in row groups of ``row_group_rows`` rows
(:data:`gmlearn.store.feature_store.ROW_GROUP_ROWS` by default), and
:func:`read_dask` makes one partition per row group with
:func:`dask.dataframe.read_parquet`. Events and stations are small (one row
per event or station): they are read once and joined to every partition,
so each partition is a piece of the same flat table
:meth:`~gmlearn.store.FeatureStore.to_frame` returns, in store order.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from gmlearn.exceptions import MissingColumnError
from gmlearn.schema import imt_string
from gmlearn.store.tables import coerce_dtypes

if TYPE_CHECKING:  # pragma: no cover
    from gmlearn.store.feature_store import FeatureStore

__all__ = ["read_dask", "flat_columns"]


def flat_columns(records: list[str], events: list[str], stations: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Column order of the flat table: ``event_id, station_id``, event, station, then record columns.

    Returns the event, station and record-only column lists in that order
    (the same rule as the DuckDB view ``flat``).
    """
    rec = set(records)
    ev = [c for c in events if c != "event_id" and c not in rec]
    st = [c for c in stations if c != "station_id" and c not in rec]
    rec_only = [c for c in records if c not in ("event_id", "station_id")]
    return ev, st, rec_only


def _join(part: pd.DataFrame, events: pd.DataFrame, stations: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """One records partition joined to its events and stations, in ``order``."""
    out = part.merge(events, on="event_id", how="left", sort=False)
    out = out.merge(stations, on="station_id", how="left", sort=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return coerce_dtypes(out[order])


def read_dask(store: "FeatureStore", imts: Iterable[str] | None = None, *, columns: Iterable[str] | None = None):  # noqa: ANN201
    """Lazy flat table of a store, one partition per row group of its records.

    Parameters
    ----------
    store
        An open :class:`~gmlearn.store.FeatureStore`.
    imts
        IMT columns to keep (default: every stored IMT). No record is dropped.
    columns
        Non-IMT columns to keep besides the keys (default: all).

    Returns
    -------
    dask.dataframe.DataFrame
        Columns, order and dtypes of ``store.to_frame(imts, dropna=False,
        columns=columns)``; ``compute()`` gives the same table (its index
        restarts in each partition).

    Raises
    ------
    MissingColumnError
        For an IMT or column not in the store.
    """
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    wanted = list(store.imts) if imts is None else [imt_string(i) for i in imts]
    unknown = [i for i in wanted if i not in store.imts]
    if unknown:
        msg = f"IMT(s) {unknown} are not in this store; it has {store.imts}."
        raise MissingColumnError(msg)
    rec_files = store._files("records")
    rec_names = list(pq.read_schema(rec_files[0]).names)
    events, stations = store.events, store.stations
    ev, st, rec_only = flat_columns(rec_names, list(events.columns), list(stations.columns))
    base = ["event_id", "station_id", *ev, *st, *[c for c in rec_only if c not in store.imts]]
    if columns is not None:
        columns = list(columns)
        missing = [c for c in columns if c not in base]
        if missing:
            msg = f"Column(s) {missing} are not in this store; it has {base}."
            raise MissingColumnError(msg)
        base = list(dict.fromkeys(["record_id", "event_id", "station_id", *columns]))
    order = base + wanted
    read = [c for c in rec_names if c in order or c in ("event_id", "station_id")]
    events = events[["event_id", *[c for c in ev if c in order]]]
    stations = stations[["station_id", *[c for c in st if c in order]]]
    records = dd.read_parquet([str(f) for f in rec_files], columns=read, split_row_groups=True, calculate_divisions=False)
    meta = _join(records._meta, events.iloc[:0], stations.iloc[:0], order)
    return records.map_partitions(_join, events, stations, order, meta=meta, align_dataframes=False)
