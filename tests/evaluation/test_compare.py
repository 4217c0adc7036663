import numpy as np

from gmlearn.evaluation.compare import compare_models
from gmlearn.evaluation.yardstick import resolve_gmpes, run_evaluation
from gmlearn.gmpe.baseline import XGBoostBaseline
from gmlearn.gmpe.reference import OpenQuakeGMPE


def test_compare_gmpes_and_xgboost(nzsmd_crustal):
    models = {
        "BSSA14": lambda: OpenQuakeGMPE("BooreEtAl2014"),
        "Bradley2013": lambda: OpenQuakeGMPE("Bradley2013"),
        "XGBoost": lambda: XGBoostBaseline(n_estimators=200),
    }
    steps = []
    result = compare_models(nzsmd_crustal, ["PGA", "PGV"], models, n_splits=3, progress=lambda i, n, m: steps.append(i))
    assert steps[-1] == 3
    scores = result.scores.set_index(["model", "imt"])
    assert ("Bradley2013", "PGV") not in scores.index  # not defined for PGV: absent, not faked
    assert np.isnan(result.predictions["Bradley2013"].mean[1]).all()
    n_pga = int(np.isfinite(nzsmd_crustal["PGA"]).sum())
    assert scores.loc[("BSSA14", "PGA"), "n_records"] == scores.loc[("XGBoost", "PGA"), "n_records"] == n_pga
    assert (scores["rms"] > 0.3).all() and (scores["rms"] < 1.5).all()
    assert set(result.best("rms", kind="gmpe")["imt"]) == {"PGA", "PGV"}
    assert list(result.pivot().columns) == ["PGA", "PGV"]


def test_run_evaluation_writes_outputs(nzsmd_crustal, tmp_path):
    result = run_evaluation(nzsmd_crustal, ["PGA"], ["BSSA14"], out=tmp_path, xgboost=False)
    assert (tmp_path / "scores.csv").stat().st_size > 0
    assert (tmp_path / "rms.png").stat().st_size > 1000
    assert (tmp_path / "residuals_BSSA14.png").stat().st_size > 1000
    assert result.scores["model"].tolist() == ["BSSA14"]
    assert resolve_gmpes(["ASK14", " CY14", "Bradley2013", "ZhaoEtAl2006Asc"]) == {
        "ASK14": "AbrahamsonEtAl2014", "CY14": "ChiouYoungs2014", "Bradley2013": "Bradley2013",
        "ZhaoEtAl2006Asc": "ZhaoEtAl2006Asc"}
