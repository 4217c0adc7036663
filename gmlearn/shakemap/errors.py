"""Exceptions of the shakemap package (each also a built-in ``ValueError``)."""

from __future__ import annotations

from gmlearn.exceptions import GMLearnError

__all__ = ["ShakemapError", "RuptureError", "StationError", "SiteGridError"]


class ShakemapError(GMLearnError, ValueError):
    """A scenario shakemap was configured or fed wrongly."""


class RuptureError(ShakemapError):
    """A rupture has missing, out-of-range or inconsistent geometry."""


class StationError(ShakemapError):
    """A station-observation table fails validation (duplicates, missing vs30, bad values)."""


class SiteGridError(ShakemapError):
    """A site grid, site file or vs30 source is invalid."""
