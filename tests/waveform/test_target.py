"""Target spectra: BJ08 correlation, moment-matched draws, spectral matching, gmlearn or GSIM models."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gmlearn.waveform import target as tg
from gmlearn.waveform.errors import WaveformModelError


def test_bj08_matrix_is_a_correlation():
    c = tg.bj08_matrix(np.array([0.1, 0.2, 1.0, 3.0]))
    assert np.allclose(np.diag(c), 1.0) and np.allclose(c, c.T)
    assert c[0, 1] > c[0, 3] > 0 and np.all(np.linalg.eigvalsh(c) > 0)


def test_draws_have_model_median_and_sigma():
    n = 25
    draw = tg.target_spectra("BooreEtAl2014", np.full(n, 6.5), np.full(n, 30.0), np.full(n, 400.0), np.zeros(n),
                             random_state=0)
    z = (draw["ln_psa"] - draw["median"]) / draw["sigma"]
    np.testing.assert_allclose(np.median(z, axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0, ddof=1), 1.0, atol=1e-12)
    corr = np.corrcoef(z[:, [0, 1]].T)[0, 1]
    assert corr > 0.5  # neighbouring periods stay correlated
    assert np.all(draw["tau"] > 0) and np.all(draw["phi"] > draw["tau"])


def test_gmlearn_model_as_target():
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    a = tg.target_spectra(OpenQuakeGMPE("AbrahamsonEtAl2014"), np.full(3, 6.0), np.full(3, 20.0),
                          np.full(3, 500.0), np.full(3, 90.0), np.array([0.2, 1.0]), random_state=1)
    b = tg.target_spectra("AbrahamsonEtAl2014", np.full(3, 6.0), np.full(3, 20.0), np.full(3, 500.0),
                          np.full(3, 90.0), np.array([0.2, 1.0]), random_state=1)
    np.testing.assert_array_equal(a["ln_psa"], b["ln_psa"])
    with pytest.raises(WaveformModelError, match="'target'"):
        tg.target_spectra(42, np.ones(1), np.ones(1), np.ones(1), np.zeros(1))


def test_generate_with_target_matches_median_and_sigma():
    from gmlearn.waveform import load
    from gmlearn.waveform.metrics import rotd
    from gmlearn.waveform.realism import end_velocity_ratio

    periods = np.array([0.1, 0.3, 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc, info = load("cgan").generate(6.5, 20.0, 400.0, n=15, random_state=0, target="BooreEtAl2014",
                                          return_info=True, rake=-90.0)
    ln = np.log(rotd(acc[:, 0], acc[:, 1], 0.01, periods, n_angles=24))
    idx = [int(np.argmin(np.abs(info["target_periods"] - t))) for t in periods]
    med = np.array([np.interp(np.log(t), np.log(info["target_periods"]), info["target_median"][0]) for t in periods])
    sig = np.array([np.interp(np.log(t), np.log(info["target_periods"]), info["target_sigma"][0]) for t in periods])
    assert np.all(np.abs(np.median(ln, axis=0) - med) < 0.15), np.median(ln, axis=0) - med
    ratio = ln.std(axis=0, ddof=1) / sig
    assert np.all((ratio > 0.8) & (ratio < 1.2)), ratio
    assert np.all(end_velocity_ratio(acc, 0.01) <= 0.01)
    assert len(idx) == 4


def test_target_needs_realism():
    from gmlearn.waveform import load

    with pytest.raises(WaveformModelError, match="realism"):
        load("stochastic").generate(6.0, 20.0, 400.0, n=2, target="BooreEtAl2014", realism=False)
