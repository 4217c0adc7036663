"""Scenario shakemaps: rupture + site grid + model, conditioned on station observations.

Public API (loaded lazily, so ``import gmlearn.shakemap`` stays light)::

    from gmlearn.shakemap import Rupture, grid_sites, read_stations, compute_shakemap, simulate_fields

See ``docs/shakemap.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Rupture": "gmlearn.shakemap.rupture",
    "Sites": "gmlearn.shakemap.sites",
    "grid_sites": "gmlearn.shakemap.sites",
    "read_sites": "gmlearn.shakemap.sites",
    "assign_vs30": "gmlearn.shakemap.sites",
    "vs30_from_slope": "gmlearn.shakemap.sites",
    "read_stations": "gmlearn.shakemap.stations",
    "validate_stations": "gmlearn.shakemap.stations",
    "CorrelationModel": "gmlearn.shakemap.correlation",
    "prepare": "gmlearn.shakemap.conditioning",
    "condition": "gmlearn.shakemap.conditioning",
    "compute_shakemap": "gmlearn.shakemap.scenario",
    "ShakeMap": "gmlearn.shakemap.scenario",
    "simulate_fields": "gmlearn.shakemap.ensemble",
    "ShakemapError": "gmlearn.shakemap.errors",
    "RuptureError": "gmlearn.shakemap.errors",
    "StationError": "gmlearn.shakemap.errors",
    "SiteGridError": "gmlearn.shakemap.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    msg = f"module 'gmlearn.shakemap' has no attribute {name!r}"
    raise AttributeError(msg)
