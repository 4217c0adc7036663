"""Bayesian neural-network GMM on small real data (NZSMD crustal, 40 events)."""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("pymc")

from gmlearn.exceptions import MissingColumnError, ModelError, OutOfRangeWarning  # noqa: E402
from gmlearn.gmpe.bnn import BayesianNNGMM  # noqa: E402
from gmlearn.gmpe.persistence import load_model, save_model  # noqa: E402

IMTS = ["PGA", "SA(1.0)"]
FAST = {"n_iter": 1500, "draws": 100}


@pytest.fixture(scope="module")
def bnn(nzsmd_crustal):
    return BayesianNNGMM(**FAST).fit(nzsmd_crustal, IMTS)


def test_fit_predict_shapes(bnn, nzsmd_crustal):
    n = len(nzsmd_crustal)
    assert set(bnn.get_params()) >= {"features", "hidden_units", "method", "n_iter", "draws", "random_state"}
    assert bnn.imts_ == IMTS and set(bnn.ranges_) == set(bnn.features) and bnn.n_features_in_ == 5
    pred = bnn.predict(nzsmd_crustal)
    assert pred.imts == tuple(IMTS) and pred.mean.shape == (2, n)
    assert np.isfinite(pred.mean).all() and np.isfinite(pred.sigma).all()
    epistemic = bnn.predict_epistemic(nzsmd_crustal)
    assert epistemic.shape == (2, n) and (epistemic > 0).all()
    assert (pred.sigma >= np.hypot(pred.tau, pred.phi)).all()
    np.testing.assert_allclose(pred.sigma**2, pred.tau**2 + pred.phi**2 + epistemic**2, rtol=1e-12)
    eff = bnn.effects_["PGA"]
    assert eff["sigma_from"] == "held-out events"
    assert 0.1 < eff["tau"] < 1.2 and 0.3 < eff["phi"] < 1.2 and 0.3 < eff["noise"] < 1.2
    assert len(eff["event_terms"]) == nzsmd_crustal["event_id"].nunique()
    # the fit explains most of the spread of ln PGA (about 1.5 ln units here)
    obs = nzsmd_crustal[IMTS].to_numpy(dtype=float).T
    assert np.sqrt(np.nanmean((obs - pred.mean) ** 2)) < 0.9
    one = bnn.predict(nzsmd_crustal.iloc[:7], "SA(1)")
    np.testing.assert_array_equal(one.mean[0], pred.mean[1, :7])
    assert bnn.predict(nzsmd_crustal.iloc[:0]).mean.shape == (2, 0)


def test_epistemic_grows_outside_training_range(bnn, nzsmd_crustal):
    inside = bnn.predict_epistemic(nzsmd_crustal)
    far_rows = nzsmd_crustal.iloc[:20].assign(mag=9.0, rrup=0.5, vs30=2500.0)
    with pytest.warns(OutOfRangeWarning) as caught:
        far = bnn.predict_epistemic(far_rows)
    assert {str(w.message).split(" have ")[1].split()[0] for w in caught} == {"mag", "rrup", "vs30"}
    assert (far.min(axis=1) > 1.3 * np.median(inside, axis=1)).all()
    with pytest.warns(OutOfRangeWarning):
        pred = bnn.predict(far_rows)
    assert (pred.sigma > np.hypot(pred.tau, pred.phi)).all()
    assert (pred.sigma.min(axis=1) > np.median(bnn.predict(nzsmd_crustal).sigma, axis=1)).all()


def test_known_station_terms(bnn, nzsmd_crustal):
    rows = nzsmd_crustal.iloc[:100]
    ergodic = bnn.predict(rows, station_terms="ergodic")
    known = bnn.predict(rows, station_terms="known")
    terms = bnn.effects_["PGA"]["station_terms"].reindex(rows["station_id"].astype(str)).to_numpy()
    np.testing.assert_allclose(known.mean[0] - ergodic.mean[0], terms, atol=1e-12)
    assert np.all(known.phi[0] == bnn.effects_["PGA"]["phi_ss"])
    new_site = bnn.predict(rows.assign(station_id="NEW"), station_terms="known")
    np.testing.assert_array_equal(new_site.mean, ergodic.mean)


def test_determinism(bnn, nzsmd_crustal):
    steps = []
    again = BayesianNNGMM(**FAST).fit(nzsmd_crustal, IMTS, progress=lambda *step: steps.append(step))
    assert [s[:2] for s in steps] == [(0, 2), (1, 2), (2, 2)]
    a, b = again.predict(nzsmd_crustal), bnn.predict(nzsmd_crustal)
    for key in ("mean", "tau", "phi", "sigma"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_save_load_bit_for_bit(bnn, nzsmd_crustal, tmp_path):
    path = save_model(bnn, tmp_path / "m", training_hash="abc")
    assert sorted(p.name for p in path.iterdir()) == ["metadata.json", "posterior.nc", "random_effects.parquet"]
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["class"] == "BayesianNNGMM" and meta["format_version"] == 1 and meta["training"]["content_hash"] == "abc"
    loaded = load_model(path)
    assert type(loaded) is BayesianNNGMM and loaded.get_params() == {**bnn.get_params(), "features": list(bnn.features)}
    for mode in ("ergodic", "known"):
        a, b = bnn.predict(nzsmd_crustal, station_terms=mode), loaded.predict(nzsmd_crustal, station_terms=mode)
        for key in ("mean", "tau", "phi", "sigma"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    np.testing.assert_array_equal(loaded.predict_epistemic(nzsmd_crustal), bnn.predict_epistemic(nzsmd_crustal))
    corrupt = tmp_path / "corrupt"
    shutil.copytree(path, corrupt)
    data = bytearray((corrupt / "posterior.nc").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (corrupt / "posterior.nc").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(corrupt)


@pytest.mark.slow  # NUTS compiles its own graph: ~10 s
def test_nuts_without_held_out_events(nzsmd_crustal):
    model = BayesianNNGMM(method="nuts", draws=30, tune=30, chains=1, validation_fraction=0.0).fit(nzsmd_crustal, "PGA")
    assert dict(model.posterior_.posterior.sizes) == {"chain": 1, "draw": 30, "feature": 5, "hidden": 8, "imt": 1}
    assert model.effects_["PGA"]["sigma_from"] == "training residuals"
    assert (model.predict_epistemic(nzsmd_crustal) > 0).all()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("hidden_units", 0, "must be an int in \\[1, 256\\]. Got 0 instead."),
        ("n_iter", 10.5, "must be an int in"),
        ("draws", True, "must be an int in"),
        ("learning_rate", 2.0, "must be a float in"),
        ("validation_fraction", 0.9, "must be a float in \\[0, 0.5\\]"),
        ("method", "vi", "must be one of \\['advi', 'nuts'\\]. Got 'vi' instead."),
        ("station_effects", "yes", "must be a bool"),
        ("features", "mag", "must be a non-empty sequence"),
    ],
)
def test_bad_parameters(nzsmd_crustal, name, value, expected):
    with pytest.raises(ValueError, match=f"The '{name}' parameter of BayesianNNGMM {expected}"):
        BayesianNNGMM(**{name: value}).fit(nzsmd_crustal, IMTS)


def test_usage_errors(bnn, nzsmd_crustal):
    with pytest.raises(ModelError, match="not fitted"):
        BayesianNNGMM().predict(nzsmd_crustal)
    with pytest.raises(ModelError, match="SA\\(3.0\\)"):
        bnn.predict(nzsmd_crustal, "SA(3.0)")
    with pytest.raises(ValueError, match="'station_terms' parameter"):
        bnn.predict(nzsmd_crustal, station_terms="nonergodic")
    with pytest.raises(MissingColumnError, match="vs30"):
        bnn.predict(nzsmd_crustal.drop(columns="vs30"))
    with pytest.raises(ValueError, match="'vs30'.*0.0"):  # refused by the shared input check
        bnn.predict(nzsmd_crustal.iloc[:3].assign(vs30=[0.0, 300.0, 400.0]))
    with pytest.raises(MissingColumnError, match="station_id"):
        BayesianNNGMM().fit(nzsmd_crustal.drop(columns="station_id"), IMTS)


def test_anchored_outside_the_box_and_base_in_a_new_region(bnn, nzsmd_crustal):
    import warnings

    rows = nzsmd_crustal.iloc[:5]
    base = bnn.anchor_.ensemble.predict(rows.assign(region="elsewhere"), IMTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inside = bnn.predict(rows, IMTS)
        far = bnn.predict(rows.assign(mag=bnn.anchor_.box["mag"][1] + 2.0), IMTS)
        far_base = bnn.anchor_.ensemble.predict(rows.assign(mag=bnn.anchor_.box["mag"][1] + 2.0), IMTS)
        other = bnn.predict(rows.assign(region="elsewhere"), IMTS)
    assert not np.allclose(inside.mean, base.mean)  # the learned model inside its data
    assert np.all(np.abs(far.mean - far_base.mean) <= bnn.anchor_.max_correction + 1e-9)
    assert np.all(far.mean >= far_base.mean - 1e-9)  # beyond the taper only a positive edge correction is kept
    if bnn.anchor_.regions is None:  # trained without region labels: every row is in-region
        np.testing.assert_allclose(other.mean, inside.mean)
    bnn.anchor_.regions = ("nz",)
    try:
        with pytest.warns(OutOfRangeWarning, match="region the model was not trained on"):
            other = bnn.predict(rows.assign(region="elsewhere"), IMTS)
    finally:
        bnn.anchor_.regions = None
    np.testing.assert_allclose(other.mean, base.mean)
    np.testing.assert_allclose(other.sigma, base.sigma)
