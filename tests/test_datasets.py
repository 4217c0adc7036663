import shutil

import numpy as np
import pytest

from gmlearn import datasets
from gmlearn.exceptions import DatasetNotFoundError, StoreError
from gmlearn.schema import COLUMNS, is_imt


@pytest.mark.parametrize(("name", "rows", "events"), [("nzsmd", 4284, 277), ("ngawest2_subset", 996, 104)])
def test_load(name, rows, events):
    df = datasets.load(name)
    assert len(df) == rows and df["event_id"].nunique() == events
    assert all(c in COLUMNS or is_imt(c) for c in df.columns)
    meta = datasets.info(name)
    assert meta["rows"] == rows and meta["citation"] and meta["license"]
    assert df.attrs["citation"] == meta["citation"]
    for col in ("mag", "rrup", "rjb", "vs30", "z1pt0", "z2pt5", "ztor", "width", "rx", "ry0", "dip", "rake"):
        assert np.isfinite(df[col]).all(), col


def test_rsn1_values():
    df = datasets.load("ngawest2_subset").set_index("record_id")
    assert df.loc["1", "PGA"] == pytest.approx(np.log(0.15702))
    assert df.loc["1", "PGV"] == pytest.approx(np.log(10.054))
    assert (df.loc["1", "rrup"], df.loc["1", "rjb"]) == (2.86, 2.07)


def test_unknown_and_corrupt(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFoundError, match="available datasets"):
        datasets.load("nga")
    copy = tmp_path / "nzsmd.parquet"
    shutil.copy(datasets.path("nzsmd"), copy)
    with open(copy, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    monkeypatch.setattr(datasets, "path", lambda name: copy)
    with pytest.raises(StoreError, match="SHA-256"):
        datasets.load("nzsmd")
