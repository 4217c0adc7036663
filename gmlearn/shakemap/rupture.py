"""Scenario ruptures: simple parameters, OpenQuake NRML files or finite-fault plane lists.

Every rupture is an OpenQuake surface (``PlanarSurface`` or ``MultiSurface``
of planes, or whatever an NRML file describes); distances are computed with
that surface's own methods, so ``rrup``, ``rjb``, ``rx`` and ``ry0`` are
OpenQuake's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from gmlearn.shakemap.errors import RuptureError

__all__ = ["Rupture", "read_rupture", "SCALING_RELATIONS"]

#: Magnitude-scaling relations accepted by :meth:`Rupture.from_parameters` (OpenQuake class names).
SCALING_RELATIONS: tuple[str, ...] = ("WC1994", "Leonard2014_Interplate", "Leonard2014_SCR", "StrasserInterface")


def _check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        msg = f"The rupture parameter {name!r} must be a number. Got {value!r} instead."
        raise RuptureError(msg) from None
    bad = not math.isfinite(value) or value > hi or (value <= lo if lo_open else value < lo)
    if bad:
        low = f"({lo}" if lo_open else f"[{lo}"
        msg = f"The rupture parameter {name!r} must be in {low}, {hi}]. Got {value!r} instead."
        raise RuptureError(msg)
    return value


def _scaling_relation(name: str):  # noqa: ANN202 - OpenQuake scaling relation
    from openquake.hazardlib import scalerel

    if name not in SCALING_RELATIONS:
        msg = f"The 'msr' parameter must be one of {list(SCALING_RELATIONS)}. Got {name!r} instead."
        raise RuptureError(msg)
    return getattr(scalerel, name)()


def _planar(top_left: Any, strike: float, dip: float, length: float, width: float):  # noqa: ANN202
    """OpenQuake PlanarSurface from its top-left corner, strike, dip, length and width (km)."""
    from openquake.hazardlib.geo.surface import PlanarSurface

    top_right = top_left.point_at(length, 0.0, strike)
    horiz, vert = width * math.cos(math.radians(dip)), width * math.sin(math.radians(dip))
    bottom_left = top_left.point_at(horiz, vert, strike + 90.0)
    bottom_right = top_right.point_at(horiz, vert, strike + 90.0)
    return PlanarSurface(strike, dip, top_left, top_right, bottom_right, bottom_left)


@dataclass(frozen=True)
class Rupture:
    """An earthquake rupture for a scenario: magnitude, rake, hypocentre and an OpenQuake surface.

    Build it with :meth:`from_parameters`, :meth:`from_nrml` or
    :meth:`from_planes`; do not call the constructor with a hand-made surface
    unless it is an OpenQuake ``BaseSurface``.

    Attributes
    ----------
    mag
        Moment magnitude.
    rake
        Rake (degrees).
    hypo_lon, hypo_lat, hypo_depth
        Hypocentre (degrees, degrees, km).
    surface
        OpenQuake surface (``PlanarSurface``, ``MultiSurface``, ...).
    source
        How the rupture was built (``"parameters"``, ``"nrml:<file>"``, ``"planes"``).
    """

    mag: float
    rake: float
    hypo_lon: float
    hypo_lat: float
    hypo_depth: float
    surface: Any = field(repr=False)
    source: str = "parameters"

    # -- construction ---------------------------------------------------------
    @classmethod
    def from_parameters(
        cls,
        *,
        lon: float,
        lat: float,
        depth: float,
        mag: float,
        strike: float,
        dip: float,
        rake: float,
        length: float | None = None,
        width: float | None = None,
        ztor: float | None = None,
        msr: str = "WC1994",
        aspect_ratio: float = 1.5,
        lower_seismogenic_depth: float = 25.0,
    ) -> "Rupture":
        """A planar rupture around a hypocentre.

        With ``length`` and ``width`` (km) the plane has that size; otherwise the
        area comes from the magnitude-scaling relation ``msr`` and the plane
        has ``aspect_ratio`` = length / width, its width limited so the bottom
        edge stays above ``lower_seismogenic_depth`` (the length then grows to
        keep the area). The hypocentre sits at the centre of the plane, moved
        down-dip when that would put the top edge above the ground; ``ztor``
        fixes the top-edge depth instead.

        Raises
        ------
        RuptureError
            Naming the parameter, its value and the allowed range, for an
            impossible value or a geometry that cannot contain the hypocentre.
        """
        from openquake.hazardlib.geo import Point

        lon = _check_range("lon", lon, -180.0, 360.0)
        lat = _check_range("lat", lat, -90.0, 90.0)
        depth = _check_range("depth", depth, 0.0, 700.0)
        mag = _check_range("mag", mag, 0.0, 10.0)
        strike = _check_range("strike", strike, -360.0, 360.0) % 360.0
        dip = _check_range("dip", dip, 0.0, 90.0, lo_open=True)
        rake = _check_range("rake", rake, -180.0, 360.0)
        _check_range("aspect_ratio", aspect_ratio, 0.0, 100.0, lo_open=True)
        sin_dip = math.sin(math.radians(dip))
        if length is None or width is None:
            area = float(_scaling_relation(msr).get_median_area(mag, rake))
            max_width = max(lower_seismogenic_depth - (ztor or 0.0), 1.0) / sin_dip
            w = width if width is not None else min(math.sqrt(area / aspect_ratio), max_width)
            length = length if length is not None else area / w
            width = w
        length = _check_range("length", length, 0.0, 2000.0, lo_open=True)
        width = _check_range("width", width, 0.0, 1000.0, lo_open=True)
        if ztor is None:
            ztor = max(depth - 0.5 * width * sin_dip, 0.0)
        ztor = _check_range("ztor", ztor, 0.0, 700.0)
        down_dip = (depth - ztor) / sin_dip  # hypocentre distance down-dip from the top edge (km)
        if down_dip < -1e-6 or down_dip > width + 1e-6:
            msg = (f"Inconsistent rupture geometry: a hypocentre at depth={depth} km cannot lie on a plane with "
                   f"ztor={ztor} km, width={width} km and dip={dip} deg (its depth range is "
                   f"[{ztor}, {ztor + width * sin_dip:.2f}] km). Change depth, ztor or width.")
            raise RuptureError(msg)
        hypo = Point(lon, lat, depth)
        top_centre = hypo.point_at(down_dip * math.cos(math.radians(dip)), -(depth - ztor), strike - 90.0)
        top_left = top_centre.point_at(0.5 * length, 0.0, strike + 180.0)
        top_left = Point(top_left.longitude, top_left.latitude, ztor)
        surface = _planar(top_left, strike, dip, length, width)
        return cls(mag, rake, lon, lat, depth, surface, "parameters")

    @classmethod
    def from_nrml(cls, path: str | Path, *, mesh_spacing: float = 2.0) -> "Rupture":
        """Read an OpenQuake NRML rupture file (simple, complex, planar or multi-planes rupture).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        RuptureError
            If OpenQuake cannot read the file as a rupture.
        """
        from openquake.hazardlib import nrml, sourceconverter

        path = Path(path)
        if not path.is_file():
            msg = f"Rupture file {str(path)!r} does not exist."
            raise FileNotFoundError(msg)
        try:
            [node] = nrml.read(str(path))
            rup = sourceconverter.RuptureConverter(mesh_spacing).convert_node(node)
        except Exception as exc:  # OpenQuake raises many types for malformed NRML
            msg = f"Rupture file {str(path)!r} is not a valid OpenQuake NRML rupture: {exc}"
            raise RuptureError(msg) from exc
        hyp = rup.hypocenter
        return cls(float(rup.mag), float(rup.rake), float(hyp.longitude), float(hyp.latitude), float(hyp.depth),
                   rup.surface, f"nrml:{path.name}")

    @classmethod
    def from_planes(
        cls,
        planes: Sequence[Sequence[Sequence[float]]],
        *,
        mag: float,
        rake: float,
        hypocentre: Sequence[float],
    ) -> "Rupture":
        """A finite fault of one or more rectangular planes.

        Parameters
        ----------
        planes
            Each plane is four corners ``(lon, lat, depth_km)`` in the order
            top-left, top-right, bottom-right, bottom-left (strike runs from
            top-left to top-right, the plane dips to the right of strike).
        mag, rake
            Magnitude and rake (degrees) of the whole rupture.
        hypocentre
            ``(lon, lat, depth_km)``.

        Raises
        ------
        RuptureError
            If a plane does not have four corners, a top corner is deeper than
            its bottom corner, or the corners do not form a rectangle.
        """
        from openquake.hazardlib.geo import Point
        from openquake.hazardlib.geo.surface import MultiSurface, PlanarSurface

        mag = _check_range("mag", mag, 0.0, 10.0)
        rake = _check_range("rake", rake, -180.0, 360.0)
        if len(hypocentre) != 3:
            msg = f"The 'hypocentre' parameter must be (lon, lat, depth_km). Got {hypocentre!r} instead."
            raise RuptureError(msg)
        if not planes:
            msg = "The 'planes' parameter must hold at least one plane of four (lon, lat, depth) corners."
            raise RuptureError(msg)
        surfaces = []
        for k, plane in enumerate(planes):
            corners = np.asarray(plane, dtype=float)
            if corners.shape != (4, 3) or not np.isfinite(corners).all():
                msg = (f"Plane {k} must be four finite (lon, lat, depth) corners (top-left, top-right, "
                       f"bottom-right, bottom-left). Got {np.asarray(plane).tolist()!r} instead.")
                raise RuptureError(msg)
            tl, tr, br, bl = (Point(*c) for c in corners)
            if bl.depth <= tl.depth or br.depth <= tr.depth or min(tl.depth, tr.depth) < 0:
                msg = (f"Plane {k} has inconsistent geometry: top depths ({tl.depth}, {tr.depth}) km must be >= 0 "
                       f"and shallower than bottom depths ({br.depth}, {bl.depth}) km.")
                raise RuptureError(msg)
            try:
                surfaces.append(PlanarSurface.from_corner_points(tl, tr, br, bl))
            except ValueError as exc:
                msg = f"Plane {k} is not a rectangle (OpenQuake: {exc}); check the corner order and depths."
                raise RuptureError(msg) from exc
        surface = surfaces[0] if len(surfaces) == 1 else MultiSurface(surfaces)
        lon, lat, depth = (float(v) for v in hypocentre)
        return cls(mag, rake, lon, lat, depth, surface, "planes")

    @classmethod
    def from_trace(
        cls,
        trace: Sequence[Sequence[float]],
        *,
        dip: float,
        upper_depth: float,
        lower_depth: float,
        mag: float,
        rake: float,
        hypocentre: Sequence[float],
    ) -> "Rupture":
        """A multi-plane fault: one plane per segment of a surface trace ``[(lon, lat), ...]``.

        Each plane dips ``dip`` degrees to the right of the trace direction and
        spans ``upper_depth`` to ``lower_depth`` km, as in a ShakeMap rupture
        made of quadrilaterals.
        """
        from openquake.hazardlib.geo import Point

        dip = _check_range("dip", dip, 0.0, 90.0, lo_open=True)
        upper = _check_range("upper_depth", upper_depth, 0.0, 700.0)
        lower = _check_range("lower_depth", lower_depth, upper, 700.0, lo_open=True)
        pts = np.asarray(trace, dtype=float)
        if pts.ndim != 2 or pts.shape[0] < 2 or pts.shape[1] != 2:
            msg = f"The 'trace' parameter must hold at least two (lon, lat) points. Got {np.asarray(trace).tolist()!r}."
            raise RuptureError(msg)
        horiz = (lower - upper) / math.tan(math.radians(dip))
        planes = []
        for (lon1, lat1), (lon2, lat2) in zip(pts[:-1], pts[1:]):
            a, b = Point(lon1, lat1, upper), Point(lon2, lat2, upper)
            strike = a.azimuth(b)
            tl = a
            bl = tl.point_at(horiz, lower - upper, strike + 90.0)
            br = b.point_at(horiz, lower - upper, strike + 90.0)
            planes.append([(tl.longitude, tl.latitude, upper), (b.longitude, b.latitude, upper),
                           (br.longitude, br.latitude, lower), (bl.longitude, bl.latitude, lower)])
        rup = cls.from_planes(planes, mag=mag, rake=rake, hypocentre=hypocentre)
        return cls(rup.mag, rup.rake, rup.hypo_lon, rup.hypo_lat, rup.hypo_depth, rup.surface, "trace")

    # -- geometry ---------------------------------------------------------------
    def to_openquake(self):  # noqa: ANN201 - openquake BaseRupture
        """This rupture as an OpenQuake ``BaseRupture`` (tectonic region ``"*"``)."""
        from openquake.hazardlib.geo import Point
        from openquake.hazardlib.source.rupture import BaseRupture

        return BaseRupture(self.mag, self.rake, "*", Point(self.hypo_lon, self.hypo_lat, self.hypo_depth), self.surface)

    def parameters(self) -> dict[str, float]:
        """Rupture columns of the vocabulary: mag, rake, dip, strike, ztor, width, hypo_*."""
        s = self.surface
        return {
            "mag": self.mag, "rake": self.rake, "dip": float(s.get_dip()), "strike": float(s.get_strike()),
            "ztor": float(s.get_top_edge_depth()), "width": float(s.get_width()),
            "hypo_depth": self.hypo_depth, "hypo_lat": self.hypo_lat, "hypo_lon": self.hypo_lon,
        }

    def distances(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        """``rrup, rjb, rx, ry0, repi, rhypo`` (km) at sites on the ground surface, each shape (n,)."""
        from openquake.hazardlib.geo.geodetic import distance, geodetic_distance
        from openquake.hazardlib.geo.mesh import Mesh

        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        mesh = Mesh(lon, lat, None)
        s = self.surface
        repi = geodetic_distance(self.hypo_lon, self.hypo_lat, lon, lat)
        return {
            "rrup": np.asarray(s.get_min_distance(mesh), dtype=float),
            "rjb": np.asarray(s.get_joyner_boore_distance(mesh), dtype=float),
            "rx": np.asarray(s.get_rx_distance(mesh), dtype=float),
            "ry0": np.asarray(s.get_ry0_distance(mesh), dtype=float),
            "repi": np.asarray(repi, dtype=float),
            "rhypo": np.asarray(distance(self.hypo_lon, self.hypo_lat, self.hypo_depth, lon, lat, 0.0), dtype=float),
        }

    def context(self, sites: pd.DataFrame) -> pd.DataFrame:
        """Feature table for a model: ``sites`` (lon, lat and site columns) plus rupture and distance columns."""
        table = sites.reset_index(drop=True).copy()
        for name, value in self.parameters().items():
            table[name] = value
        for name, value in self.distances(table["lon"].to_numpy(), table["lat"].to_numpy()).items():
            table[name] = value
        return table

    def outlines(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Surface-projected outline of each plane as ``(lons, lats)``, for maps."""
        s = self.surface
        parts = getattr(s, "surfaces", None) or [s]
        out = []
        for part in parts:
            lons, lats = part.get_surface_boundaries()
            out.append((np.asarray(lons, dtype=float).ravel(), np.asarray(lats, dtype=float).ravel()))
        return out

    def bounds(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max) of the surface projection and hypocentre."""
        lons = np.concatenate([o[0] for o in self.outlines()] + [[self.hypo_lon]])
        lats = np.concatenate([o[1] for o in self.outlines()] + [[self.hypo_lat]])
        return float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())


def read_rupture(path: str | Path) -> Rupture:
    """A rupture from an NRML file (``.xml``) or a JSON file (``.json``).

    The JSON holds ``mag`` and ``rake`` plus one geometry:

    - simple parameters: ``lon, lat, depth, strike, dip`` and optionally
      ``length, width, ztor, msr, aspect_ratio`` (see :meth:`Rupture.from_parameters`);
    - ``planes``: a list of planes of four ``[lon, lat, depth]`` corners and a
      ``hypocentre`` ``[lon, lat, depth]`` (:meth:`Rupture.from_planes`);
    - ``trace``: ``[[lon, lat], ...]`` with ``dip, upper_depth, lower_depth,
      hypocentre`` (:meth:`Rupture.from_trace`).

    Raises
    ------
    FileNotFoundError, RuptureError
    """
    import json

    path = Path(path)
    if path.suffix.lower() == ".xml":
        return Rupture.from_nrml(path)
    if not path.is_file():
        msg = f"Rupture file {str(path)!r} does not exist."
        raise FileNotFoundError(msg)
    try:
        spec = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        msg = f"Rupture file {path.name!r} is not valid JSON: {exc}"
        raise RuptureError(msg) from exc
    if not isinstance(spec, dict):
        msg = f"Rupture file {path.name!r} must hold a JSON object. Got {type(spec).__name__}."
        raise RuptureError(msg)
    missing = [k for k in ("mag", "rake") if k not in spec]
    if missing:
        msg = f"Rupture file {path.name!r} lacks {missing}; it has {sorted(spec)}."
        raise RuptureError(msg)
    try:
        if "planes" in spec:
            return Rupture.from_planes(spec["planes"], mag=spec["mag"], rake=spec["rake"],
                                       hypocentre=spec.get("hypocentre", ()))
        if "trace" in spec:
            keys = ("dip", "upper_depth", "lower_depth", "hypocentre")
            return Rupture.from_trace(spec["trace"], mag=spec["mag"], rake=spec["rake"], **{k: spec[k] for k in keys})
        keys = ("lon", "lat", "depth", "strike", "dip", "length", "width", "ztor", "msr", "aspect_ratio",
                "lower_seismogenic_depth")
        unknown = sorted(set(spec) - set(keys) - {"mag", "rake", "name", "description"})
        if unknown:
            msg = f"Rupture file {path.name!r} has unknown keys {unknown}; allowed: {sorted(keys)}, planes, trace."
            raise RuptureError(msg)
        return Rupture.from_parameters(mag=spec["mag"], rake=spec["rake"], **{k: spec[k] for k in keys if k in spec})
    except (KeyError, TypeError) as exc:
        msg = f"Rupture file {path.name!r} is incomplete or malformed: {exc!r}."
        raise RuptureError(msg) from exc
