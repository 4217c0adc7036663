"""FeatureStore: a folder of Parquet part files (events, stations, records) queried with DuckDB.

Layout::

    store/
      manifest.json                  format, version, part files and hashes, content hash, sources
      .lock                          writer lock (see gmlearn.store.lock)
      data/events-000001.parquet     one part file per table per write
      data/records-000001.parquet
      data/records-000002.parquet    ... added by an append

An append takes the store's writer lock (:func:`gmlearn.store.lock.store_lock`;
readers never wait), re-reads the manifest, writes one new part file per table
and then replaces ``manifest.json`` atomically, so a crash leaves the previous
version intact and two processes appending at once both land. Values of IMT
columns are natural logs (ln g; ln cm/s for PGV). Tables are written in row
groups of ``row_group_rows`` rows, the partitions that
:meth:`FeatureStore.to_dask` reads in parallel. A manifest is checked before
use (:func:`check_manifest`): it can only name part files inside the store,
and :meth:`FeatureStore.verify` recomputes the hash of every part.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, StoreError, StoreNotFoundError
from gmlearn.schema import COLUMNS, TECTONIC_REGIONS, imt_string
from gmlearn.store.derived import add_derived
from gmlearn.store.lock import LOCK_TIMEOUT, store_lock
from gmlearn.store.manifest import FORMAT, FORMAT_VERSION, TABLE_NAMES, check_manifest, table_files
from gmlearn.store.tables import coerce_dtypes, split

__all__ = ["FeatureStore", "FORMAT", "FORMAT_VERSION", "ROW_GROUP_ROWS", "MAX_MANIFEST_BYTES", "check_manifest"]

#: Rows per Parquet row group (one Dask partition each) of the stored tables.
ROW_GROUP_ROWS = 250_000
#: Largest manifest.json read (bytes).
MAX_MANIFEST_BYTES = 16 * 2**20
_TABLE_NAMES = TABLE_NAMES
_RANGE_FILTERS = ("mag", "rrup", "rjb", "repi", "rhypo", "vs30", "hypo_depth")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


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
    def create(cls, path: str | Path, *, overwrite: bool = False, lock_timeout: float = LOCK_TIMEOUT) -> "FeatureStore":
        """Create an empty store at ``path``.

        Parameters
        ----------
        path
            Folder to create (parents are created).
        overwrite
            Replace an existing store there. A folder that exists and is not a
            store is never overwritten.
        lock_timeout
            Seconds to wait for another writer of an existing store.
        """
        from gmlearn.store.writing import clean, rewrite

        path = Path(path)
        if (path / "manifest.json").exists():
            if not overwrite:
                msg = f"A feature store already exists at {path}; pass overwrite=True to replace it, or open it with FeatureStore(path)."
                raise StoreError(msg)
        elif path.exists() and any(path.iterdir()):
            msg = f"{path} exists and is not an empty folder or a feature store; refusing to write there."
            raise StoreError(msg)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except PermissionError as exc:
            msg = f"Cannot create a feature store at {path}: {exc.strerror} (the folder or a parent is read-only)."
            raise StoreError(msg) from None
        empty = {t: pd.DataFrame({k: pd.Series(dtype="string") for k in _keys(t)}) for t in _TABLE_NAMES}
        with store_lock(path, timeout=lock_timeout):
            try:
                previous: dict[str, Any] | None = cls(path)._meta
            except StoreError:
                previous = None
            clean(path, previous)
            rewrite(path, empty, sources=[], previous=previous, row_group_rows=ROW_GROUP_ROWS)
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

    def _files(self, table: str) -> list[Path]:
        """Part files of one table, in append order."""
        return [self.path / f for f in table_files(self._meta, table)]

    def _read_error(self, exc: BaseException) -> StoreError:
        """A StoreError naming the first part file that is missing or unreadable (else the store)."""
        import pyarrow.parquet as pq

        for name in _TABLE_NAMES:
            for file in self._files(name):
                try:
                    pq.read_metadata(file)
                except (OSError, ValueError) as bad:
                    what = "is missing" if not file.exists() else f"is corrupt ({bad})"
                    return StoreError(f"Feature store {self.path}: part file {file.relative_to(self.path)} {what}. "
                                      "Run `gmlearn data verify` on the store, and restore it from a copy.")
        from gmlearn.store.manifest import file_sha256

        for name in _TABLE_NAMES:  # readable footers: look for altered bytes (an error path, so hashing is fine)
            for entry in self._meta["tables"][name].get("parts", []):
                if file_sha256(self.path / entry["file"]) != entry["sha256"]:
                    return StoreError(f"Feature store {self.path}: part file {entry['file']} is corrupt (its SHA-256 "
                                      f"differs from the manifest; {type(exc).__name__}: {exc}). Restore it from a copy.")
        return StoreError(f"Feature store {self.path} cannot be read ({type(exc).__name__}: {exc}). "
                          "Run `gmlearn data verify` on the store to find the damaged file.")

    def table(self, name: str) -> pd.DataFrame:
        """One stored table (``"events"``, ``"stations"`` or ``"records"``)."""
        if name not in _TABLE_NAMES:
            msg = f"The 'name' parameter must be one of {list(_TABLE_NAMES)}. Got {name!r} instead."
            raise ValueError(msg)
        try:
            frames = [pd.read_parquet(f) for f in self._files(name)]
        except (OSError, ValueError) as exc:
            raise self._read_error(exc) from None
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

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
               row_group_rows: int = ROW_GROUP_ROWS, lock_timeout: float = LOCK_TIMEOUT) -> "FeatureStore":
        """Add records from a canonical table (as returned by a reader).

        The store's writer lock is held for the write: a second process
        appending at the same time waits (up to ``lock_timeout`` seconds) and
        then appends to the version the first one wrote. The new rows go to new
        part files; the store is rewritten only when they change the columns of
        a table or the stored values of an event or station.

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
        lock_timeout
            Seconds to wait for another writer.

        Returns
        -------
        FeatureStore
            ``self``, re-read at the new version.

        Raises
        ------
        StoreError
            If a record id already exists in the store or twice in ``table``,
            the store is read-only, or another writer held the lock for
            ``lock_timeout`` seconds; nothing is written.
        """
        source = source or str(table.attrs.get("source", "table"))
        for key in ("record_id", "event_id", "station_id"):
            if key not in table.columns:
                msg = f"Cannot append {source}: column {key!r} is missing; given columns: {list(table.columns)}."
                raise MissingColumnError(msg)
        if table.columns.duplicated().any():
            dup = sorted(set(table.columns[table.columns.duplicated()]))
            msg = f"Cannot append {source}: column(s) {dup} appear more than once; keep one of each."
            raise StoreError(msg)
        if not isinstance(row_group_rows, int) or isinstance(row_group_rows, bool) or row_group_rows < 1:
            msg = f"The 'row_group_rows' parameter of FeatureStore.append must be a positive int. Got {row_group_rows!r} instead."
            raise ValueError(msg)
        new = add_derived(table) if derive else table.copy()
        new = coerce_dtypes(new)
        twice = new["record_id"].astype(str).duplicated()
        if twice.any():
            ids = list(new.loc[twice, "record_id"].astype(str).unique()[:5])
            msg = f"Cannot append {source}: {int(twice.sum())} record id(s) appear more than once in it (e.g. {ids}); nothing was written."
            raise StoreError(msg)
        with store_lock(self.path, timeout=lock_timeout):
            self.__init__(self.path)  # the version the last writer left
            self._append_locked(new, source, row_group_rows)
        self.__init__(self.path)  # re-read manifest
        return self

    def _append_locked(self, new: pd.DataFrame, source: str, row_group_rows: int) -> None:
        from datetime import UTC, datetime

        from gmlearn.store.writing import append_parts, clean, rewrite

        entry = {"source": source, "rows": int(len(new)), "time": datetime.now(UTC).isoformat(timespec="seconds")}
        sources = [*self.sources, entry]
        clean(self.path, self._meta)
        if len(self):
            ids = self.query("SELECT record_id FROM records WHERE record_id IN (SELECT unnest(?))",
                             [new["record_id"].astype(str).tolist()])["record_id"]
            if len(ids):
                clash = sorted(ids.astype(str))
                msg = (f"Cannot append {source}: {len(clash)} record id(s) already in the store "
                       f"(e.g. {clash[:5]}); nothing was written.")
                raise StoreError(msg)
            if int(self._meta["format_version"]) >= 2:
                stored = {"events": self.events, "stations": self.stations}
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    tables = split(new, source=source)
                if not caught and append_parts(self.path, self._meta, tables, stored, sources=sources,
                                               row_group_rows=row_group_rows) is not None:
                    return
            merged = pd.concat([self.to_frame(dropna=False), new], ignore_index=True, sort=False)
        else:
            merged = new
        rewrite(self.path, split(merged, source=source), sources=sources, previous=self._meta,
                row_group_rows=row_group_rows)

    def verify(self) -> dict[str, Any]:
        """Recompute the hash of every part file and every table against the manifest.

        Returns
        -------
        dict
            ``{"path", "version", "parts", "rows", "content_hash"}`` when all agree.

        Raises
        ------
        StoreError
            Naming the first part file that is missing, unreadable, altered
            (bytes or rows differ from the manifest) or a table whose content
            hash or row count disagrees.
        """
        from gmlearn.store.verify import verify_store

        return verify_store(self)

    # -- reading --------------------------------------------------------------------
    def _connect(self):  # noqa: ANN202 - duckdb connection
        import duckdb

        con = duckdb.connect()
        try:
            for name in ("events", "stations"):
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_list(self._files(name))})")
            con.execute("CREATE VIEW records AS SELECT * EXCLUDE (filename, file_row_number), filename AS _part, "
                        f"file_row_number AS _row FROM read_parquet({_sql_list(self._files('records'))}, "
                        "filename=true, file_row_number=true)")
            rec_cols = set(_columns(self._files("records")[0]))
            ev_cols = [c for c in _columns(self._files("events")[0]) if c != "event_id" and c not in rec_cols]
            st_cols = [c for c in _columns(self._files("stations")[0]) if c != "station_id" and c not in rec_cols]
            rec_only = [c for c in _columns(self._files("records")[0]) if c not in ("event_id", "station_id")]
        except (duckdb.Error, OSError, ValueError) as exc:
            con.close()
            raise self._read_error(exc) from None
        select = ["r.event_id", "r.station_id"] + [f"e.{_quote(c)}" for c in ev_cols]
        select += [f"s.{_quote(c)}" for c in st_cols] + [f"r.{_quote(c)}" for c in rec_only]
        con.execute(
            "CREATE VIEW flat AS SELECT " + ", ".join(select) + ", r._part AS _part, r._row AS _row "
            "FROM records r LEFT JOIN events e USING (event_id) LEFT JOIN stations s USING (station_id)"
        )
        return con

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run SQL on the views ``events``, ``stations``, ``records`` and ``flat`` (joined).

        IMT column names need double quotes: ``SELECT "SA(1.0)" FROM flat``.
        """
        import duckdb

        con = self._connect()
        try:
            return con.execute(sql, params or []).df()
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException):
            raise  # a mistake in the caller's SQL
        except duckdb.Error as exc:
            raise self._read_error(exc) from None
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
        import duckdb

        con = self._connect()
        try:
            flat_cols = [r[0] for r in con.execute("DESCRIBE flat").fetchall()]
            base = [c for c in flat_cols if c not in ("_part", "_row") and c not in self.imts]
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
            sql += " ORDER BY _part, _row"
            df = con.execute(sql, params).df()
        except duckdb.Error as exc:  # our own SQL: a failure here is a damaged part file
            raise self._read_error(exc) from None
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
