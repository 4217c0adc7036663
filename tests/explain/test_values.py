"""SHAP values of every model kind: additivity in ln units, exactness, bad input."""

from __future__ import annotations

import json
import shutil
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import MissingColumnError, ModelError, OutOfRangeWarning
from gmlearn.explain.values import explain, load_explainable


@pytest.mark.parametrize("imt", ["PGA", "SA(1.0)"])
def test_tree_shap_adds_up_to_the_prediction(tree_model, nzsmd_crustal, imt):
    expl = explain(tree_model, nzsmd_crustal, imt, max_rows=150)
    pred = tree_model.predict(nzsmd_crustal.iloc[expl.index], [imt]).mean[0]
    assert expl.method == "tree" and expl.values.shape == (150, len(tree_model.features))
    np.testing.assert_allclose(expl.prediction, pred)
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), pred, atol=1e-4)
    assert np.ptp(expl.base_values) == 0  # one expected value for a model without a base term
    # features in physical units: the explained data are the table's own values
    np.testing.assert_array_equal(expl.data["rjb"], nzsmd_crustal["rjb"].to_numpy()[expl.index])
    # interaction values sum (over the partner axis) to the SHAP values
    np.testing.assert_allclose(expl.interactions.sum(axis=2), expl.values, atol=1e-4)
    assert expl.importance().index[0] in {"mag", "rrup", "rjb"}


def test_hybrid_base_term_plus_residual_shap_is_the_prediction(hybrid_model, nzsmd_crustal):
    expl = explain(hybrid_model, nzsmd_crustal, "PGA", max_rows=120)
    rows = nzsmd_crustal.iloc[expl.index]
    # the physics term: the base GSIM minus the magnitude allowance of the physically scaled learner
    np.testing.assert_allclose(expl.base_term, hybrid_model.physics_term(rows, ["PGA"])[0])
    allowance = np.interp(rows["mag"].to_numpy(float), *hybrid_model.effects_["PGA"]["mag_allowance"])
    np.testing.assert_allclose(expl.base_term, hybrid_model.base_prediction(rows, ["PGA"]).mean[0] - allowance)
    total = expl.base_values + expl.values.sum(axis=1)
    np.testing.assert_allclose(total, hybrid_model.predict(rows, ["PGA"]).mean[0], atol=1e-4)
    # inside the training range the weight is one: residual SHAP = SHAP of the booster itself
    import shap

    x = rows[list(hybrid_model.features)].to_numpy(dtype=float)
    raw = shap.TreeExplainer(hybrid_model.boosters_["PGA"]).shap_values(x)
    assert np.all(expl.weight == 1.0)
    np.testing.assert_allclose(expl.values, raw, atol=1e-6)
    assert expl.base_label == "BooreEtAl2014 base term"


def test_hybrid_outside_the_range_fades_the_residual_shap(hybrid_model, nzsmd_crustal):
    far = nzsmd_crustal.iloc[:6].copy()
    far["mag"] = hybrid_model.ranges_["mag"][1] + np.array([0.0, 0.05, 0.1, 0.15, 0.2, 0.5])
    with pytest.warns(OutOfRangeWarning, match="outside the training domain"):
        expl = explain(hybrid_model, far, "PGA")
    assert expl.weight[0] == 1.0 and np.all((expl.weight >= 0) & (expl.weight <= 1))
    # a negative edge correction is withdrawn above the largest training magnitude, a positive one kept
    assert np.all(np.diff(expl.weight) <= 0) or np.all(expl.weight == 1.0)
    if expl.weight[-1] == 0.0:
        np.testing.assert_allclose(expl.values[-1], 0.0, atol=1e-12)  # pure physics there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = hybrid_model.predict(far, ["PGA"]).mean[0]
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), pred, atol=1e-4)


def test_kernel_route_matches_exact_interventional_tree_shap(tree_model, nzsmd_crustal):
    import shap

    feats = list(tree_model.features)
    background = nzsmd_crustal.iloc[::15]
    rows = nzsmd_crustal.iloc[[3, 50, 120, 200]]
    expl = explain(tree_model, rows, "PGA", method="kernel", background=background)
    assert expl.method == "kernel"
    exact = shap.TreeExplainer(tree_model.boosters_["PGA"], data=background[feats].to_numpy(dtype=float),
                               feature_perturbation="interventional").shap_values(rows[feats].to_numpy(dtype=float))
    np.testing.assert_allclose(expl.values, exact, atol=2e-4)
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), expl.prediction, atol=1e-6)


def _fake_bnn(table, imts, n_hidden=4, n_draws=12, seed=0):
    """A BayesianNNGMM with random posterior draws (no PyMC fit): exercises the kernel route on its predict."""
    import xarray as xr

    from gmlearn.gmpe.base import training_ranges
    from gmlearn.gmpe.bnn import BayesianNNGMM, transform_features

    model = BayesianNNGMM()
    feats = list(model.features)
    rng = np.random.default_rng(seed)
    x = transform_features(table, feats)
    shapes = {"w_in": (len(feats), n_hidden), "b_in": (n_hidden,), "w_out": (n_hidden, len(imts)),
              "b_out": (len(imts),), "w_lin": (len(feats), len(imts)), "noise": (len(imts),)}
    dims = {"w_in": ("feature", "hidden"), "b_in": ("hidden",), "w_out": ("hidden", "imt"), "b_out": ("imt",),
            "w_lin": ("feature", "imt"), "noise": ("imt",)}
    post = xr.Dataset({k: (("chain", "draw", *dims[k]), rng.normal(0, 0.5, (1, n_draws, *s))) for k, s in shapes.items()})
    const = xr.Dataset({"x_center": ("feature", x.mean(0)), "x_scale": ("feature", x.std(0)),
                        "y_center": ("imt", np.full(len(imts), -4.0)), "y_scale": ("imt", np.ones(len(imts)))})
    model.posterior_ = types.SimpleNamespace(posterior=post, constant_data=const)
    empty = pd.Series(dtype=float)
    model.effects_ = {i: {"bias": 0.1, "tau": 0.4, "phi": 0.6, "phi_ss": 0.5, "event_terms": empty, "station_terms": empty}
                      for i in imts}
    model.imts_, model.ranges_, model.n_features_in_ = list(imts), training_ranges(table, feats), len(feats)
    return model


def test_bnn_kernel_shap_adds_up_in_ln_units(nzsmd_crustal):
    model = _fake_bnn(nzsmd_crustal, ["PGA"])
    expl = explain(model, nzsmd_crustal, max_rows=25, background_size=10)
    assert expl.method == "kernel" and expl.features == tuple(model.features) and expl.interactions is None
    np.testing.assert_allclose(expl.prediction, model.predict(nzsmd_crustal.iloc[expl.index]).mean[0])
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), expl.prediction, atol=1e-8)
    # features stay in physical units (rrup in km, not the network's ln-distance)
    np.testing.assert_array_equal(expl.data["rrup"], nzsmd_crustal["rrup"].to_numpy()[expl.index])


def test_sampling_route_adds_up(tree_model, nzsmd_crustal):
    expl = explain(tree_model, nzsmd_crustal, "PGA", method="sampling", max_rows=3, nsamples=400)
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), expl.prediction, atol=1e-6)


def test_empty_table_names_the_problem(tree_model, nzsmd_crustal):
    with pytest.raises(ModelError, match=r"data table is empty \(0 rows\).*\['mag', 'rjb'"):
        explain(tree_model, nzsmd_crustal.iloc[:0], "PGA")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"imt": "SA(3.0)"}, ModelError, r"fitted for \['PGA', 'SA\(1.0\)'\]; cannot explain 'SA\(3.0\)'"),
    ({"method": "magic"}, ValueError, r"'method' parameter of explain must be one of \['auto', 'tree'"),
])
def test_bad_arguments(tree_model, nzsmd_crustal, kwargs, error, match):
    with pytest.raises(error, match=match):
        explain(tree_model, nzsmd_crustal, **kwargs)


def test_missing_feature_column(tree_model, nzsmd_crustal):
    with pytest.raises(MissingColumnError, match=r"requires column\(s\) \['vs30'\]"):
        explain(tree_model, nzsmd_crustal.drop(columns="vs30"), "PGA")


def test_folder_without_feature_metadata(saved_hybrid, tmp_path):
    broken = tmp_path / "nofeatures"
    shutil.copytree(saved_hybrid, broken)
    meta = json.loads((broken / "metadata.json").read_text())
    del meta["features"]
    (broken / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"no feature metadata: field 'features' is None"):
        load_explainable(broken)
    with pytest.raises(ModelError, match="no metadata.json"):
        load_explainable(tmp_path)
    assert load_explainable(saved_hybrid).features == list(meta.get("params")["features"])


@pytest.mark.slow
def test_bnn_fitted_with_pymc_is_explained_exactly(nzsmd_crustal):
    from gmlearn.gmpe.bnn import BayesianNNGMM

    model = BayesianNNGMM(n_iter=400, draws=40, validation_fraction=0.0).fit(nzsmd_crustal, ["PGA"])
    expl = explain(model, nzsmd_crustal, max_rows=20, background_size=8)
    assert expl.method == "kernel"
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), expl.prediction, atol=1e-8)
    assert expl.importance().index[0] in {"mag", "rrup"}
