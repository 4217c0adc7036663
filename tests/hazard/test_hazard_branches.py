"""Logic trees of gmlearn models: a Bayesian model's epistemic uncertainty as weighted branches."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pymc")
pytest.importorskip("openquake.hazardlib")
sys.path.insert(0, str(Path(__file__).parent))
from test_hazard_verify import REDUCED_IMTLS, copy_demo  # noqa: E402

IMTS = ["PGA", "SA(1.0)"]


@pytest.fixture(scope="module")
def bnn(tmp_path_factory: pytest.TempPathFactory, nzsmd_crustal: pd.DataFrame) -> Path:
    from gmlearn.gmpe.bnn import BayesianNNGMM
    from gmlearn.gmpe.persistence import save_model

    model = BayesianNNGMM(n_iter=1500, draws=100).fit(nzsmd_crustal, IMTS)
    return save_model(model, tmp_path_factory.mktemp("models") / "bnn")


def test_gauss_hermite_points_keep_mean_and_variance() -> None:
    from gmlearn.exceptions import ModelError
    from gmlearn.hazard import epistemic_branches

    for n in (1, 2, 3, 5):
        z, w = np.array(epistemic_branches(n)).T
        assert len(z) == n and np.isclose(w.sum(), 1.0) and np.isclose((w * z).sum(), 0.0)
        if n > 1:
            assert np.isclose((w * z**2).sum(), 1.0)
    z, w = np.array(epistemic_branches(3)).T
    np.testing.assert_allclose(z, [-np.sqrt(3), 0, np.sqrt(3)], atol=1e-12)
    np.testing.assert_allclose(w, [1 / 6, 2 / 3, 1 / 6])
    for bad in (0, 10, 2.5, True):
        with pytest.raises(ModelError, match="integer from 1 to 9"):
            epistemic_branches(bad)


def test_branch_gsim_shifts_the_posterior_mean(bnn: Path, nzsmd_crustal: pd.DataFrame) -> None:
    from openquake.hazardlib import valid

    from gmlearn.gmpe.persistence import load_model
    from gmlearn.hazard.gsim import context_table, model_spec

    model = load_model(bnn)
    features = model_spec(bnn).features
    rows = nzsmd_crustal.dropna(subset=list(features)).head(50)
    epistemic = model.predict_epistemic(rows, IMTS)
    full = model.predict(rows, IMTS)
    for z in (-1.5, 0.0, 2.0):
        gsim = valid.gsim(f"[GMLearnGSIM]\nmodel_file = \"metadata.json\"\nepistemic_z = {z}", str(bnn))
        branch = model.predict_branch(context_table(rows.to_records(index=False), features), IMTS, z=z)
        np.testing.assert_allclose(branch.mean, full.mean + z * epistemic, atol=1e-10)
        np.testing.assert_allclose(branch.sigma, np.sqrt(full.tau**2 + full.phi**2))
        assert np.all(branch.sigma < full.sigma)  # the epistemic part moved into the branches
        assert gsim.epistemic_z == z


def test_epistemic_logic_tree_in_classical_psha(shared_data: Path, bnn: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from gmlearn import hazard

    monkeypatch.setenv("GMLEARN_DATA_DIR", str(tmp_path / "data"))
    job = copy_demo(shared_data, "AreaSourceClassicalPSHA", tmp_path, region_grid_spacing="60.0",
                    intensity_measure_types_and_levels=REDUCED_IMTLS)
    lt = hazard.write_epistemic_logic_tree(bnn, job.parent / "bnn_lt.xml", n=3)
    text = lt.read_text()
    assert text.count("<logicTreeBranch ") == 3 and "epistemic_z = -1.732051" in text
    result = hazard.run(job, data_dir=tmp_path / "oq", params={"gsim_logic_tree_file": "bnn_lt.xml", "individual_rlzs": "true"})
    curves = result.hazard_curves
    kinds = sorted(curves["kind"].unique())
    assert kinds == ["mean", "rlz-000", "rlz-001", "rlz-002"], kinds
    poe = {k: curves[(curves["kind"] == k)]["poe"].to_numpy() for k in kinds}
    hit = poe["rlz-001"] > 1e-4
    assert hit.sum() > 10
    # branch order follows z: the low branch has the lowest hazard, the high branch the highest
    assert np.all(poe["rlz-000"][hit] <= poe["rlz-001"][hit] + 1e-7)
    assert np.all(poe["rlz-001"][hit] <= poe["rlz-002"][hit] + 1e-7)
    assert np.any(poe["rlz-002"][hit] > 1.05 * poe["rlz-000"][hit])
    expected = poe["rlz-000"] / 6 + poe["rlz-001"] * 2 / 3 + poe["rlz-002"] / 6
    np.testing.assert_allclose(poe["mean"], expected, rtol=1e-4, atol=1e-7)


def test_branch_errors(bnn: Path, tmp_path: Path, nzsmd_crustal: pd.DataFrame) -> None:
    from gmlearn.exceptions import ModelError
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.tree import TreeGMM
    from gmlearn.hazard import write_epistemic_logic_tree, write_gsim_logic_tree

    tree = TreeGMM(n_estimators=20, validation_fraction=0.0, n_jobs=1, random_state=0).fit(
        nzsmd_crustal.dropna(subset=IMTS), IMTS)
    folder = save_model(tree, tmp_path / "tree")
    with pytest.raises(ModelError, match="no epistemic uncertainty"):
        write_epistemic_logic_tree(folder, tmp_path / "lt.xml")
    with pytest.raises(ModelError, match="sum to 1"):
        write_gsim_logic_tree([(folder, 0.5), (bnn, 0.4)], tmp_path / "lt.xml")
    with pytest.raises(ModelError, match="finite number"):
        write_gsim_logic_tree([(bnn, 1.0, {"epistemic_z": float("nan")})], tmp_path / "lt.xml")
    assert not (tmp_path / "lt.xml").exists()
    path = write_gsim_logic_tree([(folder, 0.3), (bnn, 0.7)], tmp_path / "sub" / "lt.xml")
    assert 'model_file = "../tree/metadata.json"' in path.read_text()


def test_tectonic_region_type_comes_from_the_training_data(tmp_path: Path, nzsmd_table: pd.DataFrame) -> None:
    from gmlearn.gmpe.persistence import load_model, save_model
    from gmlearn.gmpe.tree import TreeGMM
    from gmlearn.hazard import GMLearnGSIM, write_gsim_logic_tree

    slab = nzsmd_table[nzsmd_table["tectonic_region"] == "slab"].dropna(subset=["PGA"])
    model = TreeGMM(n_estimators=10, validation_fraction=0.0, n_jobs=1, random_state=0).fit(slab, ["PGA"])
    folder = save_model(model, tmp_path / "slab")
    assert load_model(folder).tectonic_region_type_ == "Subduction IntraSlab"
    assert str(GMLearnGSIM(model_file=str(folder)).DEFINED_FOR_TECTONIC_REGION_TYPE) == "Subduction IntraSlab"
    lt = write_gsim_logic_tree([(folder, 1.0)], tmp_path / "lt.xml").read_text()
    assert 'applyToTectonicRegionType="Subduction IntraSlab"' in lt
    mixed = TreeGMM(n_estimators=10, validation_fraction=0.0, n_jobs=1, random_state=0).fit(
        nzsmd_table.dropna(subset=["PGA"]), ["PGA"])
    assert mixed.tectonic_region_type_ is None  # several regions: the adapter's default applies
