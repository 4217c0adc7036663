"""Earthquake catalogues: readers, completeness, b-values, declustering, clustering, smoothed seismicity.

>>> from gmlearn import catalog  # doctest: +SKIP
>>> cat = catalog.read_catalog(files)  # doctest: +SKIP
>>> catalog.mc_b_stability(cat).mc, catalog.aki_utsu(cat, 2.4).b  # doctest: +SKIP
>>> catalog.gardner_knopoff(cat).declustered(cat)  # doctest: +SKIP

Names are imported lazily, so ``import gmlearn.catalog`` loads no submodule
(and never OpenQuake, matplotlib or scikit-learn). See ``docs/catalog.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> submodule that defines it.
_EXPORTS: dict[str, str] = {
    # frame and readers
    "CATALOG_COLUMNS": "frame", "CatalogReport": "frame", "CatalogWarning": "frame", "catalog_report": "frame",
    "describe_catalog": "frame", "validate_catalog": "frame",
    "READERS": "readers", "read_catalog": "readers", "read_mlnz20": "readers", "read_geonet_cmt": "readers",
    "read_comcat": "readers", "read_quakeml": "readers", "sniff_catalog_format": "readers",
    # magnitudes, completeness, b-values
    "bin_magnitudes": "fmd", "frequency_magnitude": "fmd", "simulate_gr": "fmd",
    "McResult": "completeness", "MC_METHODS": "completeness", "estimate_mc": "completeness",
    "mc_max_curvature": "completeness", "mc_goodness_of_fit": "completeness", "mc_b_stability": "completeness",
    "stepp_completeness": "stepp", "completeness_table": "stepp",
    "GRFit": "bvalue", "aki_utsu": "bvalue", "shi_bolt_sigma": "bvalue", "weichert": "bvalue", "b_positive": "bvalue",
    # declustering and clustering
    "DeclusterResult": "declustering", "DECLUSTER_METHODS": "declustering", "decluster": "declustering",
    "WINDOWS": "windows", "get_window": "windows",
    "gardner_knopoff": "declustering_gk", "reasenberg": "declustering_reasenberg", "zaliapin": "declustering_zaliapin",
    "window_extents": "declustering_gk", "crack_radius_km": "declustering_reasenberg", "nearest_neighbours": "declustering_zaliapin",
    "ClusteringResult": "clustering", "cluster_space_time": "clustering",
    # smoothed seismicity, sources, hazard, plots, workflow
    "SmoothedRates": "smoothing", "smoothed_seismicity": "smoothing",
    "SourceSettings": "sources", "point_sources": "sources", "write_source_model": "sources",
    "read_source_model": "sources",
    "hazard_curves": "psha", "DEFAULT_IMTLS": "psha",
    "plot_fmd": "plots", "plot_declustering": "plots", "plot_rate_map": "plots",
    "SourceModelResult": "workflow", "smoothed_source_model": "workflow",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gmlearn.catalog' has no attribute {name!r}")
    return getattr(importlib.import_module(f"gmlearn.catalog.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
