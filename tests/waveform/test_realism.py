"""Realism layer: arrivals, duration, kappa, length and zero baseline on every generator."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gmlearn.waveform import realism, timing


@pytest.fixture(scope="module")
def far_records():
    from gmlearn.waveform import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load("stochastic").generate(6.5, 60.0, 400.0, n=12, random_state=0, return_info=True)


def test_travel_times_and_kappa():
    tp, ts = timing.travel_times(np.array([0.0, 100.0]), depth=0.0)
    np.testing.assert_allclose(ts - tp, np.array([0.0, 100.0 * (1 / timing.VS - 1 / timing.VP)]))
    np.testing.assert_allclose(timing.kappa0_vs30(760.0), np.exp(3.490 - 1.062 * np.log(760.0)))
    assert timing.kappa_total(400.0, 100.0)[0] > timing.kappa_total(400.0, 10.0)[0]


def test_as16_durations_grow_with_magnitude_and_distance():
    ln, sigma = timing.duration_as16(np.array([5.5, 7.5, 5.5]), np.array([10.0, 10.0, 150.0]), 400.0)
    assert ln[1] > ln[0] and ln[2] > ln[0] and np.all((sigma > 0.3) & (sigma < 0.8))


def test_zero_baseline_ends_at_rest():
    rng = np.random.default_rng(0)
    acc = rng.standard_normal((4, 3, 3000)) * 0.1 + 0.01  # offset: would drift
    fixed = realism.zero_baseline(acc, 0.01, np.array([3000, 2500, 2000, 1000]))
    assert np.all(realism.end_velocity_ratio(fixed, 0.01) < 1e-8)
    vel = np.cumsum(fixed, -1)
    assert np.all(np.abs(fixed[1, :, 2500:]) == 0) and np.all(np.isfinite(vel))
    assert realism.end_velocity_ratio(acc, 0.01).min() > 0.5


def test_zero_baseline_batches_records_of_mixed_lengths():
    rng = np.random.default_rng(3)
    acc = rng.standard_normal((5, 3, 1200)) * 0.1 + 0.02
    lens = np.array([800, 1200, 800, 450, 1200])  # repeated, unsorted
    fixed = realism.zero_baseline(acc, 0.01, lens)
    for i, length in enumerate(lens):
        alone = realism.zero_baseline(acc[i:i + 1, :, :length], 0.01)[0]
        np.testing.assert_allclose(fixed[i, :, :length], alone, rtol=0, atol=1e-12)
        assert np.all(fixed[i, :, length:] == 0)
        vel, dis = realism._integrals(fixed[i], 0.01)
        assert np.all(np.abs(vel[:, -1]) <= 1e-12 * np.abs(vel).max(axis=-1))
        assert np.all(np.abs(dis[:, -1]) <= 1e-10 * np.abs(dis).max(axis=-1))


def test_restructure_same_records_on_any_number_of_threads():
    from gmlearn.waveform import load

    env = load("stochastic").envelopes(6.0, np.array([5.0, 30.0, 90.0, 150.0, 20.0]), 400.0, random_state=2)
    args = (env, 6.0, np.array([5.0, 30.0, 90.0, 150.0, 20.0]), 400.0, 0.0)
    one, info = realism.restructure(*args, random_state=4, chunk=2)
    two, _ = realism.restructure(*args, random_state=4, chunk=2, workers=2)
    np.testing.assert_array_equal(one, two)
    assert np.all(realism.end_velocity_ratio(one, 0.01) <= 1e-6)
    assert not np.array_equal(one, realism.restructure(*args, random_state=5, chunk=2)[0])


@pytest.mark.parametrize("name", ["stochastic", "cgan", "diffusion"])
def test_every_generator_has_time_structure(name):
    from gmlearn.waveform import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acc, info = load(name).generate(6.5, np.array([40.0, 120.0]), 400.0, n=None, random_state=1,
                                        return_info=True)
    assert acc.shape[:2] == (2, 3)
    np.testing.assert_allclose(info["length_s"], timing.record_length(info["sp_time"], info["d5_95_target"]))
    assert np.all(realism.end_velocity_ratio(acc, 0.01) <= 0.01)
    for rec, sp in zip(acc, info["sp_time"]):
        p, s = realism.pick_onsets(rec, 0.01)
        assert abs(p - timing.LEAD) < 0.5
        assert abs((s - p) / sp - 1) < 0.2
    assert np.all(acc[0, :, int(info["length_s"][0] / 0.01):] == 0)


def test_duration_and_kappa_follow_the_conditions(far_records):
    from gmlearn.waveform.metrics import summary

    acc, info = far_records
    d = summary(acc, 0.01, np.array([1.0]), n_angles=6)["d5_95"]
    assert abs(np.median(np.log(d / info["d5_95_target"]))) < 0.15  # each record realises its AS16 draw
    ln_as16, sigma = timing.duration_as16(6.5, 60.0, 400.0)
    assert abs(np.median(np.log(d)) - ln_as16[0]) < 0.15  # the draws of one scenario have the AS16 median
    assert abs(np.median(np.log(info["d5_95_target"])) - ln_as16[0]) < 1e-9 and sigma[0] > 0.3
    assert timing.record_length(10.0, 20.0) > timing.record_length(2.0, 10.0)
    k = np.median(realism.kappa_from_fas(acc[:, :2], 0.01))
    assert abs(k / info["kappa"][0] - 1) < 0.15


def test_seeded_and_rake_changes_spectra():
    from gmlearn.waveform import load
    from gmlearn.waveform.metrics import psa

    gen = load("stochastic")
    a = gen.generate(6.0, 20.0, 400.0, n=3, random_state=5)
    np.testing.assert_array_equal(a, gen.generate(6.0, 20.0, 400.0, n=3, random_state=5))
    rev = gen.generate(6.0, 20.0, 400.0, n=3, random_state=5, rake=90.0)
    ratio = np.median(psa(rev[:, 0], 0.01, np.array([0.2])) / psa(a[:, 0], 0.01, np.array([0.2])))
    assert ratio != pytest.approx(1.0, abs=1e-3)


def test_raw_window_without_realism():
    from gmlearn.waveform import load

    acc = load("stochastic").generate(6.0, 20.0, 400.0, n=2, random_state=0, realism=False)
    assert acc.shape == (2, 3, 2000)


def test_restructure_fits_a_requested_duration_and_band_gains():
    from gmlearn.waveform.metrics import psa, significant_duration
    from gmlearn.waveform.realism import restructure
    from gmlearn.waveform.representation import encode
    from gmlearn.waveform.stochastic import simulate

    n = 4
    mag, rrup, vs30, rake = np.full(n, 6.0), np.full(n, 20.0), np.full(n, 500.0), np.zeros(n)
    env = encode(simulate(mag, rrup, vs30, dt=0.02, random_state=0))
    base, info = restructure(env, mag, rrup, vs30, rake, random_state=1)
    want = info["d5_95_target"] * 1.5
    longer, info2 = restructure(env, mag, rrup, vs30, rake, random_state=1, fit_duration=want)
    d = significant_duration(longer[:, :2], 0.01).mean(axis=1)
    assert np.all(np.abs(np.log(d / want)) < 0.2), (d, want)
    np.testing.assert_array_equal(info2["d5_95_target"], info["d5_95_target"])  # the draws are kept
    gain = np.zeros((n, 11))
    gain[:, 3] = np.log(2.0)  # 0.4-0.63 Hz band doubled
    up, _ = restructure(env, mag, rrup, vs30, rake, random_state=1, gain=gain)
    ratio = np.median(psa(up[:, 0], 0.01, np.array([2.0, 0.1])) / psa(base[:, 0], 0.01, np.array([2.0, 0.1])), axis=0)
    assert 1.4 < ratio[0] < 2.6 and 0.7 < ratio[1] < 1.3, ratio


def test_decay_shortens_records_whose_tail_stretching_cannot_cut():
    from gmlearn.waveform.metrics import significant_duration
    from gmlearn.waveform.realism import restructure
    from gmlearn.waveform.representation import N_BANDS, N_FRAMES

    n = 3
    env = np.full((n, 3 * N_BANDS, N_FRAMES), np.log(1e-3))
    env[:, :3] = np.log(0.05)  # a stationary low-frequency tail over the whole window
    mag, rrup, vs30, rake = np.full(n, 5.0), np.full(n, 10.0), np.full(n, 760.0), np.zeros(n)
    acc, info = restructure(env, mag, rrup, vs30, rake, random_state=0)
    assert np.all(info["decay"] >= 0) and np.any(info["decay"] > 0)
    d = significant_duration(acc[:, :2], 0.01).mean(axis=1)
    assert np.median(np.abs(np.log(d / info["d5_95_target"]))) < 0.3
