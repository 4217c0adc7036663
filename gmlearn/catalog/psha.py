"""Classical PSHA hazard curves from a catalogue source model, in process with OpenQuake hazardlib.

This is a small, direct use of
``openquake.hazardlib.calc.hazard_curve.calc_hazard_curves`` to check that a
smoothed-seismicity model runs; the project's OpenQuake adapter
(``gmlearn.hazard``) is the place for full calculations.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import ModelError, SchemaError

__all__ = ["DEFAULT_IMTLS", "hazard_curves", "z1pt0_from_vs30", "z2pt5_from_vs30"]

#: Default intensity levels (g).
DEFAULT_IMTLS: dict[str, list[float]] = {
    "PGA": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5],
    "SA(1.0)": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5],
}


def z1pt0_from_vs30(vs30: np.ndarray | float) -> np.ndarray:
    """Depth to Vs = 1 km/s (m), Chiou & Youngs (2014, Earthq. Spectra 30(3)) California relation."""
    vs30 = np.asarray(vs30, dtype=float)
    return np.exp(-7.15 / 4.0 * np.log((vs30**4 + 571.0**4) / (1360.0**4 + 571.0**4)))


def z2pt5_from_vs30(vs30: np.ndarray | float) -> np.ndarray:
    """Depth to Vs = 2.5 km/s (km), Campbell & Bozorgnia (2014, Earthq. Spectra 30(3)) California relation."""
    return np.exp(7.089 - 1.144 * np.log(np.asarray(vs30, dtype=float)))


def _gsim(name: str) -> Any:
    from openquake.hazardlib import valid

    try:
        return valid.gsim(name)
    except Exception as exc:  # hazardlib raises several types for unknown names
        msg = f"The 'gsim' parameter must name an OpenQuake GSIM class (e.g. 'Bradley2013', 'BooreEtAl2014'). Got {name!r} instead ({exc})."
        raise ModelError(msg) from exc


def _sites(sites: Sequence[tuple[float, float]], vs30: float) -> Any:
    from openquake.hazardlib.geo import Point
    from openquake.hazardlib.site import Site, SiteCollection

    pts = np.asarray(sites, dtype=float).reshape(-1, 2)
    if pts.size == 0 or np.any(np.abs(pts[:, 1]) > 90):
        msg = f"The 'sites' parameter must be (lon, lat) pairs with |lat| <= 90. Got {sites!r} instead."
        raise SchemaError(msg)
    lon = ((pts[:, 0] + 180.0) % 360.0) - 180.0
    return SiteCollection([
        Site(Point(float(x), float(y)), vs30=float(vs30), vs30measured=False,
             z1pt0=float(z1pt0_from_vs30(vs30)), z2pt5=float(z2pt5_from_vs30(vs30)))
        for x, y in zip(lon, pts[:, 1])
    ])


def hazard_curves(
    source_model: str | os.PathLike | Sequence[Any],
    sites: Sequence[tuple[float, float]],
    imtls: Mapping[str, Sequence[float]] | None = None,
    *,
    gsim: str = "Bradley2013",
    vs30: float = 400.0,
    investigation_time: float = 50.0,
    truncation_level: float = 3.0,
    max_distance_km: float = 300.0,
) -> pd.DataFrame:
    """Probabilities of exceedance at sites from an NRML model or source groups.

    Parameters
    ----------
    source_model
        Path of an NRML source model, or source groups / sources of hazardlib.
    sites
        ``(lon, lat)`` pairs (deg).
    imtls
        IMT string -> intensity levels (g); every IMT needs the same number of
        levels (default :data:`DEFAULT_IMTLS`).
    gsim
        OpenQuake GSIM class name, used for every tectonic region
        (``"Bradley2013"`` is a New Zealand model; ``"BooreEtAl2014"`` also works).
    vs30
        Site vs30 (m/s); z1pt0 and z2pt5 follow from it.
    investigation_time
        Years.
    truncation_level
        Standard deviations of the GSIM distribution.
    max_distance_km
        Integration distance.

    Returns
    -------
    pandas.DataFrame
        Long table: ``site``, ``lon``, ``lat``, ``imt``, ``iml``, ``poe``.
    """
    from openquake.hazardlib.calc.filters import IntegrationDistance, SourceFilter
    from openquake.hazardlib.calc.hazard_curve import calc_hazard_curves

    from gmlearn.catalog.sources import read_source_model

    imtls = {k: [float(v) for v in vals] for k, vals in (imtls or DEFAULT_IMTLS).items()}
    if len({len(v) for v in imtls.values()}) != 1:
        msg = f"Every IMT in 'imtls' needs the same number of levels; got {{{', '.join(f'{k}: {len(v)}' for k, v in imtls.items())}}}."
        raise SchemaError(msg)
    if isinstance(source_model, (str, os.PathLike)):
        groups = read_source_model(source_model, investigation_time=investigation_time)
    else:
        groups = list(source_model)
    model = _gsim(gsim)
    trts = {getattr(g, "trt", None) or g.tectonic_region_type for g in groups}
    sitecol = _sites(sites, vs30)
    srcfilter = SourceFilter(sitecol, IntegrationDistance.new(str(max_distance_km)))
    curves = calc_hazard_curves(groups, srcfilter, imtls, {trt: model for trt in trts},
                                truncation_level=truncation_level, investigation_time=investigation_time)
    rows = []
    for sid, (lon, lat) in enumerate(zip(sitecol.lons, sitecol.lats)):
        for imt, levels in imtls.items():
            for iml, poe in zip(levels, curves[imt][sid]):
                rows.append((sid, float(lon), float(lat), imt, iml, float(poe)))
    return pd.DataFrame(rows, columns=["site", "lon", "lat", "imt", "iml", "poe"])
