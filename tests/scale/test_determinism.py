"""Determinism: the same data and seed give byte-identical model files and identical predictions."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmlearn.gmpe.monotone import MonotoneGMM
from gmlearn.gmpe.persistence import load_model, save_model
from gmlearn.gmpe.tree import TreeGMM

IMTS = ["PGA", "SA(1.0)"]
#: Row and column subsampling on, so the seed matters.
PARAMS = {"n_estimators": 40, "learning_rate": 0.2, "subsample": 0.7, "colsample_bytree": 0.7, "n_jobs": 1}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("cls", [TreeGMM, MonotoneGMM])
def test_same_seed_same_bytes(cls, nzsmd_crustal, tmp_path):
    first = save_model(cls(random_state=3, **PARAMS).fit(nzsmd_crustal, IMTS), tmp_path / "a", training_hash="h")
    second = save_model(cls(random_state=3, **PARAMS).fit(nzsmd_crustal, IMTS), tmp_path / "b", training_hash="h")
    a, b = _files(first), _files(second)
    assert sorted(a) == ["booster_0.ubj", "booster_1.ubj", "metadata.json", "random_effects.parquet"]
    assert a == b  # every file, byte for byte
    pa, pb = load_model(first).predict(nzsmd_crustal), load_model(second).predict(nzsmd_crustal)
    for k in ("mean", "tau", "phi", "sigma"):
        np.testing.assert_array_equal(getattr(pa, k), getattr(pb, k))
    other = save_model(cls(random_state=4, **PARAMS).fit(nzsmd_crustal, IMTS), tmp_path / "c", training_hash="h")
    assert _files(other)["booster_0.ubj"] != a["booster_0.ubj"]  # the seed does reach the boosters


def test_row_order_of_the_table_does_not_matter_for_the_folds(nzsmd_crustal):
    """The validation sets are drawn from the sorted event ids, so the same events give the same rounds."""
    shuffled = nzsmd_crustal.sample(frac=1.0, random_state=1).reset_index(drop=True)
    params = {**PARAMS, "subsample": 1.0, "colsample_bytree": 1.0}
    a = TreeGMM(random_state=0, **params).fit(nzsmd_crustal, "PGA")
    b = TreeGMM(random_state=0, **params).fit(shuffled, "PGA")
    assert a.effects_["PGA"]["rounds"] == b.effects_["PGA"]["rounds"]


def test_streamed_predictions_are_byte_identical(small_tree, nzsmd_crustal, tmp_path):
    from gmlearn.distributed import predict_parquet

    nzsmd_crustal.to_parquet(tmp_path / "in.parquet", row_group_size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("x", "y"):
            predict_parquet(small_tree, tmp_path / "in.parquet", tmp_path / name, chunk_rows=100)
    assert _files(tmp_path / "x") == _files(tmp_path / "y") and len(_files(tmp_path / "x")) > 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x"), pd.read_parquet(tmp_path / "y"))
