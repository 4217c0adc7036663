"""Selecting stations of a velocity table by region, uncertainty and speed, with a record of what was left out."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import SchemaError

__all__ = ["select_stations", "parse_region"]


def parse_region(text: str | Sequence[float] | None) -> tuple[float, float, float, float] | None:
    """``"lon_min,lon_max,lat_min,lat_max"`` (or a 4-sequence) -> tuple of floats; None passes through."""
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 4 or not (vals[0] < vals[1] and vals[2] < vals[3]):
        msg = f"The 'region' parameter must be 'lon_min,lon_max,lat_min,lat_max' with min < max. Got {text!r} instead."
        raise SchemaError(msg)
    return vals  # type: ignore[return-value]


def select_stations(
    table: pd.DataFrame,
    *,
    region: tuple[float, float, float, float] | str | None = None,
    max_sigma: float | None = None,
    max_speed: float | None = None,
    stations: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``table`` inside ``region`` with both sigmas <= ``max_sigma`` and speed <= ``max_speed`` (mm/yr).

    Parameters
    ----------
    table
        Canonical velocity table.
    region
        ``(lon_min, lon_max, lat_min, lat_max)`` in degrees (lon in -180..180) or the same as text.
    max_sigma
        Largest accepted ``se`` and ``sn``, mm/yr.
    max_speed
        Largest accepted horizontal speed, mm/yr (drops volcanic, landslide and
        far-field outliers).
    stations
        Keep only these station ids.

    Returns
    -------
    pandas.DataFrame
        The selected rows (index reset); ``attrs["selection"]`` counts the rows
        removed by each criterion (a row counts under the first one it fails).
    """
    keep = np.ones(len(table), dtype=bool)
    removed: dict[str, Any] = {"n_in": len(table)}
    reg = parse_region(region)
    lon, lat = table["lon"].to_numpy(float), table["lat"].to_numpy(float)
    tests = []
    if stations is not None:
        tests.append(("not_listed", table["station"].isin(set(stations)).to_numpy()))
    if reg is not None:
        tests.append(("outside_region", (lon >= reg[0]) & (lon <= reg[1]) & (lat >= reg[2]) & (lat <= reg[3])))
    if max_sigma is not None:
        tests.append(("sigma_above_max", (table["se"].to_numpy(float) <= max_sigma) & (table["sn"].to_numpy(float) <= max_sigma)))
    if max_speed is not None:
        tests.append(("speed_above_max", np.hypot(table["ve"].to_numpy(float), table["vn"].to_numpy(float)) <= max_speed))
    for name, ok in tests:
        removed[name] = int((keep & ~ok).sum())
        keep &= ok
    out = table[keep].reset_index(drop=True)
    removed["n_out"] = len(out)
    out.attrs = {**table.attrs, "selection": {**removed, "region": reg, "max_sigma": max_sigma, "max_speed": max_speed}}
    return out
