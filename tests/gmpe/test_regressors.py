"""Tree, monotone and hybrid mixed-effects regressors on small real data."""

import warnings

import numpy as np
import pytest

from gmlearn.exceptions import ModelError, OutOfRangeWarning
from gmlearn.gmpe.hybrid import HybridGMM
from gmlearn.gmpe.monotone import MonotoneGMM
from gmlearn.gmpe.reference import OpenQuakeGMPE
from gmlearn.gmpe.tree import TreeGMM

IMTS = ["PGA", "SA(1.0)"]
FAST = {"n_estimators": 300, "learning_rate": 0.1}


@pytest.fixture(scope="module")
def crustal(nzsmd_table):
    return nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"].reset_index(drop=True)


@pytest.fixture(scope="module")
def tree(crustal):
    return TreeGMM(**FAST).fit(crustal, IMTS)


def test_tree_contract(tree, crustal):
    assert set(tree.get_params()) >= {"features", "n_estimators", "random_state"}
    assert tree.imts_ == IMTS and set(tree.ranges_) == set(tree.features)
    pred = tree.predict(crustal.iloc[:100])
    assert pred.mean.shape == (2, 100) and pred.imts == tuple(IMTS)
    # sigma = aleatory plus an epistemic term that is zero inside the bulk of the training data
    assert np.all(pred.sigma >= np.hypot(pred.tau, pred.phi) - 1e-12)
    inside = tree.domain_.membership(crustal.iloc[:100]) == 1.0
    assert inside.mean() > 0.8
    np.testing.assert_allclose(pred.sigma[:, inside], np.hypot(pred.tau, pred.phi)[:, inside])
    eff = tree.effects_["PGA"]
    assert eff["sigma_from"] == "held-out events"
    assert 0.2 < eff["tau"] < 0.8 and 0.4 < eff["phi"] < 0.9 and eff["phi_ss"] < eff["phi"]
    assert len(eff["event_terms"]) == crustal["event_id"].nunique()


def test_non_ergodic_uses_station_terms(tree, crustal):
    rows = crustal.iloc[:200]
    ergodic = tree.predict(rows, station_terms="ergodic")
    known = tree.predict(rows, station_terms="known")
    terms = tree.effects_["PGA"]["station_terms"].reindex(rows["station_id"].astype(str)).to_numpy()
    np.testing.assert_allclose(known.mean[0] - ergodic.mean[0], terms, atol=1e-12)
    assert np.all(known.phi[0] == tree.effects_["PGA"]["phi_ss"])
    new_site = tree.predict(rows.assign(station_id="NEW"), station_terms="known")
    np.testing.assert_array_equal(new_site.mean, ergodic.mean)
    # the non-ergodic prediction fits the training records better
    obs = rows["PGA"].to_numpy()
    assert np.sqrt(np.nanmean((obs - known.mean[0]) ** 2)) < np.sqrt(np.nanmean((obs - ergodic.mean[0]) ** 2))


def test_parameter_validation_and_errors(crustal, tree):
    with pytest.raises(ValueError, match="'max_depth' parameter of TreeGMM must be a int in"):
        TreeGMM(max_depth=0).fit(crustal, "PGA")
    with pytest.raises(ValueError, match="'station_terms' parameter"):
        tree.predict(crustal, station_terms="nonergodic")
    with pytest.raises(ModelError, match="not fitted"):
        TreeGMM().predict(crustal)
    with pytest.raises(ModelError, match="SA\\(3.0\\)"):
        tree.predict(crustal, "SA(3.0)")
    with pytest.warns(OutOfRangeWarning, match="outside the training domain"):
        tree.predict(crustal.iloc[:3].assign(mag=9.5))


def test_determinism(crustal, tree):
    again = TreeGMM(**FAST).fit(crustal, IMTS)
    np.testing.assert_array_equal(again.predict(crustal).mean, tree.predict(crustal).mean)


def test_monotone_grid_has_no_violations(crustal):
    from gmlearn.evaluation.consistency import consistent_scenarios, scaling_violations

    model = MonotoneGMM(**FAST).fit(crustal, IMTS)
    grid = consistent_scenarios(mags=np.linspace(3.0, 8.5, 56), distances=np.geomspace(0.5, 500.0, 60),
                                vs30s=(400.0,), rakes=(0.0,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        mean = model.predict(grid).mean
    v = scaling_violations(grid, mean, tolerance=0.0)
    assert v["magnitude"] == 0 and v["distance"] == 0, v  # increasing in magnitude, decreasing in distance
    m = mean[0].reshape(56, 60)
    assert m[-1, 0] > m[0, 0] + 1.0  # and it actually scales


def test_hybrid_follows_physics_outside_training_range(crustal):
    model = HybridGMM("BooreEtAl2014", **FAST).fit(crustal, IMTS)
    row = crustal.iloc[[0]]
    m8 = row.assign(mag=model.anchor_.box["mag"][1] + 1.5, rrup=1.0, rjb=0.5)
    with pytest.warns(OutOfRangeWarning, match="physics base BooreEtAl2014"):
        hyb = model.predict(m8).mean
    base = OpenQuakeGMPE("BooreEtAl2014").predict(m8, IMTS).mean
    # beyond the taper only a positive edge correction is kept (withdrawing it would lower
    # ground motion towards larger magnitudes), and never more than max_correction
    edge = model.predict(m8.assign(mag=model.anchor_.box["mag"][1]), IMTS).mean - OpenQuakeGMPE("BooreEtAl2014").predict(
        m8.assign(mag=model.anchor_.box["mag"][1]), IMTS).mean
    np.testing.assert_allclose(hyb - base, np.maximum(edge, 0.0), atol=1e-9)
    inside = model.predict(crustal.iloc[:200])
    base_in = model.base_prediction(crustal.iloc[:200])
    assert np.abs(inside.mean - base_in.mean).max() > 0.05  # the correction acts inside the range
    obs = crustal["PGA"].to_numpy()[:200]
    assert np.sqrt(np.nanmean((obs - inside.mean[0]) ** 2)) < np.sqrt(np.nanmean((obs - base_in.mean[0]) ** 2))


def test_known_mode_needs_station_ids(tree, crustal):
    with pytest.raises(ValueError, match="station_id"):
        tree.predict(crustal.drop(columns="station_id").iloc[:5], station_terms="known")
