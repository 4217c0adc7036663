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


def test_target_keeps_duration_and_kappa_and_fits_kappa_to_the_target():
    from gmlearn.waveform import load
    from gmlearn.waveform.metrics import significant_duration
    from gmlearn.waveform.realism import kappa_from_fas
    from gmlearn.waveform.timing import duration_as16, kappa0_vs30

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc, info = load("stochastic").generate(6.0, 30.0, 300.0, n=9, random_state=2, target="BooreEtAl2014",
                                                return_info=True)
    ln_d = np.log(significant_duration(acc[:, :2], 0.01).mean(axis=1))
    assert abs(np.median(ln_d) - duration_as16(6.0, 30.0, 300.0)[0][0]) < 0.2
    ratio = np.median(kappa_from_fas(acc[:, :2], 0.01), axis=1) / info["kappa"]
    assert 0.75 < np.median(ratio) < 1.25, ratio
    # vs30 300 m/s: Van Houtte et al. (2011) give 0.077 s, steeper than BSSA14's short periods allow
    assert np.median(info["kappa"]) < kappa0_vs30(300.0)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fixed = load("stochastic").generate(6.0, 30.0, 300.0, n=3, random_state=2, target="BooreEtAl2014",
                                               return_info=True, kappa0=0.05)
    np.testing.assert_allclose(fixed["kappa"], 0.05 + 0.0003 * 30.0)


def test_explicit_target_spectra_are_checked():
    from gmlearn.waveform import load

    gen = load("stochastic")
    with pytest.raises(WaveformModelError, match="'periods'"):
        gen.generate(6.0, 20.0, 400.0, n=2, target={"periods": [0.1, 1.0]})
    with pytest.raises(WaveformModelError, match="increasing"):
        gen.generate(6.0, 20.0, 400.0, n=2, target={"periods": [1.0, 0.1], "ln_psa": [0.0, 0.0]})
    with pytest.raises(WaveformModelError, match="finite"):
        gen.generate(6.0, 20.0, 400.0, n=2, target={"periods": [0.1, 1.0], "ln_psa": [0.0, np.nan]})


def test_groups_of_three_or_more_records_share_a_median_correction():
    rows = tg._group_rows(np.array([[6.0, 10.0], [6.0, 10.0], [7.0, 5.0], [6.0, 10.0], [7.0, 5.0]]), 5)
    assert [r.tolist() for r in rows] == [[0, 1, 3]]  # the pair at M7 is too small a set
    assert tg._group_rows(None, 5) == []


def test_shorten_damps_only_records_that_are_too_long():
    from gmlearn.waveform.metrics import significant_duration
    from gmlearn.waveform.realism import end_velocity_ratio, zero_baseline

    rng = np.random.default_rng(3)
    dt, n_t = 0.01, 6000
    t = np.arange(n_t) * dt
    env = np.exp(-np.maximum(t - 10.0, 0.0) / 15.0) * (t > 2.0)  # a long, slowly decaying coda
    acc = zero_baseline(rng.standard_normal((2, 3, n_t)) * env, dt)
    d = significant_duration(acc[:, :2], dt).mean(axis=1)
    goal = np.array([0.5 * d[0], 1.02 * d[1]])
    out = tg.shorten(acc, dt, goal, np.full(2, n_t * dt))
    d_out = significant_duration(out[:, :2], dt).mean(axis=1)
    assert abs(np.log(d_out[0] / goal[0])) < 0.05
    np.testing.assert_array_equal(out[1], acc[1])  # within the tolerance: untouched
    assert np.all(end_velocity_ratio(out, dt) < 1e-8)
