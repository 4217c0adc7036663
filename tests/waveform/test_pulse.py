"""Near-fault pulses: the Mavroeidis-Papageorgiou pulse, Shahi-Baker period and probability, generate(pulse=...)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gmlearn.waveform import pulse as P
from gmlearn.waveform.errors import WaveformModelError
from gmlearn.waveform.realism import end_velocity_ratio

DT = 0.01


@pytest.fixture(scope="module")
def stochastic():
    from gmlearn.waveform import load

    return load("stochastic")


def _generate(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.generate(*args, return_info=True, **kwargs)


def test_velocity_matches_the_closed_form_and_acceleration_integrates_to_it():
    t = np.arange(0.0, 30.0, 0.001)
    amp, tp, gamma, nu, t0 = np.array([80.0, 30.0]), np.array([2.0, 4.5]), np.array([1.8, 2.4]), \
        np.array([0.3, 4.0]), np.array([10.0, 14.0])
    v = P.mp_velocity(t, amp, tp, gamma, nu, t0)
    k = 0
    tau = t - t0[k]
    inside = np.abs(tau) <= gamma[k] * tp[k] / 2
    closed = amp[k] / 2 * (1 + np.cos(2 * np.pi * tau / (gamma[k] * tp[k]))) * np.cos(2 * np.pi * tau / tp[k] + nu[k])
    np.testing.assert_allclose(v[k], np.where(inside, closed, 0.0), atol=1e-12)
    assert v[0, np.argmin(np.abs(t - t0[0]))] == pytest.approx(80.0 * np.cos(0.3), rel=1e-9)
    a = P.mp_acceleration(t, amp, tp, gamma, nu, t0)
    integral = np.concatenate([np.zeros((2, 1)), np.cumsum(0.5 * (a[:, 1:] + a[:, :-1]), -1) * 0.001], -1)
    np.testing.assert_allclose(integral, v, atol=1e-4 * amp.max())
    assert np.all(v[:, [0, -1]] == 0) and np.all(a[:, [0, -1]] == 0)


def test_period_model_and_identification_of_pure_pulses():
    median, sigma = P.pulse_period([6.5, 7.0, 7.5])
    np.testing.assert_allclose(np.log(median), -6.207 + 1.075 * np.array([6.5, 7.0, 7.5]))
    assert sigma == 0.61
    rng = np.random.default_rng(3)
    t = np.arange(0.0, 90.0, DT)
    tp = np.array([0.8, 1.5, 3.0, 6.0, 10.0])
    gamma, nu = rng.uniform(*P.GAMMA_RANGE, 5), rng.uniform(0, 2 * np.pi, 5)
    acc = P.mp_acceleration(t, 50.0, tp, gamma, nu, 10.0 + gamma * tp / 2) / P.G_CM
    ratio = P.identify_period(acc, DT) / tp
    assert np.all(np.abs(ratio - 1) < 0.12), ratio


def test_probability_checkpoints_and_monotone_in_distance():
    # strike-slip, r = 0, s = 0, theta = 0: 1 / (1 + e^0.457)
    assert P.pulse_probability(0.0, 0.0, 0.0)[0] == pytest.approx(1 / (1 + np.exp(0.457)), abs=1e-12)
    # strike-slip, r = 5 km, s = 25 km, theta = 10 deg
    z = 0.457 + 0.126 * 5 - 0.244 * 5.0 + 0.013 * 10
    assert P.pulse_probability(5.0, 25.0, 180.0, 10.0)[0] == pytest.approx(1 / (1 + np.exp(z)), abs=1e-12)
    # reverse, r = 10 km, d = 16 km, phi = 0
    z = 0.304 + 0.072 * 10 - 0.208 * 4.0
    assert P.pulse_probability(10.0, 16.0, 90.0)[0] == pytest.approx(1 / (1 + np.exp(z)), abs=1e-12)
    r = np.array([0.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0])
    for rake in (0.0, 90.0, -90.0):
        p = P.pulse_probability(r, 20.0, rake)
        assert np.all(np.diff(p) < 0) and p[-1] < 0.05 < 0.3 < p[0], p
    assert np.all(np.diff(P.pulse_probability(5.0, np.array([0.0, 10.0, 40.0]), 0.0)) > 0)
    np.testing.assert_allclose(P.default_s_or_d(7.0, [0.0, 90.0]),
                               [0.5 * 10 ** (-2.44 + 0.59 * 7), 0.5 * 10 ** (-1.01 + 0.32 * 7)])


def test_pulse_records_keep_zero_end_velocity_and_their_period(stochastic):
    acc0, info0 = _generate(stochastic, 7.0, 5.0, 400.0, n=8, random_state=2)
    acc, info = _generate(stochastic, 7.0, 5.0, 400.0, n=8, random_state=2, pulse=True)
    assert info["pulse"].all() and np.all(np.isfinite(info["pulse_period_s"]))
    assert np.all(end_velocity_ratio(acc, DT) <= 1e-6)
    ratio = P.identify_period(acc[:, 0], DT) / info["pulse_period_s"]
    assert abs(np.median(ratio) - 1) < 0.2 and np.mean(np.abs(ratio - 1) < 0.2) >= 0.75, ratio
    # the pulse dominates the fault-normal velocity; H2 and V are unchanged; nothing after each record's length
    vel = np.cumsum(acc[:, 0], -1) * DT * P.G_CM
    vel0 = np.cumsum(acc0[:, 0], -1) * DT * P.G_CM
    assert np.all(np.abs(vel).max(-1) > 1.5 * np.abs(vel0).max(-1))
    m = acc0.shape[-1]
    np.testing.assert_array_equal(acc[:, 1:, :m], acc0[:, 1:])
    n_len = np.round(info["length_s"] / DT).astype(int)
    assert all(np.all(acc[k, :, n_len[k]:] == 0) for k in range(8))
    assert np.all(info["length_s"] >= info0["length_s"])
    assert np.all(info["pulse_t0_s"] - info["pulse_gamma"] * info["pulse_period_s"] / 2 == pytest.approx(info["t_s"]))


def test_pulse_false_or_zero_probability_leaves_records_byte_identical(stochastic):
    base, info = _generate(stochastic, [6.0, 7.2], [8.0, 3.0], 500.0, random_state=5, rake=90.0)
    off, _ = _generate(stochastic, [6.0, 7.2], [8.0, 3.0], 500.0, random_state=5, rake=90.0, pulse=False)
    none, info_none = _generate(stochastic, [6.0, 7.2], [8.0, 3.0], 500.0, random_state=5, rake=90.0, pulse=0.0)
    assert base.tobytes() == off.tobytes() == none.tobytes()
    assert "pulse" not in info and not info_none["pulse"].any()


def test_auto_draws_with_the_model_probability(stochastic):
    _, near = _generate(stochastic, 6.5, 2.0, 400.0, n=40, random_state=0, pulse="auto", s_or_d=30.0)
    _, far = _generate(stochastic, 6.5, 60.0, 400.0, n=10, random_state=0, pulse="auto", s_or_d=30.0)
    p = P.pulse_probability(2.0, 30.0, 0.0)[0]
    np.testing.assert_allclose(near["pulse_probability"], p)
    assert abs(near["pulse"].mean() - p) < 3 * np.sqrt(p * (1 - p) / 40)
    assert not far["pulse"].any() and far["pulse_probability"][0] < 2e-3


@pytest.mark.parametrize("kwargs, needle", [
    ({"pulse": -0.1}, "'pulse'"), ({"pulse": 1.5}, "'pulse'"), ({"pulse": "sometimes"}, "'pulse'"),
    ({"pulse": "auto", "s_or_d": -3.0}, "'s_or_d'"), ({"pulse": "auto", "theta_or_phi": 120.0}, "'theta_or_phi'"),
    ({"pulse": True, "realism": False}, "'pulse'"),
])
def test_bad_pulse_inputs_name_the_parameter(stochastic, kwargs, needle):
    with pytest.raises(WaveformModelError, match=needle):
        _generate(stochastic, 6.5, 5.0, 400.0, n=2, random_state=0, **kwargs)


def test_pulse_with_target_is_added_after_matching(stochastic):
    from gmlearn.waveform.realism import end_velocity_ratio

    acc, info = _generate(stochastic, 7.0, 5.0, 400.0, n=3, random_state=1, pulse=True, target="BooreEtAl2014")
    assert info["pulse"].all() and "target_ln_psa" in info
    assert np.all(end_velocity_ratio(acc, 0.01) <= 1e-6)
    plain, _ = _generate(stochastic, 7.0, 5.0, 400.0, n=3, random_state=1, target="BooreEtAl2014")
    np.testing.assert_array_equal(acc[:, 1:, :plain.shape[-1]], plain[:, 1:])  # only H1 carries the pulse


def test_generate_command_pulse_options(tmp_path):
    from typer.testing import CliRunner

    from gmlearn.cli import app

    args = ["waveforms", "generate", "--mag", "7", "--rrup", "4", "--vs30", "400", "-n", "3", "--model", "stochastic",
            "--no-plots", "--formats", "npz"]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "on"), "--pulse", "on"])
    assert result.exit_code == 0, result.output
    data = np.load(tmp_path / "on" / "stochastic_M7_R4_V400.npz")
    assert np.all(data["pulse"] == 1) and np.all(data["pulse_period_s"] > 0)
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "auto"), "--pulse", "auto", "--pulse-distance", "25"])
    assert result.exit_code == 0, result.output
    assert set(np.load(tmp_path / "auto" / "stochastic_M7_R4_V400.npz")["pulse"]) <= {0.0, 1.0}
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "bad"), "--pulse", "often"])
    assert result.exit_code == 2 and "--pulse" in result.output
