"""The canonical earthquake-catalogue table, its validation and its report.

Every reader in :mod:`gmlearn.catalog.readers` returns one ``pandas.DataFrame``
with the columns of :data:`CATALOG_COLUMNS`, one row per event:

=========  ======================  =====  ==========================================
column     dtype                   unit   meaning
=========  ======================  =====  ==========================================
event_id   string                  --     identifier given by the source
time       datetime64[ns, UTC]     --     origin time
lon        float64                 deg    epicentre longitude, [-180, 180]
lat        float64                 deg    epicentre latitude
depth      float64                 km     hypocentre depth (NaN when not given)
mag        float64                 --     magnitude
mag_type   string                  --     magnitude type (``MLNZ20``, ``Mw``, ...)
=========  ======================  =====  ==========================================

What a reader found wrong is never dropped silently: duplicated ids and bad
rows are listed in a :class:`CatalogReport` stored in ``df.attrs`` (keys
``"catalog_report"``, ``"duplicates"`` and ``"bad_rows"``) and summarised in a
:class:`CatalogWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import FlatfileError, MissingColumnError, SchemaError

__all__ = [
    "CATALOG_COLUMNS",
    "MAG_RANGE",
    "DEPTH_MAX_KM",
    "DEPTH_TOLERANCE_KM",
    "CatalogReport",
    "CatalogWarning",
    "catalog_report",
    "describe_catalog",
    "finalize_catalog",
    "magnitudes_of",
    "validate_catalog",
]

#: Canonical columns, in order.
CATALOG_COLUMNS: tuple[str, ...] = ("event_id", "time", "lon", "lat", "depth", "mag", "mag_type")

#: Plausible magnitude range (inclusive); microseismicity reaches about -1.
MAG_RANGE: tuple[float, float] = (-3.0, 10.0)

#: Deepest accepted hypocentre (km). GeoNet fixes some deep events at 750 km.
DEPTH_MAX_KM: float = 800.0

#: Default tolerance (km) for negative depths (hypocentres above sea level).
DEPTH_TOLERANCE_KM: float = 10.0

_EXAMPLES = 5


class CatalogWarning(UserWarning):
    """A catalogue had duplicated ids or bad rows (counts and example ids in the message)."""


@dataclass
class CatalogReport:
    """What a reader found: duplicates and bad rows, with counts and example ids.

    Attributes
    ----------
    sources
        Files (or labels) read, in order.
    n_read
        Data rows read from the sources.
    n_kept
        Rows in the returned catalogue.
    duplicates
        ``{"n_ids", "n_rows", "n_removed", "n_conflicting", "examples", "action"}``:
        ids seen more than once, surplus rows, rows removed (``dedupe=True``
        keeps the first row of each id), ids whose rows disagree in a canonical
        column, example ids, and ``"kept first"`` or ``"kept all"``.
    bad_rows
        Reason -> ``{"count", "examples", "action", "allowed"}``; action is
        ``"dropped"``, ``"kept"`` (e.g. missing depth) or ``"id generated"``.
    """

    sources: list[str] = field(default_factory=list)
    n_read: int = 0
    n_kept: int = 0
    duplicates: dict[str, Any] = field(default_factory=dict)
    bad_rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def n_duplicates_removed(self) -> int:
        """Rows removed as duplicates."""
        return int(self.duplicates.get("n_removed", 0))

    @property
    def n_bad_dropped(self) -> int:
        """Rows dropped as bad."""
        return int(sum(v["count"] for v in self.bad_rows.values() if v.get("action") == "dropped"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogReport:
        """Rebuild a report from :meth:`to_dict` output."""
        return cls(**{k: data[k] for k in ("sources", "n_read", "n_kept", "duplicates", "bad_rows") if k in data})

    def summary(self) -> str:
        """One paragraph: counts and example ids of duplicates and bad rows."""
        parts = [f"{self.n_read} rows read, {self.n_kept} kept"]
        dup = self.duplicates
        if dup.get("n_ids"):
            parts.append(
                f"{dup['n_ids']} duplicated event ids ({dup['n_rows']} surplus rows, {dup['n_removed']} removed, "
                f"{dup['n_conflicting']} with conflicting values; {dup['action']}; e.g. {', '.join(dup['examples'])})"
            )
        for reason, info in self.bad_rows.items():
            parts.append(f"{info['count']} rows {reason} ({info['action']}; e.g. {', '.join(info['examples'])})")
        return "; ".join(parts) + "."

    def __str__(self) -> str:
        return self.summary()


def catalog_report(catalog: pd.DataFrame) -> CatalogReport:
    """The :class:`CatalogReport` stored in ``catalog.attrs`` (empty when none)."""
    data = catalog.attrs.get("catalog_report")
    return CatalogReport.from_dict(data) if data else CatalogReport(n_read=len(catalog), n_kept=len(catalog))


def _examples(ids: pd.Series) -> list[str]:
    return [str(v) for v in ids.drop_duplicates().head(_EXAMPLES).tolist()]


def _bad_masks(out: pd.DataFrame, depth_tolerance_km: float) -> dict[str, tuple[np.ndarray, str, str]]:
    """Reason -> (mask, action, allowed values) for each kind of bad row."""
    mag = out["mag"].to_numpy(dtype=float)
    depth = out["depth"].to_numpy(dtype=float)
    lon = out["lon"].to_numpy(dtype=float)
    lat = out["lat"].to_numpy(dtype=float)
    lo, hi = MAG_RANGE
    return {
        "with missing or unparsable time": (out["time"].isna().to_numpy(), "dropped", "an ISO-8601 UTC time"),
        "with missing or non-numeric magnitude": (np.isnan(mag), "dropped", "a finite number"),
        "with magnitude out of range": (np.isfinite(mag) & ((mag < lo) | (mag > hi)), "dropped", f"[{lo}, {hi}]"),
        "with missing or non-numeric epicentre": (np.isnan(lon) | np.isnan(lat), "dropped", "finite lon and lat"),
        "with epicentre out of range": (
            (np.abs(lat) > 90) | (lon < -180) | (lon > 360), "dropped", "lat in [-90, 90], lon in [-180, 360]"),
        "with depth out of range": (
            np.isfinite(depth) & ((depth < -depth_tolerance_km) | (depth > DEPTH_MAX_KM)), "dropped",
            f"[{-depth_tolerance_km}, {DEPTH_MAX_KM}] km"),
        "with missing depth": (np.isnan(depth), "kept", "a number (kept as NaN)"),
    }


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so messages read ``nan``, not ``np.float64(nan)``."""
    return value.item() if isinstance(value, np.generic) else value


def _raise_bad(out: pd.DataFrame, mask: np.ndarray, reason: str, allowed: str, file: str, rows: np.ndarray) -> None:
    column = {"time": "time", "magnitude": "mag", "epicentre": "lon/lat", "depth": "depth"}
    col = next((c for key, c in column.items() if key in reason), None)
    pos = int(np.flatnonzero(mask)[0])
    value = _plain(out[col].iloc[pos]) if col in out.columns else None
    msg = (
        f"{int(mask.sum())} row(s) {reason} (event_id {out['event_id'].iloc[pos]!r}); allowed: {allowed}. "
        "Pass on_bad='drop' to drop and report them instead."
    )
    raise FlatfileError(msg, file=file, column=col, row=int(rows[pos]), value=value)


def _report_bad(out: pd.DataFrame, report: CatalogReport, on_bad: str, depth_tolerance_km: float,
                file: str, rows: np.ndarray) -> np.ndarray:
    """Fill ``report.bad_rows``; return the mask of rows to drop."""
    drop = np.zeros(len(out), dtype=bool)
    for reason, (mask, action, allowed) in _bad_masks(out, depth_tolerance_km).items():
        mask = mask & ~drop
        if not mask.any():
            continue
        if on_bad == "raise" and action == "dropped":
            _raise_bad(out, mask, reason, allowed, file, rows)
        report.bad_rows[reason] = {
            "count": int(mask.sum()), "examples": _examples(out["event_id"][mask]), "action": action,
            "allowed": allowed,
        }
        if action == "dropped":
            drop |= mask
    return drop


def _report_duplicates(out: pd.DataFrame, report: CatalogReport, dedupe: bool) -> np.ndarray:
    """Fill ``report.duplicates``; return the mask of rows to drop."""
    ids = out["event_id"]
    surplus = ids.duplicated(keep="first").to_numpy()
    dup_ids = ids[surplus].drop_duplicates()
    conflicting = 0
    if len(dup_ids):
        rows = out[ids.isin(dup_ids)]
        cols = [c for c in CATALOG_COLUMNS if c != "event_id"]
        conflicting = int((rows.groupby("event_id", sort=False)[cols].nunique(dropna=False) > 1).any(axis=1).sum())
    report.duplicates = {
        "n_ids": int(len(dup_ids)),
        "n_rows": int(surplus.sum()),
        "n_removed": int(surplus.sum()) if dedupe else 0,
        "n_conflicting": conflicting,
        "examples": _examples(dup_ids),
        "action": "kept first" if dedupe else "kept all",
    }
    return surplus if dedupe else np.zeros(len(out), dtype=bool)


def finalize_catalog(
    out: pd.DataFrame,
    report: CatalogReport,
    *,
    dedupe: bool = True,
    on_bad: Literal["drop", "raise"] = "drop",
    depth_tolerance_km: float = DEPTH_TOLERANCE_KM,
    file: str = "",
    warn: bool = True,
) -> pd.DataFrame:
    """Check a mapped catalogue, drop (and report) bad rows and duplicates.

    Parameters
    ----------
    out
        Columns of :data:`CATALOG_COLUMNS` (``time`` already parsed, UTC), in
        source order; extra columns are kept after the canonical ones.
    report
        Report to fill (``sources`` and ``n_read`` set by the caller).
    dedupe
        Keep only the first row of each ``event_id`` (reported either way).
    on_bad
        ``"drop"`` drops bad rows and reports them; ``"raise"`` raises a
        :class:`~gmlearn.exceptions.FlatfileError` at the first bad row.
    depth_tolerance_km
        Negative depths down to ``-depth_tolerance_km`` are accepted.
    file
        Name used in error messages.
    warn
        Emit a :class:`CatalogWarning` when something was reported.

    Returns
    -------
    pandas.DataFrame
        The canonical catalogue, sorted by time, index reset, report in ``attrs``.
    """
    if on_bad not in ("drop", "raise"):
        msg = f"The 'on_bad' parameter must be one of 'drop', 'raise'. Got {on_bad!r} instead."
        raise SchemaError(msg)
    rows = np.arange(1, len(out) + 1)
    drop = _report_bad(out, report, on_bad, depth_tolerance_km, file, rows)
    drop |= _report_duplicates(out, report, dedupe) & ~drop
    extra = [c for c in out.columns if c not in CATALOG_COLUMNS]
    out = out.loc[~drop, [*CATALOG_COLUMNS, *extra]]
    out = out.assign(lon=np.where(out["lon"] > 180.0, out["lon"] - 360.0, out["lon"]))
    out = out.sort_values("time", kind="stable").reset_index(drop=True)
    report.n_kept = len(out)
    out.attrs["catalog_report"] = report.to_dict()
    out.attrs["duplicates"] = dict(report.duplicates)
    out.attrs["bad_rows"] = {k: dict(v) for k, v in report.bad_rows.items()}
    reported = report.duplicates.get("n_ids", 0) or report.bad_rows
    if warn and reported:
        warnings.warn(CatalogWarning(report.summary()), stacklevel=3)
    return out


def validate_catalog(
    catalog: pd.DataFrame,
    required: Sequence[str] = ("time", "lon", "lat", "mag"),
    *,
    depth_tolerance_km: float = DEPTH_TOLERANCE_KM,
) -> pd.DataFrame:
    """Check that a catalogue can be analysed; return it unchanged.

    Raises
    ------
    MissingColumnError
        A required column is absent (the message lists the columns given).
    SchemaError
        A NaN or out-of-range magnitude, a missing time or epicentre, or a depth
        below ``-depth_tolerance_km``; the message names the column, the first
        offending value and event, and the allowed values.
    """
    if not isinstance(catalog, pd.DataFrame):
        msg = f"A catalogue must be a pandas DataFrame with columns {list(CATALOG_COLUMNS)}; got {type(catalog).__name__}."
        raise SchemaError(msg)
    missing = [c for c in required if c not in catalog.columns]
    if missing:
        msg = f"Catalogue column(s) {missing} missing; required {list(required)}, given {list(map(str, catalog.columns))}."
        raise MissingColumnError(msg)
    checks = {
        "mag": (MAG_RANGE[0], MAG_RANGE[1], "magnitudes must be finite numbers"),
        "lon": (-180.0, 360.0, "longitudes must be finite degrees"),
        "lat": (-90.0, 90.0, "latitudes must be finite degrees"),
    }
    for col, (lo, hi, what) in checks.items():
        if col not in catalog.columns:
            continue
        _check_column(catalog, col, lo, hi, what, allow_nan=False)
    if "depth" in catalog.columns:
        _check_column(catalog, "depth", -depth_tolerance_km, DEPTH_MAX_KM, "depths (km, positive down)", allow_nan=True)
    if "time" in catalog.columns and catalog["time"].isna().any():
        pos = int(np.flatnonzero(catalog["time"].isna().to_numpy())[0])
        msg = f"column 'time' has {int(catalog['time'].isna().sum())} missing value(s) (first: row {pos}); every event needs an origin time."
        raise SchemaError(msg)
    return catalog


def _check_column(catalog: pd.DataFrame, col: str, lo: float, hi: float, what: str, *, allow_nan: bool) -> None:
    values = pd.to_numeric(catalog[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
    bad |= np.isfinite(values) & ((values < lo) | (values > hi))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        ev = catalog["event_id"].iloc[pos] if "event_id" in catalog.columns else pos
        msg = (
            f"column {col!r} has {int(bad.sum())} invalid value(s), first {_plain(catalog[col].iloc[pos])!r} "
            f"(event {ev!r}); {what} in [{lo:g}, {hi:g}]."
        )
        raise SchemaError(msg)


def magnitudes_of(data: pd.DataFrame | Sequence[float] | np.ndarray, *, name: str = "magnitudes") -> np.ndarray:
    """Magnitudes of a catalogue (column ``mag``) or of an array, checked finite.

    Raises
    ------
    SchemaError
        NaN or infinite magnitudes (the message gives the first position), or none at all.
    """
    if isinstance(data, pd.DataFrame):
        validate_catalog(data, required=("mag",))
        mags = data["mag"].to_numpy(dtype=float)
    else:
        mags = np.asarray(data, dtype=float).ravel()
        bad = ~np.isfinite(mags)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            msg = f"{name} contain {int(bad.sum())} non-finite value(s), first {mags[pos]!r} at position {pos}; magnitudes must be finite numbers."
            raise SchemaError(msg)
    if mags.size == 0:
        msg = f"{name} are empty; at least one magnitude is needed."
        raise SchemaError(msg)
    return mags


def describe_catalog(catalog: pd.DataFrame) -> dict[str, Any]:
    """JSON-ready summary: counts, time span, magnitude and depth ranges, report."""
    validate_catalog(catalog, required=("time", "mag"))
    time = pd.DatetimeIndex(catalog["time"])
    depth = catalog["depth"].to_numpy(dtype=float) if "depth" in catalog.columns else np.array([np.nan])
    report = catalog_report(catalog)
    types = catalog["mag_type"].value_counts().to_dict() if "mag_type" in catalog.columns else {}
    return {
        "events": int(len(catalog)),
        "start": str(time.min()) if len(catalog) else None,
        "end": str(time.max()) if len(catalog) else None,
        "span_days": round(float((time.max() - time.min()) / pd.Timedelta(days=1)), 3) if len(catalog) else 0.0,
        "mag_min": float(catalog["mag"].min()),
        "mag_max": float(catalog["mag"].max()),
        "mag_types": {str(k): int(v) for k, v in types.items()},
        "depth_min_km": float(np.nanmin(depth)) if np.isfinite(depth).any() else None,
        "depth_max_km": float(np.nanmax(depth)) if np.isfinite(depth).any() else None,
        "depth_missing": int(np.isnan(depth).sum()) if "depth" in catalog.columns else int(len(catalog)),
        "rows_read": report.n_read,
        "duplicates_removed": report.n_duplicates_removed,
        "bad_rows_dropped": report.n_bad_dropped,
        "report": report.summary(),
    }
