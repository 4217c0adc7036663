"""Compiled boosted trees give XGBoost's predictions (to float rounding), including missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.compiled import CompiledForest


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_compiled_equals_xgboost_with_missing_values(depth: int) -> None:
    import xgboost as xgb

    rng = np.random.default_rng(depth)
    x = rng.normal(size=(3000, 5))
    y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * np.abs(x[:, 3]) + rng.normal(scale=0.1, size=len(x))
    x[rng.random(x.shape) < 0.05] = np.nan  # default directions are learned for missing values
    model = xgb.XGBRegressor(n_estimators=150, max_depth=depth, learning_rate=0.2, n_jobs=1, random_state=0).fit(x, y)
    forest = CompiledForest(model, 5)
    test = rng.normal(size=(2000, 5))
    test[rng.random(test.shape) < 0.1] = np.nan
    test[:20] = np.array(forest.thresholds[0][:1].tolist() * 100)[:20, None]  # values exactly at a threshold
    np.testing.assert_allclose(forest.predict(test), model.predict(test), atol=1e-4)
    assert forest.n_groups < 150  # trees on the same features share one table
    assert forest.max_abs_diff < 1e-4


def test_tree_model_compile_keeps_predictions(nzsmd_crustal: pd.DataFrame) -> None:
    from gmlearn.gmpe.tree import TreeGMM

    imts = ["PGA", "SA(1.0)"]
    data = nzsmd_crustal.dropna(subset=imts)
    model = TreeGMM(n_estimators=120, learning_rate=0.2, validation_fraction=0.0, n_jobs=1, random_state=0).fit(data, imts)
    before = model.predict(data, imts)
    assert model.compile() is model and model.compiled_.names == imts
    after = model.predict(data, imts)
    np.testing.assert_allclose(after.mean, before.mean, atol=1e-4)
    assert np.array_equal(after.sigma, before.sigma)
    model.fit(data.iloc[: len(data) // 2], imts)  # refitting drops the stale tables
    assert not hasattr(model, "compiled_")


def test_compiled_rejects_what_it_cannot_reproduce() -> None:
    import xgboost as xgb

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    clf = xgb.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(x, y)
    with pytest.raises(ModelError, match="identity link"):
        CompiledForest(clf, 3)
    reg = xgb.XGBRegressor(n_estimators=5, max_depth=2, n_jobs=1).fit(x, y.astype(float))
    with pytest.raises(ModelError, match=r"shape \(n_rows, 3\)"):
        CompiledForest(reg, 3).predict(np.zeros((4, 2)))


def test_ensemble_shares_bins_and_matches_each_forest() -> None:
    import xgboost as xgb

    from gmlearn.gmpe.compiled import CompiledEnsemble

    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 4))
    boosters = {}
    for k, name in enumerate(["PGA", "SA(1.0)", "PGV"]):
        y = np.cos((k + 1) * x[:, 0]) + x[:, k + 1] ** 2 + rng.normal(scale=0.1, size=len(x))
        boosters[name] = xgb.XGBRegressor(n_estimators=80, max_depth=2, n_jobs=1, random_state=k).fit(x, y)
    ensemble = CompiledEnsemble(boosters, 4)
    test = rng.normal(size=(500, 4))
    out = ensemble.predict(test, ["PGV", "PGA"])
    assert out.shape == (2, 500)
    np.testing.assert_allclose(out[0], boosters["PGV"].predict(test), atol=1e-4)
    np.testing.assert_allclose(out[1], boosters["PGA"].predict(test), atol=1e-4)
    with pytest.raises(ModelError, match=r"not \['SA\(3.0\)'\]"):
        ensemble.predict(test, ["SA(3.0)"])


def test_stumps_and_deep_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    import xgboost as xgb

    import gmlearn.gmpe.compiled as compiled

    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3))
    y = x[:, 0] + rng.normal(scale=0.1, size=300)
    stumps = xgb.XGBRegressor(n_estimators=5, max_depth=2, min_child_weight=1e6, n_jobs=1).fit(x, y)  # leaves only
    forest = CompiledForest(stumps, 3)
    assert forest.n_groups == 0
    np.testing.assert_allclose(forest.predict(x), stumps.predict(x), atol=1e-5)
    deep = xgb.XGBRegressor(n_estimators=5, max_depth=4, n_jobs=1).fit(x, y)
    monkeypatch.setattr(compiled, "MAX_CELLS", 10)
    with pytest.raises(ModelError, match="cannot be compiled"):
        CompiledForest(deep, 3)
