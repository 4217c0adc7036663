"""Site response: data-driven amplification from station terms, and linear 1-D SH transfer functions.

Public API (loaded lazily)::

    from gmlearn.site import SiteAmplificationModel, DataDrivenSiteTerm, Profile, transfer_function

See ``docs/site.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SiteAmplificationModel": "gmlearn.site.amplification",
    "station_terms": "gmlearn.site.amplification",
    "FEATURE_SETS": "gmlearn.site.amplification",
    "Profile": "gmlearn.site.sh1d",
    "SiteResponseError": "gmlearn.site.sh1d",
    "transfer_function": "gmlearn.site.sh1d",
    "single_layer_transfer_function": "gmlearn.site.sh1d",
    "amplification_at_periods": "gmlearn.site.sh1d",
    "konno_ohmachi": "gmlearn.site.sh1d",
    "DataDrivenSiteTerm": "gmlearn.site.term",
    "LinearSHSiteTerm": "gmlearn.site.term",
    "station_cv_phi": "gmlearn.site.evaluate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    msg = f"module 'gmlearn.site' has no attribute {name!r}"
    raise AttributeError(msg)
