"""Tests of gmlearn.gmpe.mixed_effects: recovery of simulated variance components."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from gmlearn.gmpe.mixed_effects import MixedEffectsResult, fit_mixed_effects

TRUE = {"tau": 0.40, "phi_s2s": 0.30, "phi_ss": 0.50, "bias": 0.10}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread() -> Iterator[None]:
    """Small dense solves run fastest (and steadiest on a busy machine) on one BLAS thread."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


def simulate(seed: int, n_events: int, n_stations: int, n_records: int, *, stations: bool = True) -> dict:
    """Residuals of random, sparse event-station pairs plus 10 singleton events and stations."""
    rng = np.random.default_rng(seed)
    pairs = rng.choice(n_events * n_stations, size=n_records, replace=False)
    ev, st = pairs // n_stations, pairs % n_stations
    # singletons: 10 events with one record each, 10 stations with one record each
    ev = np.concatenate([ev, n_events + np.arange(10), rng.integers(0, n_events, 10)])
    st = np.concatenate([st, rng.integers(0, n_stations, 10), n_stations + np.arange(10)])
    d_b = rng.normal(0.0, TRUE["tau"], n_events + 10)
    d_s2s = rng.normal(0.0, TRUE["phi_s2s"], n_stations + 10) if stations else np.zeros(n_stations + 10)
    r = TRUE["bias"] + d_b[ev] + d_s2s[st] + rng.normal(0.0, TRUE["phi_ss"], ev.size)
    return {"r": r, "ev": np.array([f"ev{e:04d}" for e in ev]), "st": np.array([f"st{s:04d}" for s in st]),
            "d_b": d_b, "d_s2s": d_s2s}  # fmt: skip


@pytest.fixture(scope="module")
def large() -> dict:
    # 600 events x 500 stations, 20,000 records: standard errors of about 3 % on tau and
    # phi_s2s and 0.02 on the bias, so the tolerances below sit at about 3 standard errors
    # (the 150 x 60 x 3000 design gives ~9 % and ~0.05, failing ~60 % of seeds).
    return simulate(0, 600, 500, 20_000)


@pytest.fixture(scope="module")
def large_fit(large: dict) -> MixedEffectsResult:
    return fit_mixed_effects(large["r"], large["ev"], large["st"])


def test_recovers_variance_components(large_fit: MixedEffectsResult) -> None:
    fit = large_fit
    assert fit.converged
    for name in ("tau", "phi_s2s", "phi_ss"):
        assert getattr(fit, name) == pytest.approx(TRUE[name], rel=0.10), name
    assert fit.bias == pytest.approx(TRUE["bias"], abs=0.05)
    assert fit.phi == pytest.approx(np.hypot(fit.phi_s2s, fit.phi_ss))
    assert fit.sigma == pytest.approx(np.sqrt(fit.tau**2 + fit.phi**2))
    assert (fit.n_events, fit.n_stations, fit.n_records, fit.n_dropped) == (610, 510, 20_020, 0)


def test_terms_correlate_with_simulated_ones(large: dict, large_fit: MixedEffectsResult) -> None:
    true_b = large["d_b"][[int(i[2:]) for i in large_fit.event_terms.index]]
    true_s = large["d_s2s"][[int(i[2:]) for i in large_fit.station_terms.index]]
    assert np.corrcoef(large_fit.event_terms.to_numpy(), true_b)[0, 1] > 0.9
    assert np.corrcoef(large_fit.station_terms.to_numpy(), true_s)[0, 1] > 0.85
    assert large_fit.event_terms.index.name == "event_id"
    assert large_fit.station_terms.index.name == "station_id"


def test_within_is_what_the_terms_leave(large: dict, large_fit: MixedEffectsResult) -> None:
    fit = large_fit
    expected = large["r"] - fit.bias - fit.between(large["ev"]) - fit.site(large["st"])
    np.testing.assert_allclose(fit.within, expected, atol=1e-12)
    assert abs(np.mean(fit.within)) < 0.01
    assert np.std(fit.within) == pytest.approx(TRUE["phi_ss"], rel=0.1)


def test_no_station_case() -> None:
    data = simulate(1, 300, 100, 6000, stations=False)
    fit = fit_mixed_effects(data["r"], data["ev"])
    assert fit.tau == pytest.approx(TRUE["tau"], rel=0.10)
    assert fit.phi_ss == pytest.approx(TRUE["phi_ss"], rel=0.10)
    assert fit.phi_s2s == 0.0
    assert fit.phi == fit.phi_ss
    assert fit.station_terms.empty and fit.n_stations == 0
    true_b = data["d_b"][[int(i[2:]) for i in fit.event_terms.index]]
    assert np.corrcoef(fit.event_terms.to_numpy(), true_b)[0, 1] > 0.9


def _dense_loglik(params: np.ndarray, r: np.ndarray, ev: np.ndarray, st: np.ndarray, method: str) -> float:
    """Exact (restricted) log-likelihood from the full covariance matrix."""
    tau, phi_s2s, phi_ss = params
    ze = (ev[:, None] == np.unique(ev)[None, :]).astype(float)
    zs = (st[:, None] == np.unique(st)[None, :]).astype(float)
    cov = tau**2 * ze @ ze.T + phi_s2s**2 * zs @ zs.T + phi_ss**2 * np.eye(r.size)
    inv = np.linalg.inv(cov)
    ones = np.ones(r.size)
    xvx = ones @ inv @ ones
    e = r - (ones @ inv @ r) / xvx
    loglik = -0.5 * (np.linalg.slogdet(cov)[1] + e @ inv @ e)
    if method == "ml":
        return loglik - 0.5 * r.size * np.log(2 * np.pi)
    return loglik - 0.5 * ((r.size - 1) * np.log(2 * np.pi) + np.log(xvx))


@pytest.mark.parametrize("method", ["ml", "reml"])
@pytest.mark.parametrize("shape", [(20, 15, 150), (12, 40, 200)])  # events > stations and the reverse
def test_matches_dense_likelihood(method: str, shape: tuple[int, int, int]) -> None:
    data = simulate(2, *shape)
    fit = fit_mixed_effects(data["r"], data["ev"], data["st"], method=method, tol=1e-10)
    params = np.array([fit.tau, fit.phi_s2s, fit.phi_ss])
    best = _dense_loglik(params, data["r"], data["ev"], data["st"], method)
    assert fit.loglik == pytest.approx(best, abs=1e-8)
    # the fitted point is the maximum of the exact likelihood: every nearby point is lower
    for k in range(3):
        for step in (-0.05, -1e-3, 1e-3, 0.05):
            moved = params.copy()
            moved[k] *= np.exp(step)
            assert _dense_loglik(moved, data["r"], data["ev"], data["st"], method) < best + 1e-9


def test_nan_residuals_are_dropped() -> None:
    data = simulate(3, 40, 30, 600)
    r = data["r"].copy()
    r[::7] = np.nan
    fit = fit_mixed_effects(r, data["ev"], data["st"])
    dropped = int(np.isnan(r).sum())
    assert (fit.n_dropped, fit.n_records) == (dropped, r.size - dropped)
    assert np.isnan(fit.within[::7]).all() and np.isfinite(np.delete(fit.within, np.s_[::7])).all()
    again = fit_mixed_effects(r[np.isfinite(r)], data["ev"][np.isfinite(r)], data["st"][np.isfinite(r)])
    assert again.tau == fit.tau and again.loglik == fit.loglik


def test_single_event_leaves_tau_undefined() -> None:
    rng = np.random.default_rng(4)
    st = rng.integers(0, 20, 200)
    r = 0.3 + rng.normal(0, 0.3, 20)[st] + rng.normal(0, 0.5, 200)
    fit = fit_mixed_effects(r, np.zeros(200), st)
    assert np.isnan(fit.tau) and fit.event_terms.to_numpy() == pytest.approx([0.0])
    assert fit.bias == pytest.approx(0.3, abs=0.2)
    assert fit.phi_ss == pytest.approx(0.5, rel=0.15)
    assert np.isfinite(fit.sigma)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"residuals": np.zeros(5), "event_ids": np.arange(4)}, "one id per residual"),
        ({"residuals": np.zeros(5), "event_ids": np.arange(5), "station_ids": np.arange(6)}, "station_ids"),
        ({"residuals": np.full(5, np.nan), "event_ids": np.arange(5)}, "all residuals are NaN"),
        ({"residuals": np.zeros((2, 5)), "event_ids": np.arange(5)}, "must be 1-D"),
        ({"residuals": np.array([0.0, np.inf, 1.0, 2.0]), "event_ids": np.arange(4)}, "infinite"),
        ({"residuals": np.zeros(4), "event_ids": np.array([1, None, 2, 2], dtype=object)}, "missing ids"),
        ({"residuals": np.zeros(4), "event_ids": np.arange(4), "method": "bayes"}, "'method' parameter"),
        ({"residuals": np.zeros(4), "event_ids": np.arange(4), "tol": 0.0}, "'tol' parameter"),
    ],
)
def test_bad_input_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_mixed_effects(**kwargs)


def test_same_input_same_output() -> None:
    data = simulate(5, 30, 20, 300)
    a = fit_mixed_effects(data["r"], data["ev"], data["st"])
    b = fit_mixed_effects(data["r"], data["ev"], data["st"])
    assert (a.tau, a.phi_s2s, a.phi_ss, a.bias) == (b.tau, b.phi_s2s, b.phi_ss, b.bias)
