"""Space-time windows of window-based declustering, as data.

Each window maps magnitudes to a radius (km) and a duration (days) after (and,
scaled by ``fs_time_prop``, before) an event. The three windows are the fits
tabulated by van Stiphout, Zhuang & Marsan (2012, CORSSA, doi:10.5078/corssa-52382934):

- ``gardner_knopoff``: Gardner & Knopoff (1974, BSSA 64(5), 1363-1367),
  ``L = 10**(0.1238 M + 0.983)`` km; ``T = 10**(0.032 M + 2.7389)`` days for
  M >= 6.5, else ``10**(0.5409 M - 0.547)``.
- ``gruenthal``: Gruenthal (pers. comm., in van Stiphout et al. 2012),
  ``L = exp(1.77 + sqrt(0.037 + 1.02 M))`` km; ``T = |exp(-3.95 + sqrt(0.62 + 17.32 M))|``
  days for M < 6.5, else ``10**(2.8 + 0.024 M)``.
- ``uhrhammer``: Uhrhammer (1986, EOS 67, 1155), ``L = exp(-1.024 + 0.804 M)`` km,
  ``T = exp(-2.87 + 1.235 M)`` days.

Below the domain of the Gruenthal square roots (M < about -0.04) the window is
empty (NaN): such events never start a cluster, as in OpenQuake's hmtk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gmlearn.exceptions import SchemaError

__all__ = ["WINDOWS", "WINDOW_ALIASES", "get_window", "window_names"]

WindowFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _sqrt_or_nan(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.where(x >= 0.0, x, np.nan))


def gardner_knopoff_window(mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gardner & Knopoff (1974) window: (radius km, duration days), each shape (n,)."""
    mag = np.asarray(mag, dtype=float)
    space = 10.0 ** (0.1238 * mag + 0.983)
    time = np.where(mag >= 6.5, 10.0 ** (0.032 * mag + 2.7389), 10.0 ** (0.5409 * mag - 0.547))
    return space, time


def gruenthal_window(mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gruenthal window (van Stiphout et al. 2012): (radius km, duration days)."""
    mag = np.asarray(mag, dtype=float)
    space = np.exp(1.77 + _sqrt_or_nan(0.037 + 1.02 * mag))
    time = np.where(mag >= 6.5, 10.0 ** (2.8 + 0.024 * mag), np.abs(np.exp(-3.95 + _sqrt_or_nan(0.62 + 17.32 * mag))))
    return space, time


def uhrhammer_window(mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uhrhammer (1986) window: (radius km, duration days)."""
    mag = np.asarray(mag, dtype=float)
    return np.exp(-1.024 + 0.804 * mag), np.exp(-2.87 + 1.235 * mag)


#: Window name -> function of magnitude returning (radius km, duration days).
WINDOWS: dict[str, WindowFunction] = {
    "gardner_knopoff": gardner_knopoff_window,
    "gruenthal": gruenthal_window,
    "uhrhammer": uhrhammer_window,
}

#: Other accepted spellings (case-insensitive), including OpenQuake hmtk's class names.
WINDOW_ALIASES: dict[str, str] = {
    "gk": "gardner_knopoff",
    "gardnerknopoff": "gardner_knopoff",
    "gardner-knopoff": "gardner_knopoff",
    "gardnerknopoffwindow": "gardner_knopoff",
    "gruenthalwindow": "gruenthal",
    "grunthal": "gruenthal",
    "uhrhammerwindow": "uhrhammer",
    "urhammerwindow": "uhrhammer",
}


def window_names() -> list[str]:
    """Canonical window names."""
    return list(WINDOWS)


def get_window(name: str) -> WindowFunction:
    """Window function by name (see :data:`WINDOWS`, :data:`WINDOW_ALIASES`).

    Raises
    ------
    SchemaError
        Unknown name; the message lists the allowed names.
    """
    key = str(name).strip().lower()
    key = WINDOW_ALIASES.get(key, key)
    if key not in WINDOWS:
        msg = (
            f"The 'window' parameter must be one of {window_names()} "
            f"(aliases {sorted(WINDOW_ALIASES)}). Got {name!r} instead."
        )
        raise SchemaError(msg)
    return WINDOWS[key]


def canonical_window_name(name: str) -> str:
    """Canonical name of a window given by name or alias."""
    get_window(name)
    key = str(name).strip().lower()
    return WINDOW_ALIASES.get(key, key)
