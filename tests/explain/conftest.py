"""Small fitted models on real NZSMD crustal records (40 events), shared by the explain tests."""

from __future__ import annotations

import pytest

IMTS = ["PGA", "SA(1.0)"]
FAST = {"n_estimators": 60, "learning_rate": 0.15, "validation_fraction": 0.0, "n_jobs": 1, "random_state": 0}


@pytest.fixture(scope="session")
def tree_model(nzsmd_crustal):
    from gmlearn.gmpe.tree import TreeGMM

    return TreeGMM(base=None, **FAST).fit(nzsmd_crustal, IMTS)  # data only: the trees are the whole model


@pytest.fixture(scope="session")
def hybrid_model(nzsmd_crustal):
    from gmlearn.gmpe.hybrid import HybridGMM

    return HybridGMM("BooreEtAl2014", **FAST).fit(nzsmd_crustal, IMTS)


@pytest.fixture(scope="session")
def saved_hybrid(hybrid_model, tmp_path_factory):
    from gmlearn.gmpe.persistence import save_model

    return save_model(hybrid_model, tmp_path_factory.mktemp("models") / "hybrid", training_hash="test:nzsmd40",
                      metrics={"rms": {"PGA": 0.7, "SA(1.0)": 0.8}})
