"""GMLearnGSIM as an OpenQuake GSIM, and the runner's checks of bad input before any computation."""

from __future__ import annotations

import json
import logging
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openquake.hazardlib")

IMTS = ["PGA", "SA(1.0)"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, nzsmd_crustal: pd.DataFrame) -> dict[str, Path]:
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.gmpe.reference import OpenQuakeGMPE
    from gmlearn.gmpe.tree import TreeGMM

    root = tmp_path_factory.mktemp("models")
    tree = TreeGMM(n_estimators=40, learning_rate=0.2, validation_fraction=0.0, n_jobs=1, random_state=0)
    tree.fit(nzsmd_crustal.dropna(subset=IMTS), IMTS)
    return {
        "bssa14": save_model(OpenQuakeGMPE("BooreEtAl2014"), root / "bssa14"),
        "tree": save_model(tree, root / "tree"),
    }


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GMLEARN_DATA_DIR", str(tmp_path / "gmlearn-data"))
    monkeypatch.setenv("OQ_DISTRIBUTE", "no")


#: Context columns of the tree model: its features and its physics base's (BSSA14 + CB14 + CY14).
TREE_FEATURES = ["mag", "rrup", "rjb", "rx", "vs30", "vs30measured", "z1pt0", "z2pt5", "hypo_depth", "ztor", "width",
                 "rake", "dip"]


def _gsim(model_file: Path):  # noqa: ANN202
    from openquake.hazardlib import valid

    import gmlearn.hazard.gsim  # noqa: F401 - registers GMLearnGSIM

    return valid.gsim(f'[GMLearnGSIM]\nmodel_file = "{model_file.name}"', str(model_file.parent))


def _mean_stds(gsim, table: pd.DataFrame, features) -> np.ndarray:  # noqa: ANN001
    from openquake.hazardlib import imt
    from openquake.hazardlib.contexts import get_mean_stds

    ctx = np.recarray(len(table), dtype=[(f, bool if f == "vs30measured" else float) for f in features]
                      + [("occurrence_rate", float), ("sids", np.uint32)])
    for f in features:
        ctx[f] = table[f].to_numpy()
    ctx["occurrence_rate"] = 0.0
    ctx["sids"] = np.arange(len(table))
    return get_mean_stds(gsim, ctx, [imt.from_string(i) for i in IMTS])


def test_declares_what_the_native_gsim_declares(models: dict[str, Path]) -> None:
    from openquake.hazardlib.gsim.boore_2014 import BooreEtAl2014

    gsim = _gsim(models["bssa14"] / "metadata.json")
    native = BooreEtAl2014()
    for attr in ("REQUIRES_RUPTURE_PARAMETERS", "REQUIRES_DISTANCES", "REQUIRES_SITES_PARAMETERS",
                 "DEFINED_FOR_TECTONIC_REGION_TYPE", "DEFINED_FOR_INTENSITY_MEASURE_COMPONENT"):
        assert getattr(gsim, attr) == getattr(native, attr), attr
    assert {f.__name__ for f in gsim.DEFINED_FOR_INTENSITY_MEASURE_TYPES} == {"PGA", "PGV", "SA"}


def test_wrapped_gsim_equals_native(models: dict[str, Path], nzsmd_crustal: pd.DataFrame) -> None:
    from openquake.hazardlib.gsim.boore_2014 import BooreEtAl2014

    features = sorted(BooreEtAl2014.REQUIRES_RUPTURE_PARAMETERS | BooreEtAl2014.REQUIRES_DISTANCES
                      | BooreEtAl2014.REQUIRES_SITES_PARAMETERS)
    ours = _mean_stds(_gsim(models["bssa14"] / "metadata.json"), nzsmd_crustal, features)
    native = _mean_stds(BooreEtAl2014(), nzsmd_crustal, features)
    np.testing.assert_array_equal(ours, native)


@pytest.mark.filterwarnings("ignore::gmlearn.exceptions.OutOfRangeWarning")
def test_tree_gsim_equals_model_predict(models: dict[str, Path], nzsmd_crustal: pd.DataFrame) -> None:
    from gmlearn.gmpe.persistence import load_model

    gsim = _gsim(models["tree"] / "metadata.json")
    model = load_model(models["tree"])
    # the learner's features and what its physics base (BSSA14 + CB14 + CY14) reads
    assert gsim.REQUIRES_SITES_PARAMETERS == {"vs30", "z1pt0", "z2pt5", "vs30measured"}
    assert gsim.REQUIRES_DISTANCES == {"rrup", "rjb", "rx"}
    assert gsim.REQUIRES_RUPTURE_PARAMETERS == {"mag", "hypo_depth", "ztor", "rake", "dip", "width"}
    table = nzsmd_crustal.iloc[:300]
    out = _mean_stds(gsim, table, list(model.required_features))
    pred = model.predict(table, IMTS)
    np.testing.assert_allclose(out[0], pred.mean, atol=1e-4)  # the GSIM compiles the trees (gmpe.compiled)
    np.testing.assert_allclose(out[1], pred.sigma, rtol=1e-12)
    np.testing.assert_allclose(out[2], pred.tau, rtol=1e-12)
    np.testing.assert_allclose(out[3], pred.phi, rtol=1e-12)


def test_pickles_only_the_path(models: dict[str, Path], nzsmd_crustal: pd.DataFrame) -> None:
    gsim = _gsim(models["tree"] / "metadata.json")
    blob = pickle.dumps(gsim)
    assert len(blob) < 3000  # no boosters travel to the tasks
    again = pickle.loads(blob)
    features = TREE_FEATURES
    table = nzsmd_crustal.iloc[:50]
    np.testing.assert_array_equal(_mean_stds(again, table, features), _mean_stds(gsim, table, features))


def test_out_of_range_inputs_are_logged_once(models: dict[str, Path], nzsmd_crustal: pd.DataFrame,
                                             caplog: pytest.LogCaptureFixture) -> None:
    from gmlearn.hazard.gsim import clear_cache

    clear_cache()
    gsim = _gsim(models["tree"] / "metadata.json")
    far = nzsmd_crustal.iloc[:20].assign(rrup=900.0, rjb=899.0)
    with caplog.at_level(logging.WARNING, logger="gmlearn.hazard.gsim"):
        _mean_stds(gsim, far, TREE_FEATURES)
        _mean_stds(gsim, far, TREE_FEATURES)
    messages = [r.getMessage() for r in caplog.records if "outside the training domain" in r.getMessage()]
    assert len(messages) == 1 and "physics base" in messages[0]


def test_archive_round_trip(models: dict[str, Path], tmp_path: Path, nzsmd_crustal: pd.DataFrame) -> None:
    from gmlearn.hazard import pack_model

    first = pack_model(models["tree"], tmp_path / "tree.zip")
    second = pack_model(models["tree"], tmp_path / "again.zip")
    assert first.read_bytes() == second.read_bytes()  # reproducible archives
    features = TREE_FEATURES
    table = nzsmd_crustal.iloc[:40]
    np.testing.assert_array_equal(_mean_stds(_gsim(first), table, features),
                                  _mean_stds(_gsim(models["tree"] / "metadata.json"), table, features))


# -- bad input: a clear error naming the file and the fix, before any computation ---------
AREA = Path("openquake_demos") / "hazard" / "AreaSourceClassicalPSHA"
LT = """<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="lt1">
    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs1" applyToTectonicRegionType="Active Shallow Crust">
      <logicTreeBranch branchID="b1">
        <uncertaintyModel>[GMLearnGSIM]
        model_file = "{model_file}"</uncertaintyModel>
        <uncertaintyWeight>1.0</uncertaintyWeight>
      </logicTreeBranch>
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""


@pytest.fixture()
def job(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "job"
    shutil.copytree(shared_data / AREA, folder)
    for file in folder.iterdir():
        file.chmod(0o644)
    return folder / "job.ini"


def _run_with(job: Path, model_file: str, **params: str) -> None:
    from gmlearn import hazard

    (job.parent / "lt.xml").write_text(LT.format(model_file=model_file))
    hazard.run(job, data_dir=job.parent / "oq", params={"gsim_logic_tree_file": "lt.xml", **params})


def _no_calculation(job: Path) -> bool:
    return not list((job.parent / "oq").glob("calc_*.hdf5"))


def test_missing_model_file(job: Path) -> None:
    from gmlearn.exceptions import ModelError

    with pytest.raises(ModelError, match=r"nowhere/metadata.json' does not exist.*save_model"):
        _run_with(job, "nowhere/metadata.json")
    assert _no_calculation(job)


@pytest.mark.parametrize("damage", ["metadata", "weights"])
def test_corrupt_model_file(job: Path, models: dict[str, Path], damage: str) -> None:
    from gmlearn.exceptions import ModelError

    folder = job.parent / "broken"
    shutil.copytree(models["tree"], folder)
    if damage == "metadata":
        (folder / "metadata.json").write_text("{not json")
        pattern = r"Corrupt model metadata.*Re-save the model"
    else:
        meta = json.loads((folder / "metadata.json").read_text())
        booster = folder / next(iter(meta["files"].values()))
        booster.write_bytes(booster.read_bytes()[:-10])
        pattern = r"does not match its SHA-256.*Re-save the model"
    with pytest.raises(ModelError, match=pattern) as info:
        _run_with(job, "broken/metadata.json", intensity_measure_types_and_levels='{"PGA": [0.1, 0.2]}')
    assert "broken" in str(info.value)
    assert _no_calculation(job)


def test_model_without_the_jobs_imt(job: Path, models: dict[str, Path]) -> None:
    from gmlearn.exceptions import ModelError

    shutil.copytree(models["tree"], job.parent / "tree")
    with pytest.raises(ModelError, match=r"cannot predict \['SA\(0.5\)'\]; it predicts \['PGA', 'SA\(1.0\)'\].*retrain") as info:
        _run_with(job, "tree/metadata.json", intensity_measure_types_and_levels='{"PGA": [0.1, 0.2], "SA(0.5)": [0.1, 0.2]}')
    assert "job.ini" in str(info.value)
    assert _no_calculation(job)


def test_site_parameter_missing_from_site_model(job: Path, models: dict[str, Path]) -> None:
    from gmlearn.exceptions import ModelError

    shutil.copytree(models["tree"], job.parent / "tree")
    pd.DataFrame({"lon": [0.0, 0.1], "lat": [0.0, 0.1], "vs30": [400.0, 600.0]}).to_csv(job.parent / "sites.csv", index=False)
    with pytest.raises(ModelError, match=r"needs site parameter\(s\) \['z1pt0', 'z2pt5'\].*sites.csv.*Add those columns"):
        _run_with(job, "tree/metadata.json", site_model_file="sites.csv",
                  intensity_measure_types_and_levels='{"PGA": [0.1, 0.2]}')
    assert _no_calculation(job)


def test_folder_as_model_file(job: Path, models: dict[str, Path]) -> None:
    from gmlearn.exceptions import ModelError

    shutil.copytree(models["bssa14"], job.parent / "bssa14")
    with pytest.raises(ModelError, match=r"is a folder.*bssa14/metadata.json"):
        _run_with(job, "bssa14")
    assert _no_calculation(job)


def test_missing_job_file(tmp_path: Path) -> None:
    from gmlearn import hazard

    with pytest.raises(FileNotFoundError, match="does not exist"):
        hazard.run(tmp_path / "nope.ini")


def test_two_folder_models_in_one_branch_set(job: Path, models: dict[str, Path]) -> None:
    from gmlearn import hazard
    from gmlearn.exceptions import ModelError

    for name in ("bssa14", "tree"):
        shutil.copytree(models[name], job.parent / name)
    two = LT.replace("<uncertaintyWeight>1.0</uncertaintyWeight>", "<uncertaintyWeight>0.5</uncertaintyWeight>")
    branch = two[two.index("      <logicTreeBranch "):two.index("    </logicTreeBranchSet>")]
    two = two.replace(branch, branch.format(model_file="bssa14/metadata.json")
                      + branch.replace('branchID="b1"', 'branchID="b2"').format(model_file="tree/metadata.json"))
    (job.parent / "lt.xml").write_text(two)
    with pytest.raises(ModelError, match=r"(?s)duplicated gsim.*pack_model"):
        hazard.run(job, data_dir=job.parent / "oq", params={"gsim_logic_tree_file": "lt.xml"})
    assert _no_calculation(job)
