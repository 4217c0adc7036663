"""The Prediction type: shapes, row labels, frames and xarray."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmlearn.gmpe.prediction import Prediction


def _prediction(index=None) -> Prediction:
    mean = np.array([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]])
    tau, phi = np.full_like(mean, 0.4), np.full_like(mean, 0.6)
    return Prediction(("PGA", "SA(1.0)"), mean, tau, phi, np.hypot(tau, phi), index=index)


def test_index_labels_rows_in_frames() -> None:
    pred = _prediction(pd.Index(["r7", "r3", "r9"], name="record_id"))
    long = pred.to_frame()
    assert list(long.index) == ["r7", "r3", "r9"] * 2 and long.index.name == "record_id"
    assert list(long.columns) == ["imt", "row", "mean", "tau", "phi", "sigma"]
    assert long.loc["r3"].set_index("imt").loc["SA(1.0)", "mean"] == -5.0
    wide = pred.to_frame("sigma")
    assert list(wide.columns) == ["PGA", "SA(1.0)"] and list(wide.index) == ["r7", "r3", "r9"]
    np.testing.assert_allclose(wide.to_numpy(), np.hypot(0.4, 0.6))
    with pytest.raises(ValueError, match="'quantity' parameter"):
        pred.to_frame("median")


def test_without_index_rows_are_numbered() -> None:
    frame = _prediction().to_frame("mean")
    assert list(frame.index) == [0, 1, 2] and frame.index.name == "row"


def test_to_xarray_and_array() -> None:
    pred = _prediction(pd.MultiIndex.from_tuples([("e1", "s1"), ("e1", "s2"), ("e2", "s1")]))
    ds = pred.to_xarray()
    assert ds["mean"].dims == ("imt", "row") and list(ds["imt"].values) == ["PGA", "SA(1.0)"]
    assert ds["mean"].sel(imt="SA(1.0)").values[2] == -6.0 and tuple(ds["row"].values[1]) == ("e1", "s2")
    assert ds["sigma"].attrs["units"] == "1"
    np.testing.assert_array_equal(np.asarray(pred), pred.mean.T)


def test_bad_index_and_index_of() -> None:
    with pytest.raises(ValueError, match="one label per row"):
        _prediction(index=["a", "b"])
    pred = _prediction()
    assert pred.index_of("SA(1)") == 1 and pred.with_index([5, 6, 7]).to_frame("mean").index.tolist() == [5, 6, 7]
    with pytest.raises(KeyError, match="PGV"):
        pred.for_imt("PGV")
