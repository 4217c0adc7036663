"""From a catalogue to an OpenQuake source model in one call (used by the CLI and notebooks).

:func:`smoothed_source_model` chains the steps a hazard modeller would take:
Mc (b-value stability, else maximum curvature + 0.2), an Aki-Utsu b-value of
all events above Mc, declustering, kernel smoothing of the declustered events
(the a-values) and NRML point sources. The b-value comes from the full
catalogue because declustering removes small events preferentially and biases
b low (Mizrahi, Nandan & Wiemer 2021, Seismol. Res. Lett. 92(4), 2333-2342).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np
import pandas as pd

from gmlearn.catalog.bvalue import GRFit, aki_utsu
from gmlearn.catalog.completeness import mc_b_stability, mc_max_curvature
from gmlearn.catalog.declustering import decluster as run_decluster
from gmlearn.catalog.fmd import bin_magnitudes
from gmlearn.catalog.frame import validate_catalog
from gmlearn.catalog.smoothing import SmoothedRates, smoothed_seismicity
from gmlearn.catalog.sources import SourceSettings, point_sources, write_source_model
from gmlearn.exceptions import SchemaError

__all__ = ["SourceModelResult", "default_mc", "smoothed_source_model"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SourceModelResult:
    """What :func:`smoothed_source_model` built.

    Attributes
    ----------
    path
        NRML file written.
    rates
        Smoothed rates.
    mc
        Completeness magnitude used.
    fit
        Aki-Utsu fit of all events above Mc (before declustering).
    n_sources
        Point sources written.
    declustering
        Summary of the declustering (None when skipped).
    """

    path: Path
    rates: SmoothedRates
    mc: float
    fit: GRFit
    n_sources: int
    declustering: dict[str, Any] | None = field(default=None)


def default_mc(catalog: pd.DataFrame, delta_m: float = 0.1) -> float:
    """Mc by b-value stability, falling back to maximum curvature + 0.2 when no Mc is stable."""
    mc = mc_b_stability(catalog, delta_m).mc
    return float(mc) if np.isfinite(mc) else mc_max_curvature(catalog, delta_m, correction=0.2).mc


def smoothed_source_model(
    catalog: pd.DataFrame,
    path: str | os.PathLike,
    *,
    mc: float | None = None,
    b: float | None = None,
    delta_m: float = 0.1,
    decluster: Literal["gardner_knopoff", "reasenberg", "zaliapin"] | None = "gardner_knopoff",
    decluster_kwargs: dict[str, Any] | None = None,
    kernel: Literal["fixed", "adaptive"] = "adaptive",
    bandwidth_km: float = 15.0,
    n_neighbours: int = 5,
    spacing_deg: float = 0.1,
    region: Sequence[float] | None = None,
    max_depth_km: float | None = 40.0,
    settings: SourceSettings | None = None,
    progress: Progress | None = None,
) -> SourceModelResult:
    """Decluster, fit b, smooth and write an NRML point-source model.

    Parameters
    ----------
    catalog
        Canonical catalogue.
    path
        NRML destination (written atomically).
    mc, b
        Completeness magnitude and b-value; estimated when None (:func:`default_mc`;
        Aki-Utsu of all events above Mc).
    delta_m
        Magnitude bin width.
    decluster
        Declustering method, or None to smooth all events.
    decluster_kwargs
        Passed to the declustering method.
    kernel, bandwidth_km, n_neighbours, spacing_deg, region, max_depth_km
        See :func:`~gmlearn.catalog.smoothing.smoothed_seismicity`.
    settings
        Point-source settings (:class:`~gmlearn.catalog.sources.SourceSettings`).
    progress
        Called with a short message before each step.
    """
    step = progress or (lambda message: None)
    validate_catalog(catalog)
    if mc is None:
        step("estimating Mc")
        mc = default_mc(catalog, delta_m)
    above = catalog.loc[bin_magnitudes(catalog["mag"].to_numpy(dtype=float), delta_m) >= mc - 1e-9].reset_index(drop=True)
    above.attrs = dict(catalog.attrs)
    span = (catalog["time"].max() - catalog["time"].min()) / pd.Timedelta(days=365.25)
    if not span > 0:
        msg = (f"The catalogue spans no time: all {len(catalog)} events are at {catalog['time'].min()}; "
               "annual rates need events over a period of time.")
        raise SchemaError(msg)
    fit = aki_utsu(above, mc, delta_m, duration_years=float(span))
    b_value = fit.b if b is None else float(b)
    summary = None
    if decluster is not None:
        step(f"declustering ({decluster})")
        result = run_decluster(above, decluster, **(decluster_kwargs or {}))
        summary = result.summary()
        above = result.declustered(above)
    step("smoothing")
    rates = smoothed_seismicity(above, mc, b_value, delta_m=delta_m, kernel=kernel, bandwidth_km=bandwidth_km,
                                n_neighbours=n_neighbours, spacing_deg=spacing_deg, region=region,
                                max_depth_km=max_depth_km, duration_years=float(span))
    step("building OpenQuake point sources")
    sources = point_sources(rates, settings)
    step(f"writing {len(sources)} sources")
    out = write_source_model(path, sources)
    return SourceModelResult(out, rates, float(mc), fit, len(sources), summary)
