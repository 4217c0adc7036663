"""FeatureStore: a folder of Parquet tables (events, stations, records) queried with DuckDB.

Layout::

    store/
      manifest.json          format, version, tables, content hash, sources
      v000002/events.parquet
      v000002/stations.parquet
      v000002/records.parquet

Every write builds a new version folder and then replaces ``manifest.json``
atomically, so a crash mid-write leaves the previous version intact and
readable. Values of IMT columns are natural logs (ln g; ln cm/s for PGV).
Tables are written in row groups of ``row_group_rows`` rows, the partitions
that :meth:`FeatureStore.to_dask` reads in parallel. A manifest is checked
before use (:func:`check_manifest`): it can only name files inside the store.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn._version import __version__
from gmlearn.exceptions import MissingColumnError, StoreError, StoreNotFoundError
from gmlearn.schema import COLUMNS, TECTONIC_REGIONS, imt_string
from gmlearn.store.atomic import atomic_folder, atomic_write_json
from gmlearn.store.derived import add_derived
from gmlearn.store.tables import coerce_dtypes, imt_columns, split

__all__ = ["FeatureStore", "FORMAT", "FORMAT_VERSION", "ROW_GROUP_ROWS", "MAX_MANIFEST_BYTES", "check_manifest"]

FORMAT = "gmlearn-feature-store"
FORMAT_VERSION = 1
#: Rows per Parquet row group (one Dask partition each) of the stored tables.
ROW_GROUP_ROWS = 250_000
#: Largest manifest.json read (bytes).
MAX_MANIFEST_BYTES = 16 * 2**20
_TABLE_NAMES = ("events", "stations", "records")
_FOLDER = re.compile(r"^v[0-9]{6}$")
_RANGE_FILTERS = ("mag", "rrup", "rjb", "repi", "rhypo", "vs30", "hypo_depth")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_hash(df: pd.DataFrame, key: str) -> str:
    """Order-independent content hash of one table."""
    h = hashlib.sha256()
    if len(df):
        ordered = df.sort_values(key, kind="mergesort").reset_index(drop=True)
        ordered = ordered[sorted(ordered.columns)]
        h.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    h.update(json.dumps(sorted(map(str, df.columns))).encode())
    return h.hexdigest()


def check_manifest(meta: Any, manifest: Path) -> dict[str, Any]:
    """Validate a parsed ``manifest.json``; return it unchanged.

    The manifest decides which folder a write deletes and which files a read
    opens, so a manifest from elsewhere must not point outside the store.

    Raises
    ------
    StoreError
        Naming the key that is missing, of the wrong type, or a path other
        than ``vNNNNNN/<table>.parquet``.
    """
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fmt = meta.get("format") if isinstance(meta, dict) else None
        msg = f"{manifest} is not a gmlearn feature store (format {fmt!r}, expected {FORMAT!r})."
        raise StoreError(msg)
    fv = meta.get("format_version")
    if not isinstance(fv, int) or isinstance(fv, bool) or fv < 1:
        msg = f"{manifest}: key 'format_version' must be a positive integer; got {fv!r}."
        raise StoreError(msg)
    if fv > FORMAT_VERSION:
        msg = f"{manifest} has format_version {fv}; this gmlearn reads up to {FORMAT_VERSION}. Upgrade gmlearn."
        raise StoreError(msg)
    version, folder, tables = meta.get("version"), meta.get("folder"), meta.get("tables")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        msg = f"{manifest}: key 'version' must be a positive integer; got {version!r}."
        raise StoreError(msg)
    if not isinstance(folder, str) or not _FOLDER.match(folder):
        msg = f"{manifest}: key 'folder' must be a version folder name like 'v000001'; got {folder!r}."
        raise StoreError(msg)
    if not isinstance(tables, dict):
        msg = f"{manifest}: key 'tables' must be an object with {list(_TABLE_NAMES)}; got {type(tables).__name__}."
        raise StoreError(msg)
    for name in _TABLE_NAMES:
        entry = tables.get(name)
        if not isinstance(entry, dict) or entry.get("file") != f"{folder}/{name}.parquet":
            got = entry.get("file") if isinstance(entry, dict) else entry
            msg = f"{manifest}: key 'tables.{name}.file' must be {folder + '/' + name + '.parquet'!r}; got {got!r}."
            raise StoreError(msg)
        rows = entry.get("rows")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
            msg = f"{manifest}: key 'tables.{name}.rows' must be a non-negative integer; got {rows!r}."
            raise StoreError(msg)
    for key, kind in (("imts", list), ("sources", list), ("content_hash", str)):
        if key in meta and not isinstance(meta[key], kind):
            msg = f"{manifest}: key {key!r} must be a JSON {kind.__name__}; got {type(meta[key]).__name__}."
            raise StoreError(msg)
    return meta


class FeatureStore:
    """A versioned feature store of ground-motion records.

    Parameters
    ----------
    path
        Folder of an existing store (see :meth:`create`).

    Raises
    ------
    StoreNotFoundError
        If ``path`` holds no store.
    StoreError
        If the manifest is corrupt or of another format.

    Examples
    --------
    >>> from gmlearn import datasets
    >>> from gmlearn.store import FeatureStore
    >>> store = FeatureStore.create("nz-store").append(datasets.load("nzsmd"))  # doctest: +SKIP
    >>> table = store.to_frame(imts=["PGA", "SA(1.0)"], tectonic_region="crustal")  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest = self.path / "manifest.json"
        if not manifest.is_file():
            msg = f"No feature store at {self.path} (no manifest.json); create one with FeatureStore.create(path)."
            raise StoreNotFoundError(msg)
        size = manifest.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            msg = f"{manifest} is {size} bytes; a store manifest is at most {MAX_MANIFEST_BYTES} bytes."
            raise StoreError(msg)
        try:
            meta = json.loads(manifest.read_bytes())
        except (OSError, ValueError, RecursionError) as exc:
            msg = f"Corrupt feature-store manifest {manifest}: {exc}."
            raise StoreError(msg) from exc
        self._meta: dict[str, Any] = check_manifest(meta, manifest)

    # -- creation -------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, overwrite: bool = False) -> "FeatureStore":
        """Create an empty store at ``path``.

        Parameters
        ----------
        path
            Folder to create (parents are created).
        overwrite
            Replace an existing store there. A folder that exists and is not a
            store is never overwritten.
        """
        path = Path(path)
        if (path / "manifest.json").exists():
            if not overwrite:
                msg = f"A feature store already exists at {path}; pass overwrite=True to replace it, or open it with FeatureStore(path)."
                raise StoreError(msg)
        elif path.exists() and any(path.iterdir()):
            msg = f"{path} exists and is not an empty folder or a feature store; refusing to write there."
            raise StoreError(msg)
        path.mkdir(parents=True, exist_ok=True)
        empty = {t: pd.DataFrame({k: pd.Series(dtype="string") for k in _keys(t)}) for t in _TABLE_NAMES}
        cls._write_version(path, empty, sources=[], previous=None)
        return cls(path)

    @classmethod
    def open(cls, path: str | Path) -> "FeatureStore":
        """Open an existing store (same as ``FeatureStore(path)``)."""
        return cls(path)

    # -- metadata -------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Version number, incremented by every write."""
        return int(self._meta["version"])

    @property
    def content_hash(self) -> str:
        """SHA-256 of the table contents (independent of row order and version)."""
        return str(self._meta["content_hash"])

    @property
    def sources(self) -> list[dict[str, Any]]:
        """What was appended, in order (source name, rows, time)."""
        return list(self._meta.get("sources", []))

    @property
    def imts(self) -> list[str]:
        """IMTs stored, in canonical order."""
        return list(self._meta.get("imts", []))

    def __len__(self) -> int:
        return int(self._meta["tables"]["records"]["rows"])

    def __repr__(self) -> str:
        t = self._meta["tables"]
        return (
            f"FeatureStore({str(self.path)!r}, version={self.version}, events={t['events']['rows']}, "
            f"stations={t['stations']['rows']}, records={t['records']['rows']}, imts={len(self.imts)})"
        )

    def _file(self, table: str) -> Path:
        return self.path / self._meta["tables"][table]["file"]

    def table(self, name: str) -> pd.DataFrame:
        """One stored table (``"events"``, ``"stations"`` or ``"records"``)."""
        if name not in _TABLE_NAMES:
            msg = f"The 'name' parameter must be one of {list(_TABLE_NAMES)}. Got {name!r} instead."
            raise ValueError(msg)
        return pd.read_parquet(self._file(name))

    @property
    def events(self) -> pd.DataFrame:
        """Events table (one row per event)."""
        return self.table("events")

    @property
    def stations(self) -> pd.DataFrame:
        """Stations table (one row per station)."""
        return self.table("stations")

    @property
    def records(self) -> pd.DataFrame:
        """Records table (one row per record, ln IMT columns)."""
        return self.table("records")

    # -- writing --------------------------------------------------------------------
    def append(self, table: pd.DataFrame, *, source: str | None = None, derive: bool = True,
               row_group_rows: int = ROW_GROUP_ROWS) -> "FeatureStore":
        """Add records from a canonical table (as returned by a reader).

        Parameters
        ----------
        table
            One row per record in the vocabulary (``gmlearn.store.readers``).
        source
            Name recorded in the manifest (default: ``table.attrs["source"]``).
        derive
            Fill missing features (z1pt0, z2pt5, ztor, width, rx, ry0) with
            :func:`gmlearn.store.derived.add_derived`.
        row_group_rows
            Rows per Parquet row group, i.e. per partition of :meth:`to_dask`.

        Returns
        -------
        FeatureStore
            ``self``, re-read at the new version.

        Raises
        ------
        StoreError
            If a record id already exists in the store; nothing is written.
        """
        source = source or str(table.attrs.get("source", "table"))
        for key in ("record_id", "event_id", "station_id"):
            if key not in table.columns:
                msg = f"Cannot append {source}: column {key!r} is missing; given columns: {list(table.columns)}."
                raise MissingColumnError(msg)
        new = add_derived(table) if derive else table.copy()
        new = coerce_dtypes(new)
        current = self.to_frame(dropna=False) if len(self) else None
        if current is not None:
            clash = np.intersect1d(current["record_id"].astype(str), new["record_id"].astype(str))
            if clash.size:
                msg = (
                    f"Cannot append {source}: {clash.size} record id(s) already in the store "
                    f"(e.g. {list(clash[:5])}); nothing was written."
                )
                raise StoreError(msg)
            merged = pd.concat([current, new], ignore_index=True, sort=False)
        else:
            merged = new
        tables = split(merged, source=source)
        entry = {"source": source, "rows": int(len(new)), "time": datetime.now(UTC).isoformat(timespec="seconds")}
        if not isinstance(row_group_rows, int) or isinstance(row_group_rows, bool) or row_group_rows < 1:
            msg = f"The 'row_group_rows' parameter of FeatureStore.append must be a positive int. Got {row_group_rows!r} instead."
            raise ValueError(msg)
        self._write_version(self.path, tables, sources=[*self.sources, entry], previous=self._meta,
                            row_group_rows=row_group_rows)
        self.__init__(self.path)  # re-read manifest
        return self

    @staticmethod
    def _write_version(path: Path, tables: dict[str, pd.DataFrame], *, sources: list, previous: dict | None,
                       row_group_rows: int = ROW_GROUP_ROWS) -> None:
        version = (int(previous["version"]) + 1) if previous else 1
        folder = f"v{version:06d}"
        # Remove debris of interrupted writes (never the live version).
        live = (previous or {}).get("folder")
        for stale in path.glob(".v*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        if (path / folder).exists() and folder != live:
            shutil.rmtree(path / folder)

        def _write(tmp: Path) -> None:
            for name, df in tables.items():
                coerce_dtypes(df).to_parquet(tmp / f"{name}.parquet", index=False, row_group_size=row_group_rows)

        atomic_folder(path / folder, _write)
        imts = imt_columns(tables["records"].columns)
        hashes = {name: _table_hash(coerce_dtypes(tables[name]), _keys(name)[0]) for name in _TABLE_NAMES}
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "gmlearn_version": __version__,
            "version": version,
            "folder": folder,
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": {n: {"file": f"{folder}/{n}.parquet", "rows": int(len(tables[n])), "sha256": hashes[n]} for n in _TABLE_NAMES},
            "content_hash": hashlib.sha256("".join(hashes[n] for n in _TABLE_NAMES).encode()).hexdigest(),
            "imts": imts,
            "units": {"imts": "natural log of g (PGA, SA) and of cm/s (PGV)"},
            "sources": sources,
        }
        atomic_write_json(path / "manifest.json", meta)
        if live and live != folder:
            shutil.rmtree(path / live, ignore_errors=True)

    # -- reading --------------------------------------------------------------------
    def _connect(self):  # noqa: ANN202 - duckdb connection
        import duckdb

        con = duckdb.connect()
        for name in _TABLE_NAMES:
            file = str(self._file(name)).replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{file}', file_row_number=true)")
        rec_cols = set(_columns(self._file("records")))
        ev_cols = [c for c in _columns(self._file("events")) if c != "event_id" and c not in rec_cols]
        st_cols = [c for c in _columns(self._file("stations")) if c != "station_id" and c not in rec_cols]
        rec_only = [c for c in _columns(self._file("records")) if c not in ("event_id", "station_id")]
        select = ["r.event_id", "r.station_id"] + [f"e.{_quote(c)}" for c in ev_cols]
        select += [f"s.{_quote(c)}" for c in st_cols] + [f"r.{_quote(c)}" for c in rec_only]
        con.execute(
            "CREATE VIEW flat AS SELECT " + ", ".join(select) + ", r.file_row_number AS _row "
            "FROM records r LEFT JOIN events e USING (event_id) LEFT JOIN stations s USING (station_id)"
        )
        return con

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run SQL on the views ``events``, ``stations``, ``records`` and ``flat`` (joined).

        IMT column names need double quotes: ``SELECT "SA(1.0)" FROM flat``.
        """
        con = self._connect()
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def select(
        self,
        *,
        imts: Iterable[str] | None = None,
        tectonic_region: str | Iterable[str] | None = None,
        event_ids: Iterable[str] | None = None,
        station_ids: Iterable[str] | None = None,
        dropna: bool = True,
        columns: Iterable[str] | None = None,
        **ranges: tuple[float | None, float | None],
    ) -> pd.DataFrame:
        """Select records as one flat table (events and stations joined).

        Parameters
        ----------
        imts
            IMTs to return; with ``dropna`` only records having all of them.
            Default: every stored IMT, with no record dropped.
        tectonic_region
            One region or several (``"crustal"``, ``"interface"``, ``"slab"``, ...).
        event_ids, station_ids
            Keep only these events / stations.
        dropna
            Drop records lacking any IMT named in ``imts``.
        columns
            Non-IMT columns to return (default: all).
        **ranges
            Inclusive ranges ``(lo, hi)`` (``None`` for open) on ``mag``,
            ``rrup``, ``rjb``, ``repi``, ``rhypo``, ``vs30``, ``hypo_depth``,
            e.g. ``mag=(5, None), rrup=(None, 200)``.

        Returns
        -------
        pandas.DataFrame
            In store order, with a fresh RangeIndex.
        """
        wanted = list(self.imts) if imts is None else [imt_string(i) for i in imts]
        unknown = [i for i in wanted if i not in self.imts]
        if unknown:
            msg = f"IMT(s) {unknown} are not in this store; it has {self.imts}."
            raise MissingColumnError(msg)
        where: list[str] = []
        params: list[Any] = []
        for name, bounds in ranges.items():
            if name not in _RANGE_FILTERS:
                msg = f"Unknown filter {name!r}; range filters are {list(_RANGE_FILTERS)} as (lo, hi) tuples."
                raise TypeError(msg)
            lo, hi = bounds
            if lo is not None:
                where.append(f"{_quote(name)} >= ?")
                params.append(float(lo))
            if hi is not None:
                where.append(f"{_quote(name)} <= ?")
                params.append(float(hi))
        if tectonic_region is not None:
            regions = [tectonic_region] if isinstance(tectonic_region, str) else list(tectonic_region)
            bad = [r for r in regions if r not in TECTONIC_REGIONS]
            if bad:
                msg = f"The 'tectonic_region' parameter must be among {list(TECTONIC_REGIONS)}. Got {bad} instead."
                raise ValueError(msg)
            where.append(f"tectonic_region IN ({', '.join('?' * len(regions))})")
            params += regions
        for key, ids in (("event_id", event_ids), ("station_id", station_ids)):
            if ids is not None:
                ids = [str(i) for i in ids]
                where.append(f"{key} IN (SELECT unnest(?))")
                params.append(ids)
        if dropna and imts is not None:
            where += [f"{_quote(i)} IS NOT NULL AND NOT isnan({_quote(i)})" for i in wanted]
        con = self._connect()
        try:
            flat_cols = [r[0] for r in con.execute("DESCRIBE flat").fetchall()]
            base = [c for c in flat_cols if c != "_row" and c not in self.imts]
            if columns is not None:
                columns = list(columns)
                missing = [c for c in columns if c not in base]
                if missing:
                    msg = f"Column(s) {missing} are not in this store; it has {base}."
                    raise MissingColumnError(msg)
                base = list(dict.fromkeys(["record_id", "event_id", "station_id", *columns]))
            sql = "SELECT " + ", ".join(_quote(c) for c in base + wanted) + " FROM flat"
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY _row"
            df = con.execute(sql, params).df()
        finally:
            con.close()
        return _restore_dtypes(df)

    def to_frame(self, imts: Iterable[str] | None = None, *, dropna: bool = True, **filters: Any) -> pd.DataFrame:
        """Flat table for models: vocabulary columns plus ln IMT columns.

        Same as :meth:`select`; ``imts=None`` returns every IMT.
        """
        return self.select(imts=imts, dropna=dropna, **filters)

    def to_dask(self, imts: Iterable[str] | None = None, *, columns: Iterable[str] | None = None):  # noqa: ANN201
        """The flat table as a lazy ``dask.dataframe`` with one partition per records row group.

        Same columns, order and dtypes as ``to_frame(imts, dropna=False, columns=columns)``
        (see :func:`gmlearn.store.partitioned.read_dask`); needs ``dask[dataframe]``.
        """
        from gmlearn.store.partitioned import read_dask

        return read_dask(self, imts=imts, columns=columns)

    def describe(self) -> dict[str, Any]:
        """Summary: counts, ranges of the main features, IMT availability."""
        flat = self.to_frame(dropna=False)
        out: dict[str, Any] = {
            "path": str(self.path),
            "version": self.version,
            "content_hash": self.content_hash,
            "events": int(flat["event_id"].nunique()) if len(flat) else 0,
            "stations": int(flat["station_id"].nunique()) if len(flat) else 0,
            "records": int(len(flat)),
            "sources": self.sources,
        }
        if len(flat):
            out["tectonic_region"] = flat.groupby("tectonic_region")["record_id"].count().astype(int).to_dict()
            ranges = {}
            for name in ("mag", "rrup", "rjb", "vs30", "hypo_depth"):
                if name in flat:
                    v = flat[name].to_numpy(dtype=float)
                    v = v[np.isfinite(v)]
                    if v.size:
                        ranges[name] = [float(v.min()), float(v.max()), COLUMNS[name].unit]
            out["ranges"] = ranges
            out["imt_records"] = {i: int(np.isfinite(flat[i].to_numpy(dtype=float)).sum()) for i in self.imts}
        return out


def _keys(table: str) -> list[str]:
    return {"events": ["event_id"], "stations": ["station_id"], "records": ["record_id", "event_id", "station_id"]}[table]


def _columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _restore_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return coerce_dtypes(df)
