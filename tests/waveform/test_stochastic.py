"""Stochastic point-source simulator: shapes, seeds, scaling and medians against BSSA14."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gmlearn.exceptions import OutOfRangeWarning
from gmlearn.waveform.errors import WaveformModelError
from gmlearn.waveform.metrics import psa
from gmlearn.waveform.stochastic import simulate

T = np.array([0.1, 0.3, 1.0, 3.0])


def _gm(acc):
    return np.exp(np.median(np.log(np.sqrt(psa(acc[:, 0], 0.02, T) * psa(acc[:, 1], 0.02, T))), axis=0))


def test_shape_and_seed():
    a = simulate(6.0, 20.0, 400.0, n=4, random_state=3)
    b = simulate(6.0, 20.0, 400.0, n=4, random_state=3)
    assert a.shape == (4, 3, 2000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, simulate(6.0, 20.0, 400.0, n=4, random_state=4))


def test_scaling_with_magnitude_distance_site():
    base = _gm(simulate(6.0, 20.0, 400.0, n=30, random_state=0, variability=False))
    assert np.all(_gm(simulate(7.0, 20.0, 400.0, n=30, random_state=0, variability=False)) > base)
    assert np.all(_gm(simulate(6.0, 80.0, 400.0, n=30, random_state=0, variability=False)) < base)
    soft = _gm(simulate(6.0, 20.0, 250.0, n=30, random_state=0, variability=False))
    assert soft[-1] > base[-1]  # softer site amplifies long periods


def test_median_close_to_bssa14():
    import pandas as pd

    from gmlearn.gmpe.reference import OpenQuakeGMPE

    acc = simulate(6.5, 20.0, 400.0, n=60, random_state=1)
    pred = OpenQuakeGMPE("BooreEtAl2014").predict(
        pd.DataFrame({"mag": [6.5], "rake": [0.0], "rjb": [20.0], "vs30": [400.0]}), [f"SA({t:g})" for t in T])
    bias = np.log(_gm(acc)) - pred.mean[:, 0]
    assert np.all(np.abs(bias) < 0.5), bias


def test_conditions_checked():
    with pytest.raises(WaveformModelError, match="'rrup'"):
        simulate(6.0, -1.0, 400.0, n=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        simulate(8.8, 20.0, 400.0, n=1, random_state=0)
    assert any(issubclass(w.category, OutOfRangeWarning) and "mag=8.8" in str(w.message) for w in caught)
