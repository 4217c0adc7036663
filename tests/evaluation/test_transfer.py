"""The leave-one-region-out yardstick, regional adaptation and new-region fallback on small real data."""

import warnings

import numpy as np
import pandas as pd
import pytest

from gmlearn.evaluation.consistency import consistent_scenarios, scaling_violations
from gmlearn.evaluation.transfer import (
    adaptation_curve,
    combine_regions,
    constant_adjustment,
    cross_region,
    held_out_bins,
)
from gmlearn.exceptions import ExtrapolationError, OutOfRangeWarning
from gmlearn.gmpe.adapt import AdaptedModel, fit_region_terms, region_design
from gmlearn.gmpe.reference import OpenQuakeGMPE
from gmlearn.gmpe.tree import TreeGMM

IMTS = ["PGA", "SA(1.0)"]
FAST = {"n_estimators": 150, "learning_rate": 0.1, "n_jobs": 1}


@pytest.fixture(scope="module")
def regions(nzsmd_table):
    from gmlearn import datasets

    nz = nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"]
    nz = nz[nz["event_id"].isin(nz["event_id"].drop_duplicates().iloc[:40])].reset_index(drop=True)
    return {"nz": nz, "nga": datasets.load("ngawest2_subset")}


def test_new_region_gets_the_base(regions):
    train = regions["nga"].assign(region="nga")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TreeGMM(**FAST).fit(train, IMTS)
    rows = regions["nz"].iloc[:30].assign(region="nz")
    with pytest.warns(OutOfRangeWarning, match="region the model was not trained on"):
        pred = model.predict(rows, IMTS)
    base = model.anchor_.ensemble.predict(rows, IMTS)
    np.testing.assert_allclose(pred.mean, base.mean)  # the physics base alone: its mean and its sigma
    np.testing.assert_allclose(pred.sigma, base.sigma)
    model.extrapolation = "raise"
    with pytest.raises(ExtrapolationError, match="region 'nz'"):
        model.predict(rows, IMTS)
    model.extrapolation = "base"
    # rows of the training region, or without a region label, use the learned model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = model.predict(rows.assign(region="nga"), IMTS).mean
    assert not np.allclose(same, pred.mean)


def test_region_terms_shrink_towards_the_source():
    rng = np.random.default_rng(0)
    n_ev, per = 30, 15
    events = np.repeat(np.arange(n_ev), per)
    table = pd.DataFrame({"rrup": rng.uniform(5, 200, n_ev * per), "vs30": rng.uniform(200, 900, n_ev * per)})
    x = region_design(table)
    truth = np.array([0.4, -0.3, 0.2])
    resid = x @ truth + rng.normal(0, 0.35, n_ev)[events] + rng.normal(0, 0.5, len(events))
    many, cov = fit_region_terms(resid, events, x, 0.35, 0.5, [0.5, 0.3, 0.3])
    np.testing.assert_allclose(many, truth, atol=0.15)
    assert np.all(np.diag(cov) < 0.02)
    one = fit_region_terms(resid[events == 0], events[events == 0], x[events == 0], 0.35, 0.5, [0.5, 0.3, 0.3])[0]
    assert np.all(np.abs(one) < np.abs(many) + 0.1) and abs(one[0]) < 0.4  # one event: close to the source


def test_adaptation_beats_the_unadjusted_model_on_other_events(regions):
    nz = regions["nz"]
    source = OpenQuakeGMPE("BooreEtAl2014")
    events = nz["event_id"].drop_duplicates()
    fit_rows, test = nz[nz["event_id"].isin(events.iloc[:15])], nz[~nz["event_id"].isin(events.iloc[:15])]
    adapted = source.adapt(fit_rows, IMTS)
    assert isinstance(adapted, AdaptedModel) and adapted.terms_["PGA"]["n_events"] == 15
    def rms(pred):
        return np.sqrt(np.nanmean((test[IMTS].to_numpy().T - pred.mean) ** 2))
    assert rms(adapted.predict(test, IMTS)) < rms(source.predict(test, IMTS))
    const = constant_adjustment(source, fit_rows, IMTS)
    assert const.shape == (2,) and np.all(np.isfinite(const))


def test_yardstick_functions_run_on_two_regions(regions):
    both = combine_regions({"nz": regions["nz"], "nga": regions["nga"].iloc[:300]}, IMTS)
    assert set(both["region"]) == {"nz", "nga"} and both["event_id"].str.startswith(("nz:", "nga:")).all()
    models = {"tree": lambda: TreeGMM(**FAST)}
    sc, fitted = cross_region(regions["nga"].iloc[:300], regions["nz"], models, {"BSSA14": "BSSA14"}, IMTS)
    assert set(sc["kind"]) == {"gmpe", "gmlearn", "base"} and set(sc["imt"]) == set(IMTS)
    tree = sc[sc["model"] == "tree"].set_index("imt")["rms"]
    base = sc[sc["model"] == "tree:base"].set_index("imt")["rms"]
    np.testing.assert_allclose(tree, base)  # a new region: the model is its base
    bins = held_out_bins(both, models, {"BSSA14": "BSSA14"}, IMTS,
                         bins={"M>=6.5": lambda t: t["mag"].to_numpy() >= 6.5})
    assert set(bins["bin"]) == {"M>=6.5"} and (bins["n_records"] > 0).all()
    curve = adaptation_curve(fitted["tree"], regions["nz"], IMTS, gmpe="BSSA14", ks=(3,), repeats=2)
    assert set(curve["approach"]) == {"gmpe", "gmpe+constant", "source", "adapted"}
    assert len(curve) == 2 * 4 * len(IMTS)


def test_scaling_violations_detects_a_wrong_way_step():
    grid = consistent_scenarios(mags=(5.0, 6.0, 7.0), distances=(10.0, 50.0), vs30s=(400.0,), rakes=(0.0,))
    good = 0.8 * grid["mag"].to_numpy() - np.log(grid["rrup"].to_numpy())
    assert scaling_violations(grid, good)["magnitude"] == 0
    bad = good.copy()
    bad[(grid["mag"] == 7.0).to_numpy()] -= 1.0
    v = scaling_violations(grid, bad)
    assert v["magnitude"] == 2 and v["worst_magnitude"] == pytest.approx(0.2, abs=0.02) and v["worst_magnitude_at"]["mag"] == 6.0
    far = good.copy()
    far[(grid["rjb"] == 50.0).to_numpy()] += 5.0
    assert scaling_violations(grid, far)["distance"] == 3
