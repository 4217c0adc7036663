"""Physics where data end: anchors, the training domain, policies, imbalance remedies and adaptation."""

import warnings

import numpy as np
import pandas as pd
import pytest

from gmlearn.evaluation.consistency import consistent_scenarios, scaling_violations
from gmlearn.exceptions import ExtrapolationError, OutOfRangeWarning
from gmlearn.gmpe.anchor import GSIM_LABELS, PhysicsAnchor, resolve_gsim, taper
from gmlearn.gmpe.domain import TrainingDomain
from gmlearn.gmpe.hybrid import HybridGMM
from gmlearn.gmpe.imbalance import density_weights, pseudo_records
from gmlearn.gmpe.monotone import MonotoneGMM
from gmlearn.gmpe.persistence import load_model, save_model
from gmlearn.gmpe.reference import OpenQuakeGMPE
from gmlearn.gmpe.tree import TreeGMM

IMTS = ["PGA", "SA(1.0)"]
FAST = {"n_estimators": 200, "learning_rate": 0.1}


@pytest.fixture(scope="module")
def nga():
    from gmlearn import datasets

    return datasets.load("ngawest2_subset")


@pytest.fixture(scope="module")
def tree(nga):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TreeGMM(**FAST).fit(nga, IMTS)


@pytest.fixture(scope="module")
def grid():
    return consistent_scenarios(mags=np.round(np.arange(3.0, 8.51, 0.25), 2), distances=np.geomspace(0.1, 500, 14),
                                vs30s=(200.0, 760.0), rakes=(0.0, 90.0))


def test_labels_resolve_like_the_cli():
    assert resolve_gsim("CB14") == "CampbellBozorgnia2014"
    assert resolve_gsim("ChiouYoungs2014") == "ChiouYoungs2014"
    assert set(GSIM_LABELS) >= {"ASK14", "BSSA14", "CB14", "CY14", "Bradley2013"}


def test_taper_is_one_sided():
    v = np.array([4.0, 4.75, 5.0, 6.0, 9.0])
    np.testing.assert_allclose(taper(v, 5.0, 8.0, 0.5, below=True), [0.0, 0.5, 1.0, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(taper(np.array([8.0, 8.25, 8.5, 3.0]), 5.0, 8.0, 0.5, below=False), [1.0, 0.5, 0.0, 1.0], atol=1e-12)


def test_trained_on_large_magnitudes_never_far_below_base_at_small_ones(tree, nga):
    """The issue's case: NGA-West2 subset (M >= 5.5) model at M 4 stays within c_max of its base."""
    rows = consistent_scenarios(mags=(4.0,), distances=(5.0, 20.0, 60.0), vs30s=(400.0,), rakes=(0.0,))
    with pytest.warns(OutOfRangeWarning, match="move towards the physics base"):
        pred = tree.predict(rows, IMTS)
    base = tree.anchor_.ensemble.predict(rows, IMTS).mean
    assert np.all(np.abs(pred.mean - base) <= tree.anchor_.max_correction + 1e-9)
    assert np.all(pred.mean - base > -1.5), "a PGA forty times below the base is ln(40) = 3.7 below"
    # outside the domain the epistemic term widens sigma
    assert np.all(pred.sigma > np.hypot(pred.tau, pred.phi))


def test_policies(tree, nga):
    rows = consistent_scenarios(mags=(4.0, 6.5), distances=(20.0,), vs30s=(400.0,), rakes=(0.0,))
    tree.set_params(extrapolation="raise") if hasattr(tree, "set_params") else setattr(tree, "extrapolation", "raise")
    try:
        with pytest.raises(ExtrapolationError, match="row 0: mag=4"):
            tree.predict(rows, IMTS)
        tree.extrapolation = "warn"
        with pytest.warns(OutOfRangeWarning, match="outside the training range"):
            raw = tree.predict(rows, IMTS)
    finally:
        tree.extrapolation = "base"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anchored = tree.predict(rows, IMTS)
    # inside the box both policies agree; outside they differ
    np.testing.assert_allclose(anchored.mean[:, 1], raw.mean[:, 1])
    assert not np.allclose(anchored.mean[:, 0], raw.mean[:, 0])
    with pytest.raises(ValueError, match="'extrapolation' parameter of TreeGMM must be one of"):
        TreeGMM(extrapolation="clip").fit(nga, IMTS)


@pytest.mark.parametrize("factory", [
    lambda: TreeGMM(**FAST),
    lambda: MonotoneGMM(base="auto", **FAST),
    lambda: HybridGMM("CB14", **FAST),
], ids=["tree", "monotone", "hybrid"])
def test_consistent_scaling_on_a_dense_grid(factory, nga, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = factory().fit(nga, IMTS)
        pred = model.predict(grid, IMTS)
    v = scaling_violations(grid, pred.mean)
    assert v["magnitude"] == 0 and v["distance"] == 0, v


def test_unconstrained_tree_does_violate(nga, grid):
    """The check can fail: a free, data-only tree breaks magnitude scaling on the same grid."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TreeGMM(base=None, scaling="free", extrapolation="warn", **FAST).fit(nga, IMTS)
        pred = model.predict(grid, IMTS)
    assert scaling_violations(grid, pred.mean)["magnitude"] > 0


def test_base_gmpes_scale_consistently(grid):
    for name in ("BSSA14", "CB14", "CY14"):
        pred = OpenQuakeGMPE(resolve_gsim(name)).predict(grid, IMTS)
        v = scaling_violations(grid, pred.mean)
        assert v["magnitude"] == 0 and v["distance"] == 0, (name, v)


def test_anchor_and_domain_survive_save_and_load(tree, nga, tmp_path):
    save_model(tree, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert back.anchor_.to_dict() == tree.anchor_.to_dict()
    rows = pd.concat([nga.iloc[:20], consistent_scenarios(mags=(4.0,), distances=(300.0,), vs30s=(400.0,), rakes=(0.0,)).assign(
        event_id="x", station_id="y")], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = tree.predict(rows, IMTS), back.predict(rows, IMTS)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.sigma, b.sigma)


def test_domain_membership_sees_holes(nga):
    domain = TrainingDomain.from_table(nga, "rjb")
    inside = domain.membership(nga.iloc[:200])
    assert np.mean(inside == 1.0) > 0.9
    # M 7.8 at 70 km with vs30 1400 m/s: each value is in range, the combination is not
    far = pd.DataFrame({"mag": [7.8, 3.0], "rjb": [70.0, 400.0], "vs30": [1400.0, 150.0]})
    assert np.all(domain.membership(far) < 0.5)
    back = TrainingDomain.from_dict(domain.to_dict())
    np.testing.assert_allclose(back.membership(nga.iloc[:50]), domain.membership(nga.iloc[:50]))
    bad = {**domain.to_dict(), "radius": -1}
    with pytest.raises(ValueError, match="impossible"):
        TrainingDomain.from_dict(bad)


def test_density_weights_favour_sparse_cells(nga):
    w = density_weights(nga)
    assert w.shape == (len(nga),) and np.isclose(w.mean(), 1.0) and w.max() <= 10.0 + 1e-9
    from gmlearn.gmpe.imbalance import _cells

    mi, di = _cells(nga["mag"].to_numpy(float), nga["rjb"].to_numpy(float))
    counts = pd.Series(list(zip(mi, di))).map(pd.Series(list(zip(mi, di))).value_counts()).to_numpy()
    assert w[counts == counts.min()].min() > w[counts == counts.max()].max()  # sparse cells weigh more


def test_pseudo_records_fill_empty_cells_with_the_base(tree, nga):
    x, mean = pseudo_records(nga, tree.anchor_, IMTS, tree.features)
    assert x.shape[1] == len(tree.features) and mean.shape == (2, len(x)) and len(x) > 0
    mags = x[:, list(tree.features).index("mag")]
    assert mags.min() >= tree.anchor_.box["mag"][0] - 1e-9 and mags.max() <= tree.anchor_.box["mag"][1] + 1e-9


def test_remedies_fit_and_stay_consistent(nga, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = TreeGMM(**FAST).fit(nga, IMTS)
        model = TreeGMM(sample_weight="density", pseudo_records=0.2, **FAST).fit(nga, IMTS)
        pred = model.predict(grid, IMTS)
    assert scaling_violations(grid, pred.mean)["magnitude"] == 0
    assert not np.allclose(plain.predict(nga.iloc[:50], IMTS).mean, model.predict(nga.iloc[:50], IMTS).mean)
    with pytest.raises(ValueError, match="'pseudo_records' parameter"):
        TreeGMM(pseudo_records=0.9).fit(nga, IMTS)


def test_anchor_metadata_is_checked():
    with pytest.raises(ValueError, match="malformed"):
        PhysicsAnchor.from_dict({"base": ["BooreEtAl2014"]})
    with pytest.raises(ValueError, match="impossible"):
        PhysicsAnchor.from_dict({"base": ["BooreEtAl2014"], "box": {"mag": [5, float("nan")], "distance": [1, 80]}})


def test_models_saved_before_anchors_load_as_data_only(nga, tmp_path):
    """A TreeGMM folder of an earlier release (no base parameter, no anchor) still predicts what it learned."""
    import json

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TreeGMM(base=None, **FAST).fit(nga, IMTS)
    folder = save_model(model, tmp_path / "old")
    meta = json.loads((folder / "metadata.json").read_text())
    for key in ("anchor", "domain", "manifest_sha256", "signature"):
        meta.pop(key, None)
    for key in ("base", "extrapolation", "scaling", "sample_weight", "pseudo_records"):
        meta["params"].pop(key, None)
    (folder / "metadata.json").write_text(json.dumps(meta))
    old = load_model(folder)
    assert old.base is None and not hasattr(old, "anchor_")
    rows = nga.iloc[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(old.predict(rows, IMTS).mean, model.predict(rows, IMTS).mean)
