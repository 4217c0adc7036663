"""Tests of gmlearn.evaluation.scoring, gmlearn.evaluation.metrics and gmlearn.evaluation.plots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from gmlearn.evaluation.metrics import folded_normal_mean
from gmlearn.evaluation.plots import plot_model_comparison, plot_residual_trends
from gmlearn.evaluation.scoring import (
    SCORE_COLUMNS,
    coverage,
    cross_validate,
    edr,
    event_kfold,
    llh,
    residual_table,
    rms,
    score,
)
from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.prediction import Prediction

IMTS = ("PGA", "SA(1.0)")
TAU, PHI_S2S, PHI_SS = 0.35, 0.25, 0.45


def _median(table: pd.DataFrame, k: int) -> np.ndarray:
    """A simple ln-median: magnitude scaling, geometric spreading, linear site term."""
    r = np.sqrt(table["rrup"].to_numpy() ** 2 + 6.0**2)
    return -1.0 - 0.8 * k + (1.0 + 0.3 * k) * (table["mag"].to_numpy() - 6.0) - 1.1 * np.log(r) - 0.5 * np.log(
        table["vs30"].to_numpy() / 760.0
    )


def make_table(seed: int = 42) -> pd.DataFrame:
    """Simulated records of 40 events at 30 stations with ln PGA and ln SA(1.0) (some NaN)."""
    rng = np.random.default_rng(seed)
    n_ev, n_st, n = 40, 30, 600
    pairs = rng.choice(n_ev * n_st, size=n, replace=False)
    ev, st = pairs // n_st, pairs % n_st
    mag, vs30 = rng.uniform(4.0, 7.5, n_ev), np.exp(rng.uniform(np.log(180), np.log(1200), n_st))
    df = pd.DataFrame({
        "record_id": [f"r{i:04d}" for i in range(n)], "event_id": [f"e{e:02d}" for e in ev],
        "station_id": [f"s{s:02d}" for s in st], "mag": mag[ev], "vs30": vs30[st],
        "rrup": np.exp(rng.uniform(np.log(3.0), np.log(300.0), n)),
    })  # fmt: skip
    for k, imt in enumerate(IMTS):
        d_b, d_s = rng.normal(0, TAU, n_ev)[ev], rng.normal(0, PHI_S2S, n_st)[st]
        df[imt] = _median(df, k) + d_b + d_s + rng.normal(0, PHI_SS, n)
    df.loc[df.index[::25], "SA(1.0)"] = np.nan
    return df


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


def _true_prediction(table: pd.DataFrame) -> Prediction:
    mean = np.vstack([_median(table, k) for k in range(len(IMTS))])
    tau, phi = np.full_like(mean, TAU), np.full_like(mean, np.hypot(PHI_S2S, PHI_SS))
    return Prediction(IMTS, mean, tau, phi, np.hypot(tau, phi))


# metrics -------------------------------------------------------------------------------


def test_rms_ignores_nan() -> None:
    assert rms(np.array([3.0, -4.0, np.nan])) == pytest.approx(np.sqrt(12.5))
    assert np.isnan(rms(np.array([np.nan])))


@pytest.mark.parametrize(("offset", "expected"), [(0.0, np.log2(np.sqrt(2 * np.pi))), (1.0, 1.3257 + 0.5 / np.log(2))])
def test_llh_known_values(offset: float, expected: float) -> None:
    obs = np.linspace(-3, 1, 50)
    assert llh(obs, obs - offset, np.ones(50)) == pytest.approx(expected, abs=1e-4)


def test_llh_prefers_the_true_model() -> None:
    rng = np.random.default_rng(0)
    obs = rng.normal(0.0, 0.6, 5000)
    true, wide, biased = (llh(obs, np.zeros(5000), np.full(5000, s)) for s in (0.6, 1.2, 0.6))
    assert true < wide
    assert true < llh(obs, np.full(5000, 0.5), np.full(5000, 0.6))
    assert biased == true


@pytest.mark.parametrize(("loc", "scale"), [(0.0, 1.0), (0.7, 0.4), (-2.0, 0.5), (0.1, 3.0)])
def test_folded_normal_mean_matches_integral(loc: float, scale: float) -> None:
    expected, _ = integrate.quad(lambda d: abs(d) * stats.norm.pdf(d, loc, scale), -np.inf, np.inf)
    assert folded_normal_mean(loc, scale) == pytest.approx(expected, rel=1e-8)


def test_edr_of_perfect_model_is_zero() -> None:
    obs = np.random.default_rng(1).normal(-2.0, 1.0, 1000)
    mde, sqrt_kappa, value = edr(obs, obs, np.full(1000, 1e-6))
    assert sqrt_kappa == 1.0
    assert mde < 1e-5 and value < 1e-5


def test_edr_penalises_a_trend() -> None:
    rng = np.random.default_rng(2)
    obs = rng.normal(-2.0, 1.0, 2000)
    noisy = obs + rng.normal(0, 0.5, 2000)
    compressed = -2.0 + 0.3 * (obs + 2.0) + rng.normal(0, 0.5, 2000)
    sigma = np.full(2000, 0.5)
    good, bad = edr(obs, noisy, sigma), edr(obs, compressed, sigma)
    assert good[1] == pytest.approx(1.0, abs=0.01)
    assert bad[1] > 1.3 and bad[2] > good[2]
    assert good[2] == pytest.approx(good[0] * good[1])


def test_coverage_of_calibrated_normal_data() -> None:
    rng = np.random.default_rng(3)
    mean, sigma = rng.normal(0, 1, 20_000), rng.uniform(0.3, 0.9, 20_000)
    obs = rng.normal(mean, sigma)
    cov = coverage(obs, mean, sigma)
    assert cov[0.68] == pytest.approx(0.68, abs=0.02)
    assert cov[0.95] == pytest.approx(0.95, abs=0.02)
    assert coverage(obs, mean, 0.5 * sigma)[0.68] < 0.5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: llh(np.zeros(3), np.zeros(4), np.ones(3)), "same length"),
        (lambda: llh(np.zeros(3), np.zeros(3), np.zeros(3)), "'sigma' must be > 0"),
        (lambda: edr(np.zeros((2, 3)), np.zeros(3), np.ones(3)), "must be 1-D"),
        (lambda: coverage(np.zeros(3), np.zeros(3), np.ones(3), levels=(1.5,)), "'levels'"),
    ],
)
def test_metrics_reject_bad_input(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# residual table and score -----------------------------------------------------------------


def test_residual_table(table: pd.DataFrame) -> None:
    pred = _true_prediction(table)
    long = residual_table(table, pred, IMTS)
    n_sa = int(table["SA(1.0)"].notna().sum())
    assert len(long) == len(table) + n_sa
    assert {"row", "record_id", "event_id", "station_id", "imt", "obs", "mean", "sigma", "tau", "phi",
            "residual"} <= set(long.columns)  # fmt: skip
    pga = long[long["imt"] == "PGA"]
    np.testing.assert_allclose(pga["residual"], table["PGA"].to_numpy() - pred.mean[0])
    assert (pga["record_id"].to_numpy() == table["record_id"].to_numpy()).all()
    renamed = table.rename(columns={"PGA": "ln_pga"})
    again = residual_table(renamed, pred, ["PGA"], obs_columns={"PGA": "ln_pga"})
    np.testing.assert_allclose(again["obs"], pga["obs"])


def test_residual_table_errors(table: pd.DataFrame) -> None:
    pred = _true_prediction(table)
    with pytest.raises(MissingColumnError, match="SA\\(1.0\\)"):
        residual_table(table.drop(columns="SA(1.0)"), pred, IMTS)
    with pytest.raises(ValueError, match="row by row"):
        residual_table(table.iloc[:-1], pred, IMTS)


def test_score_of_the_true_model(table: pd.DataFrame) -> None:
    pred = _true_prediction(table)
    before = table.copy()
    scores = score(table, pred)
    pd.testing.assert_frame_equal(table, before)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert list(scores["imt"]) == list(IMTS)
    assert scores[list(SCORE_COLUMNS[1:])].notna().all().all()
    assert np.isfinite(scores[list(SCORE_COLUMNS[1:])].to_numpy(dtype=float)).all()
    assert list(scores["n_records"]) == [len(table), int(table["SA(1.0)"].notna().sum())]
    sigma = np.sqrt(TAU**2 + PHI_S2S**2 + PHI_SS**2)
    assert scores["sigma_fit"].to_numpy() == pytest.approx([sigma, sigma], rel=0.2)
    assert scores["bias"].abs().max() < 0.25
    assert scores["model_sigma"].to_numpy() == pytest.approx([sigma, sigma])
    assert (scores["coverage_95"] > 0.85).all()
    worse = score(table, Prediction(IMTS, pred.mean + 0.5, pred.tau, pred.phi, pred.sigma), station_terms=False)
    assert (worse["rms"] > scores["rms"]).all() and (worse["llh"] > scores["llh"]).all()
    assert (worse["phi_s2s"] == 0.0).all()


# cross-validation -------------------------------------------------------------------------


def test_event_kfold_groups_and_covers(table: pd.DataFrame) -> None:
    events = table["event_id"].to_numpy()
    folds = event_kfold(events, n_splits=5, random_state=7)
    tests = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(table)))
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= table["event_id"].value_counts().max()
    for train, test in folds:
        assert set(events[train]).isdisjoint(events[test])
        assert len(train) + len(test) == len(table)
    same = event_kfold(events, n_splits=5, random_state=7)
    other = event_kfold(events, n_splits=5, random_state=8)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, same, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))


@pytest.mark.parametrize("n_splits", [1, 41])
def test_event_kfold_rejects_bad_n_splits(table: pd.DataFrame, n_splits: int) -> None:
    with pytest.raises(ValueError, match="n_splits"):
        event_kfold(table["event_id"], n_splits=n_splits)


class TrainingMean:
    """Predicts the training mean of each IMT plus a row-specific offset (rrup), to check row order."""

    def fit(self, table: pd.DataFrame, imts: list[str]) -> TrainingMean:
        self.mean_ = {i: float(table[i].mean()) for i in imts}
        self.std_ = {i: float(table[i].std()) for i in imts}
        return self

    def predict(self, table: pd.DataFrame, imts: list[str]) -> Prediction:
        mean = np.vstack([self.mean_[i] + table["rrup"].to_numpy() for i in imts])
        std = np.vstack([np.full(len(table), self.std_[i]) for i in imts])
        return Prediction(tuple(imts), mean, 0.5 * std, 0.5 * std, std)


def test_cross_validate_reassembles_rows(table: pd.DataFrame) -> None:
    calls = []
    pred, info = cross_validate(TrainingMean, table, ["PGA", "SA(1)"], n_splits=4, random_state=3,
                                progress=lambda step, total, msg: calls.append((step, total)))  # fmt: skip
    assert pred.imts == IMTS and pred.n_rows == len(table)
    assert calls == [(k, 4) for k in range(1, 5)]
    assert list(info["fold"]) == [0, 1, 2, 3] and info["n_test"].sum() == len(table)
    for _, test in event_kfold(table["event_id"].to_numpy(), 4, 3):
        train = np.setdiff1d(np.arange(len(table)), test)
        for k, imt in enumerate(IMTS):
            expected = table[imt].iloc[train].mean() + table["rrup"].to_numpy()[test]
            np.testing.assert_allclose(pred.mean[k, test], expected)
    assert np.isfinite(score(table, pred)[["rms", "llh", "edr"]].to_numpy()).all()


def test_cross_validate_checks_the_model(table: pd.DataFrame) -> None:
    class Broken(TrainingMean):
        def predict(self, table: pd.DataFrame, imts: list[str]) -> Prediction:
            return super().predict(table.iloc[:-1], imts)

    with pytest.raises(ModelError, match="Fold 0"):
        cross_validate(Broken, table, IMTS, n_splits=3)


def test_event_kfold_is_group_kfold(table: pd.DataFrame) -> None:
    """Unshuffled, the folds are scikit-learn's GroupKFold's; seeded, GroupKFold's on permuted event labels."""
    from sklearn.model_selection import GroupKFold

    events = table["event_id"].to_numpy()
    ours = event_kfold(events, n_splits=4, random_state=None)
    theirs = list(GroupKFold(n_splits=4).split(table, groups=events))
    assert all(np.array_equal(a[1], np.sort(b[1])) for a, b in zip(ours, theirs, strict=True))
    codes, uniques = pd.factorize(events, sort=True)
    labels = np.random.default_rng(5).permutation(len(uniques))[codes]
    seeded = list(GroupKFold(n_splits=4).split(table, groups=labels))
    assert all(np.array_equal(a[1], np.sort(b[1])) for a, b in zip(event_kfold(events, 4, 5), seeded, strict=True))


def test_cross_validate_with_a_splitter(table: pd.DataFrame) -> None:
    from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut

    indexed = table.set_index("record_id")
    pred, info = cross_validate(TrainingMean, indexed, IMTS, cv=GroupKFold(n_splits=3))
    assert len(info) == 3 and list(pred.index) == list(indexed.index)
    assert pred.to_frame("mean").loc["r0003", "PGA"] == pytest.approx(pred.mean[0, 3])
    _, loo = cross_validate(TrainingMean, table, IMTS, cv=LeaveOneGroupOut())
    assert len(loo) == table["event_id"].nunique() and (loo["n_test_events"] == 1).all()
    with pytest.raises(ValueError, match="events in both training and test"):
        cross_validate(TrainingMean, table, IMTS, cv=KFold(3))
    with pytest.raises(ValueError, match="'cv' parameter"):
        cross_validate(TrainingMean, table, IMTS, cv=3)


# plots ------------------------------------------------------------------------------------


def _is_png(path: Path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_residual_trends_writes_png(table: pd.DataFrame, tmp_path: Path) -> None:
    out = plot_residual_trends(table, _true_prediction(table), None, tmp_path / "plots" / "trends.png", title="t")
    assert out == tmp_path / "plots" / "trends.png" and _is_png(out)
    assert [p.name for p in out.parent.iterdir()] == ["trends.png"]  # no temporary file left


def test_plot_residual_trends_needs_columns(table: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(MissingColumnError, match="vs30"):
        plot_residual_trends(table.drop(columns="vs30"), _true_prediction(table), None, tmp_path / "x.png")


def test_plot_model_comparison_writes_png(table: pd.DataFrame, tmp_path: Path) -> None:
    pred = _true_prediction(table)
    scores = pd.concat(
        [score(table, pred, station_terms=False).assign(model="true"),
         score(table, Prediction(IMTS, pred.mean + 0.3, pred.tau, pred.phi, pred.sigma),
               station_terms=False).assign(model="biased")],
    )  # fmt: skip
    out = plot_model_comparison(scores, tmp_path / "rms.png")
    assert _is_png(out)
    with pytest.raises(MissingColumnError, match="model"):
        plot_model_comparison(scores.drop(columns="model"), tmp_path / "y.png")
