"""gmlearn's regressors as scikit-learn estimators: checks, fit(X, y), score, GridSearchCV with GroupKFold."""

from __future__ import annotations

import warnings
from unittest import SkipTest

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.baseline import XGBoostBaseline
from gmlearn.gmpe.bnn import BayesianNNGMM
from gmlearn.gmpe.estimator_checks import EXPECTED_FAILED_CHECKS, expected_failed_checks, run_checks
from gmlearn.gmpe.hybrid import HybridGMM
from gmlearn.gmpe.monotone import MonotoneGMM
from gmlearn.gmpe.reference import OpenQuakeGMPE
from gmlearn.gmpe.tree import TreeGMM

IMTS = ["PGA", "SA(1.0)"]
#: Few, fast trees: one validation split, 40 rounds at most.
FAST = {"n_estimators": 40, "learning_rate": 0.2, "n_validation_splits": 1, "early_stopping_rounds": 10, "n_jobs": 1}

ESTIMATORS = [
    TreeGMM(**FAST), MonotoneGMM(**FAST), HybridGMM(**FAST), XGBoostBaseline(**FAST),
    BayesianNNGMM(n_iter=50, draws=10), OpenQuakeGMPE("BooreEtAl2014"),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check) -> None:
    """scikit-learn's own checks; those needing unnamed arrays are expected to fail (see estimator_checks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            check(estimator)
        except SkipTest:  # scikit-learn's own skip (array API checks need SCIPY_ARRAY_API=1)
            raise
        except Exception as exc:  # noqa: BLE001 - one short line per expected failure (pytest's traceback of the check module takes ~0.5 s each)
            raise AssertionError(f"{type(exc).__name__}: {exc}") from None


def test_check_counts_and_reasons() -> None:
    """Every listed failure has a reason, and the rest of the suite passes (13 checks for a learned model)."""
    result = run_checks(TreeGMM(**FAST))
    assert result["failed_unexplained"] == 0 and result["unexplained"] == []
    assert result["passed"] >= 13 and result["expected_failures"] >= len(EXPECTED_FAILED_CHECKS)
    assert all(len(reason) > 40 for reason in expected_failed_checks(OpenQuakeGMPE()).values())


@pytest.fixture(scope="module")
def xy(nzsmd_crustal) -> tuple[pd.DataFrame, pd.DataFrame]:
    """40 NZSMD crustal events: X with features and keys, y the ln IMs, both indexed by record_id."""
    table = nzsmd_crustal.set_index("record_id", drop=False)
    return table.drop(columns=IMTS), table[IMTS]


def test_fit_xy_equals_table_api(xy, nzsmd_crustal) -> None:
    X, y = xy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = TreeGMM(**FAST).fit(X, y)
        b = TreeGMM(**FAST).fit(nzsmd_crustal, IMTS)
    assert a.imts_ == IMTS and a.__sklearn_is_fitted__()
    pa, pb = a.predict(X), b.predict(nzsmd_crustal, IMTS)
    np.testing.assert_array_equal(pa.mean, pb.mean)
    assert list(pa.index) == list(X.index)  # the input index is kept
    assert pa.to_frame("mean").loc[X.index[5], "SA(1.0)"] == pa.mean[1, 5]
    # score: negative RMS of the ln residuals pooled over IMTs, NaN observations skipped
    resid = y.to_numpy() - pa.mean.T
    expected = -np.sqrt(np.nanmean(resid**2))
    assert a.score(X, y) == pytest.approx(expected)
    assert a.score(nzsmd_crustal) == pytest.approx(expected)  # table API: observations in the table
    assert -1.0 < expected < -0.3
    # a Series named by its IMT is a single-output y
    single = TreeGMM(**FAST).fit(X, y["PGA"])
    assert single.imts_ == ["PGA"] and single.predict(X).mean.shape == (1, len(X))


def test_fit_rejects_unnamed_targets(xy) -> None:
    X, y = xy
    model = TreeGMM(**FAST)
    with pytest.raises(TypeError, match="DataFrame of ln IMs"):
        model.fit(X, y.to_numpy())
    with pytest.raises(ValueError, match="must be IMT names"):
        model.fit(X, y.rename(columns={"PGA": "pga_ln"}))
    with pytest.raises(ValueError, match="named by its IMT"):
        model.fit(X, pd.Series(y["PGA"].to_numpy()))
    with pytest.raises(ValueError, match="rows but y has"):
        model.fit(X, y.iloc[:-1])
    with pytest.raises(TypeError, match="named by the schema"):
        model.fit(X[["mag", "rrup"]].to_numpy(), y)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(X)
    with pytest.raises(ModelError):  # still a gmlearn error too
        model.predict(X)


def test_group_kfold_cross_val_score_and_grid_search(xy) -> None:
    X, y = xy
    groups = X["event_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(TreeGMM(**FAST), X, y, groups=groups, cv=GroupKFold(n_splits=3))
        search = GridSearchCV(TreeGMM(**FAST), {"max_depth": [1, 3]}, cv=GroupKFold(n_splits=3)).fit(X, y, groups=groups)
    assert scores.shape == (3,) and np.all((scores < -0.3) & (scores > -1.5))
    assert search.best_params_["max_depth"] in (1, 3) and np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.max_depth == search.best_params_["max_depth"]
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])
    # out-of-event scores are worse than in-sample ones
    assert search.best_score_ < search.best_estimator_.score(X, y)


def test_params_clone_and_tags() -> None:
    tree = TreeGMM(**FAST)
    assert is_regressor(tree) and tree.set_params(max_depth=4) is tree and tree.max_depth == 4
    copy = clone(tree)
    assert copy.get_params() == tree.get_params() and not hasattr(copy, "imts_")
    with pytest.raises(ValueError, match="no parameter"):
        tree.set_params(depth=3)
    tags = tree.__sklearn_tags__()
    assert tags.target_tags.multi_output and tags.requires_fit and not tags.input_tags.allow_nan
    gmpe = OpenQuakeGMPE("BooreEtAl2014")
    assert not gmpe.__sklearn_tags__().requires_fit
    gmpe.set_params(region="CHN")
    assert clone(gmpe).get_params() == {"gsim": "BooreEtAl2014", "region": "CHN"}
    other = OpenQuakeGMPE("BooreEtAl2014")
    assert "rx" not in other.required_features
    assert other.set_params(gsim="Bradley2013") is other and "rx" in other.required_features


def test_hybrid_set_params_changes_the_base(xy) -> None:
    X, y = xy
    hybrid = HybridGMM("BooreEtAl2014", **FAST)
    assert hybrid.set_params(base="Bradley2013") is hybrid and hybrid.get_params()["base"] == "Bradley2013"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hybrid.fit(X, y)
    assert "rx" in hybrid.required_features  # Bradley2013 needs rx, BooreEtAl2014 does not
    assert clone(hybrid).get_params()["base"] == "Bradley2013"


def test_openquake_gmpe_sklearn_style(xy) -> None:
    X, y = xy
    gmpe = OpenQuakeGMPE("Bradley2013").fit(X, y)
    pred = gmpe.predict(X)
    assert pred.imts == tuple(IMTS) and list(pred.index) == list(X.index)
    assert -1.2 < gmpe.score(X, y) < -0.4
    np.testing.assert_array_equal(np.asarray(pred), pred.mean.T)
