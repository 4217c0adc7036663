import json
import warnings

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import MissingColumnError, StoreError, StoreNotFoundError
from gmlearn.store import FeatureStore


@pytest.fixture()
def small(nzsmd_crustal):
    return nzsmd_crustal.iloc[:200].reset_index(drop=True)


@pytest.fixture()
def store(tmp_path, small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FeatureStore.create(tmp_path / "s").append(small, source="small")


def test_create_append_roundtrip(store, small):
    assert len(store) == 200 and store.version == 2
    assert store.imts[:2] == ["PGA", "PGV"]
    frame = store.to_frame(dropna=False)
    assert len(frame) == 200
    assert list(frame["record_id"]) == list(small["record_id"])  # store order kept
    np.testing.assert_array_equal(frame["PGA"].to_numpy(), small["PGA"].to_numpy())
    np.testing.assert_array_equal(frame["vs30"].to_numpy(), small["vs30"].to_numpy())
    assert store.events["event_id"].is_unique and store.stations["station_id"].is_unique
    assert store.sources[-1]["source"] == "small" and store.sources[-1]["rows"] == 200


def test_select_filters(store, small):
    sel = store.select(imts=["PGA", "SA(1.0)"], mag=(5.0, None), rrup=(None, 100.0))
    expect = small[(small["mag"] >= 5) & (small["rrup"] <= 100) & small["SA(1.0)"].notna()]
    assert sorted(sel["record_id"]) == sorted(expect["record_id"])
    assert [c for c in sel.columns if c.startswith(("PG", "SA"))] == ["PGA", "SA(1.0)"]
    ev = small["event_id"].iloc[0]
    assert set(store.select(event_ids=[ev])["event_id"]) == {ev}
    st = small["station_id"].iloc[:3].tolist()
    assert set(store.select(station_ids=st)["station_id"]) <= set(st)
    assert len(store.select(tectonic_region="slab")) == 0
    cols = store.select(imts=["PGA"], columns=["mag", "rrup"]).columns.tolist()
    assert cols == ["record_id", "event_id", "station_id", "mag", "rrup", "PGA"]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"imts": ["SA(0.33)"]}, MissingColumnError, "SA\\(0.33\\)"),
    ({"tectonic_region": "crust"}, ValueError, "tectonic_region"),
    ({"foo": (1, 2)}, TypeError, "foo"),
    ({"columns": ["nope"]}, MissingColumnError, "nope"),
])
def test_select_bad_arguments(store, kwargs, error, match):
    with pytest.raises(error, match=match):
        store.select(**kwargs)


def test_query_sql(store):
    out = store.query('SELECT event_id, count(*) AS n, avg("PGA") AS pga FROM flat GROUP BY event_id ORDER BY n DESC')
    assert out["n"].sum() == 200


def test_content_hash_independent_of_order_and_version(tmp_path, small):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = FeatureStore.create(tmp_path / "a").append(small)
        b = FeatureStore.create(tmp_path / "b").append(small.iloc[:100]).append(small.iloc[100:])
        c = FeatureStore.create(tmp_path / "c").append(small.iloc[::-1].reset_index(drop=True))
        d = FeatureStore.create(tmp_path / "d").append(small.assign(PGA=small["PGA"] + 1e-9))
    assert a.content_hash == b.content_hash == c.content_hash
    assert a.content_hash != d.content_hash
    assert b.version == 3


def test_duplicate_append_is_rejected_and_store_untouched(store, small):
    before = (store.content_hash, store.version, sorted(p.name for p in store.path.iterdir()))
    with pytest.raises(StoreError, match="already in the store"):
        store.append(small.iloc[:5])
    again = FeatureStore(store.path)
    assert (again.content_hash, again.version, sorted(p.name for p in again.path.iterdir())) == before


def test_failed_write_keeps_previous_version(store, small, monkeypatch):
    before = store.content_hash

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    extra = small.assign(record_id=small["record_id"] + "_b")
    with pytest.raises(OSError, match="disk full"):
        store.append(extra)
    monkeypatch.undo()
    reopened = FeatureStore(store.path)
    assert reopened.content_hash == before and len(reopened.to_frame(dropna=False)) == 200
    assert not list(store.path.glob(".*tmp"))


def test_varying_event_column_is_kept_per_record(tmp_path, small):
    ev = small["event_id"].iloc[0]
    rows = small.index[small["event_id"] == ev]
    assert len(rows) >= 2
    changed = small.copy()
    changed.loc[rows[0], "ztor"] = changed.loc[rows[0], "ztor"] + 1.0
    with pytest.warns(UserWarning, match="ztor"):
        s = FeatureStore.create(tmp_path / "v").append(changed, derive=False)
    assert "ztor" in s.records.columns and "ztor" not in s.events.columns
    np.testing.assert_array_equal(s.to_frame(dropna=False)["ztor"], changed["ztor"])


def test_open_errors(tmp_path):
    with pytest.raises(StoreNotFoundError, match="No feature store"):
        FeatureStore(tmp_path / "none")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    with pytest.raises(StoreError, match="Corrupt"):
        FeatureStore(tmp_path / "bad")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text(json.dumps({"format": "something"}))
    with pytest.raises(StoreError, match="not a gmlearn feature store"):
        FeatureStore(tmp_path / "other")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    with pytest.raises(StoreError, match="refusing"):
        FeatureStore.create(tmp_path / "full")
    assert (tmp_path / "full" / "x.txt").read_text() == "keep me"


def test_create_twice(store):
    with pytest.raises(StoreError, match="already exists"):
        FeatureStore.create(store.path)
    fresh = FeatureStore.create(store.path, overwrite=True)
    assert len(fresh) == 0


def test_describe(store):
    d = store.describe()
    assert d["records"] == 200 and d["tectonic_region"] == {"crustal": 200}
    assert d["ranges"]["mag"][2] == "" and d["imt_records"]["PGA"] == 200
