"""Smoothed rates to OpenQuake point sources, written as an NRML source model.

Each grid cell with a rate becomes an OpenQuake ``PointSource`` with a
truncated Gutenberg-Richter MFD: ``a`` is the cell's a-value (log10 annual
number of M >= 0), ``b`` the catalogue b-value, from ``mmin`` to ``mmax``.
The model is written atomically (temporary file, then rename) with
OpenQuake's own NRML writer, so ``openquake.hazardlib.nrml`` reads it back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gmlearn.catalog.smoothing import SmoothedRates
from gmlearn.exceptions import SchemaError
from gmlearn.store.atomic import atomic_write_with

__all__ = ["SourceSettings", "point_sources", "write_source_model", "read_source_model"]


@dataclass(frozen=True)
class SourceSettings:
    """Properties shared by every point source.

    Attributes
    ----------
    mmin, mmax, bin_width
        Magnitude range and bin width of the truncated Gutenberg-Richter MFDs.
    tectonic_region_type
        OpenQuake tectonic region (e.g. ``"Active Shallow Crust"``).
    msr
        Magnitude-scaling relationship class name in ``openquake.hazardlib.scalerel``.
    rupture_aspect_ratio
        Length / width of ruptures.
    upper_seismogenic_depth, lower_seismogenic_depth
        Seismogenic layer (km).
    hypocentral_depths
        ``(probability, depth km)`` pairs.
    nodal_planes
        ``(probability, strike, dip, rake)`` tuples (deg).
    rupture_mesh_spacing
        km.
    min_rate
        Cells whose annual rate of M >= ``mmin`` is below this are left out.
    """

    mmin: float = 4.5
    mmax: float = 8.0
    bin_width: float = 0.1
    tectonic_region_type: str = "Active Shallow Crust"
    msr: str = "WC1994"
    rupture_aspect_ratio: float = 1.5
    upper_seismogenic_depth: float = 0.0
    lower_seismogenic_depth: float = 30.0
    hypocentral_depths: Sequence[tuple[float, float]] = ((1.0, 10.0),)
    nodal_planes: Sequence[tuple[float, float, float, float]] = ((0.5, 0.0, 90.0, 0.0), (0.5, 90.0, 60.0, 90.0))
    rupture_mesh_spacing: float = 2.0
    min_rate: float = 1e-7

    def check(self) -> None:
        """Raise :class:`~gmlearn.exceptions.SchemaError` for impossible settings."""
        problems = []
        if not self.mmax > self.mmin:
            problems.append(f"mmax ({self.mmax}) must exceed mmin ({self.mmin})")
        if not self.lower_seismogenic_depth > self.upper_seismogenic_depth:
            problems.append("lower_seismogenic_depth must exceed upper_seismogenic_depth")
        for _, depth in self.hypocentral_depths:
            if not self.upper_seismogenic_depth <= depth <= self.lower_seismogenic_depth:
                problems.append(f"hypocentral depth {depth} outside the seismogenic layer")
        for name, pairs in (("hypocentral_depths", self.hypocentral_depths), ("nodal_planes", self.nodal_planes)):
            if abs(sum(p[0] for p in pairs) - 1.0) > 1e-9:
                problems.append(f"{name} probabilities must sum to 1")
        if problems:
            raise SchemaError("SourceSettings: " + "; ".join(problems) + ".")


def point_sources(rates: SmoothedRates, settings: SourceSettings | None = None, *, prefix: str = "smooth") -> list[Any]:
    """OpenQuake ``PointSource`` objects, one per cell above ``settings.min_rate``.

    Parameters
    ----------
    rates
        Output of :func:`~gmlearn.catalog.smoothing.smoothed_seismicity`.
    settings
        Shared source properties (default :class:`SourceSettings`).
    prefix
        Source ids are ``f"{prefix}_{cell}"``.
    """
    from openquake.hazardlib import scalerel
    from openquake.hazardlib.geo import NodalPlane, Point
    from openquake.hazardlib.mfd import TruncatedGRMFD
    from openquake.hazardlib.pmf import PMF
    from openquake.hazardlib.source import PointSource
    from openquake.hazardlib.tom import PoissonTOM

    settings = settings or SourceSettings()
    settings.check()
    if not hasattr(scalerel, settings.msr):
        msg = f"The 'msr' setting must name a class of openquake.hazardlib.scalerel (e.g. 'WC1994'). Got {settings.msr!r} instead."
        raise SchemaError(msg)
    msr = getattr(scalerel, settings.msr)()
    frame = rates.to_frame()
    keep = rates.rate_above(settings.mmin).ravel() >= settings.min_rate
    nodal = PMF([(p, NodalPlane(s, d, r)) for p, s, d, r in settings.nodal_planes])
    hypo = PMF([(p, d) for p, d in settings.hypocentral_depths])
    out = []
    for cell in np.flatnonzero(keep):
        row = frame.iloc[cell]
        mfd = TruncatedGRMFD(settings.mmin, settings.mmax, settings.bin_width, round(float(row.a_value), 5), rates.b)
        out.append(PointSource(
            f"{prefix}_{cell}", f"{prefix} cell {cell}", settings.tectonic_region_type, mfd,
            settings.rupture_mesh_spacing, msr, settings.rupture_aspect_ratio, PoissonTOM(1.0),
            settings.upper_seismogenic_depth, settings.lower_seismogenic_depth,
            Point(round(float(row.lon), 5), round(float(row.lat), 5)), nodal, hypo,
        ))
    if not out:
        msg = f"No cell has an annual rate of M >= {settings.mmin} above min_rate={settings.min_rate}; lower 'min_rate'."
        raise SchemaError(msg)
    return out


def write_source_model(
    path: str | os.PathLike,
    rates_or_sources: SmoothedRates | list[Any],
    settings: SourceSettings | None = None,
    *,
    name: str = "gmlearn smoothed seismicity",
) -> Path:
    """Write an NRML 0.5 source model atomically; returns the path.

    Parameters
    ----------
    path
        Destination ``.xml``.
    rates_or_sources
        Smoothed rates (converted with :func:`point_sources`) or OpenQuake sources.
    settings
        Used when rates are given.
    name
        ``sourceModel`` name.
    """
    from openquake.baselib.node import Node
    from openquake.hazardlib import nrml
    from openquake.hazardlib.sourceconverter import SourceGroup
    from openquake.hazardlib.sourcewriter import obj_to_node

    sources = point_sources(rates_or_sources, settings) if isinstance(rates_or_sources, SmoothedRates) else list(rates_or_sources)
    groups: dict[str, list[Any]] = {}
    for src in sources:
        groups.setdefault(src.tectonic_region_type, []).append(src)
    nodes = [obj_to_node(SourceGroup(trt, srcs)) for trt, srcs in groups.items()]
    model = Node("sourceModel", {"name": name}, nodes=nodes)

    def _write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            nrml.write([model], fh, "%s")
            fh.flush()
            os.fsync(fh.fileno())

    return atomic_write_with(path, _write)


def read_source_model(path: str | os.PathLike, *, investigation_time: float = 1.0, bin_width: float = 0.1) -> list[Any]:
    """Source groups of an NRML source model, parsed by ``openquake.hazardlib.nrml``."""
    from openquake.hazardlib import nrml
    from openquake.hazardlib.sourceconverter import SourceConverter

    path = Path(path)
    if not path.is_file():
        msg = f"NRML source model {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    converter = SourceConverter(investigation_time=investigation_time, rupture_mesh_spacing=2.0,
                                width_of_mfd_bin=bin_width)
    model = nrml.to_python(str(path), converter)
    return list(model.src_groups)
