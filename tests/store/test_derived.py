import numpy as np
import pandas as pd
import pytest

from gmlearn.store.derived import (
    add_derived,
    dip_from_rake,
    rx_ry0_from_plane,
    width_from_mag,
    z1pt0_from_vs30,
    z2pt5_from_vs30,
)


def test_basin_depth_correlations():
    vs30 = np.array([200.0, 400.0, 760.0, 1500.0])
    # Chiou & Youngs (2014) eq. 1 and Campbell & Bozorgnia (2014) eq. 33, written out here.
    z1 = np.exp(-7.15 / 4 * np.log((vs30**4 + 571.0**4) / (1360.0**4 + 571.0**4)))
    z25 = np.exp(7.089 - 1.144 * np.log(vs30))
    np.testing.assert_allclose(z1pt0_from_vs30(vs30), z1, rtol=1e-10)
    np.testing.assert_allclose(z2pt5_from_vs30(vs30), z25, rtol=1e-10)
    assert np.all(np.diff(z1pt0_from_vs30(vs30)) < 0)


def test_scaling_relations():
    np.testing.assert_allclose(width_from_mag(np.array([6.0])), 10 ** (-1.01 + 1.92))
    np.testing.assert_array_equal(dip_from_rake(np.array([0.0, 90.0, -90.0, 180.0])), [90.0, 40.0, 50.0, 90.0])


def test_add_derived_fills_and_flags_without_mutating(nzsmd_crustal):
    table = nzsmd_crustal.drop(columns=["z1pt0", "z1pt0_estimated", "ztor", "ztor_estimated", "width", "width_estimated"])
    table = table.assign(rx=np.where(np.arange(len(table)) % 2 == 0, np.nan, table["rx"]))
    before = table.copy()
    out = add_derived(table)
    pd.testing.assert_frame_equal(table, before)
    for name in ("z1pt0", "ztor", "width", "rx", "ry0", "z2pt5"):
        assert np.isfinite(out[name]).all(), name
        assert out[f"{name}_estimated"].dtype == bool
    assert out["z1pt0_estimated"].all() and out["width_estimated"].all()
    assert out.loc[1, "rx_estimated"] == (not np.isfinite(nzsmd_crustal.loc[1, "rx"]) or nzsmd_crustal.loc[1, "rx_estimated"])
    assert not out.loc[1::2, "rx_estimated"].all() or nzsmd_crustal.loc[1::2, "rx_estimated"].all()
    assert (out["ztor"] >= 0).all()


def test_rx_from_plane_against_published(shared_data):
    """Estimated Rx agrees with the NZSMD's published Rx where both exist."""
    import warnings

    from gmlearn.store.readers.nzsmd import read_nzsmd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nz = read_nzsmd(shared_data / "nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc.csv.gz", imts=["PGA"])
    given = nz[np.isfinite(nz["rx"])]
    est = np.full(len(given), np.nan)
    for _, rows in given.groupby("event_id"):
        pos = given.index.get_indexer(rows.index)
        est[pos] = rx_ry0_from_plane(rows.iloc[0], rows["lon"].to_numpy(), rows["lat"].to_numpy())[0]
    assert np.corrcoef(est, given["rx"])[0, 1] > 0.75
    assert np.median(np.abs(est - given["rx"])) < 5.0


def test_ry0_zero_alongside_rupture():
    event = pd.Series({"hypo_lon": 172.0, "hypo_lat": -43.0, "hypo_depth": 10.0, "strike": 0.0, "dip": 90.0,
                       "ztor": 0.0, "width": 15.0, "length": 40.0})
    rx, ry0 = rx_ry0_from_plane(event, np.array([172.1, 172.0]), np.array([-43.0, -43.5]))
    assert ry0[0] == pytest.approx(0.0, abs=1e-6) and rx[0] > 0
    assert ry0[1] == pytest.approx(55.6 - 20.0, abs=1.0)


# --- virtual rupture (Kaklamanos, Baise & Boore 2011) -------------------------------------------


def test_virtual_rupture_geometry_by_hand():
    """Vertical strike-slip M6 at 10 km depth, strike north: distances written out from the geometry."""
    from openquake.hazardlib.geo.geodetic import point_at

    from gmlearn.store.derived import length_from_mag, virtual_rupture_distances, ztor_from_hypocentre

    width = float(width_from_mag(np.array([6.0]))[0])  # 8.13 km
    ztor = float(ztor_from_hypocentre(np.array([10.0]), np.array([width]), np.array([90.0]))[0])
    half = 0.5 * float(length_from_mag(np.array([6.0]))[0])  # 6.3 km
    event = pd.Series({"mag": 6.0, "hypo_lon": 10.0, "hypo_lat": 45.0, "hypo_depth": 10.0, "strike": 0.0,
                       "dip": 90.0, "ztor": ztor, "width": width})
    east = point_at(10.0, 45.0, 90.0, 10.0)
    north = point_at(10.0, 45.0, 0.0, 30.0)
    d = virtual_rupture_distances(event, np.array([east[0], north[0]]), np.array([east[1], north[1]]))
    assert ztor == pytest.approx(10.0 - 0.6 * width)
    np.testing.assert_allclose(d["rjb"], [10.0, 30.0 - half], atol=0.05)
    np.testing.assert_allclose(d["rrup"], [np.hypot(10.0, ztor), np.hypot(30.0 - half, ztor)], atol=0.05)
    np.testing.assert_allclose(d["rx"], [10.0, 0.0], atol=0.05)
    np.testing.assert_allclose(d["ry0"], [0.0, 30.0 - half], atol=0.05)


@pytest.fixture(scope="module")
def nga_events():
    """30 events of the bundled NGA-West2 subset, with PEER's finite-fault distances."""
    from gmlearn import datasets

    table = datasets.load("ngawest2_subset")
    keep = table["event_id"].drop_duplicates().iloc[::3]
    return table[table["event_id"].isin(keep)].reset_index(drop=True)


@pytest.mark.parametrize(
    ("removed", "rjb_median", "rrup_median"),
    [([], 3.5, 3.5), (["strike", "dip"], 4.5, 5.0), (["strike", "dip", "lon", "lat", "hypo_lon", "hypo_lat"], 4.5, 5.0)],
    ids=["with-strike", "no-strike", "repi-only"],
)
def test_virtual_rupture_against_finite_fault_distances(nga_events, removed, rjb_median, rrup_median):
    """Without rrup/rjb/rx/ry0/ztor/width, the virtual rupture is closer to PEER's distances than repi/rhypo."""
    finite = ["rrup", "rjb", "rx", "ry0", "ztor", "width"]
    stripped = nga_events.drop(columns=[c for c in nga_events.columns if c in finite + removed or c.endswith("_estimated")])
    out = add_derived(stripped)
    for name in ("rrup", "rjb", "rx", "ry0"):
        assert out[f"{name}_estimated"].all() and np.isfinite(out[name]).all(), name
    err = {k: np.abs(out[k] - nga_events[k]).to_numpy() for k in ("rjb", "rrup")}
    point = {"rjb": np.abs(nga_events["repi"] - nga_events["rjb"]), "rrup": np.abs(nga_events["rhypo"] - nga_events["rrup"])}
    assert np.median(err["rjb"]) < rjb_median and np.median(err["rrup"]) < rrup_median
    for k in ("rjb", "rrup"):
        assert np.median(err[k]) < 0.75 * np.median(point[k]), (k, np.median(err[k]), np.median(point[k]))
    assert (out["rjb"] <= out["rrup"] + 0.01).all() and (out["rjb"] <= out["repi"] + 0.01).all()  # OpenQuake: metres


def test_given_distances_are_kept_and_not_flagged(nga_events):
    gap = nga_events.assign(rrup=np.where(np.arange(len(nga_events)) % 2 == 0, np.nan, nga_events["rrup"]))
    out = add_derived(gap)
    np.testing.assert_array_equal(out["rrup_estimated"], np.arange(len(out)) % 2 == 0)
    np.testing.assert_allclose(out.loc[1::2, "rrup"], nga_events.loc[1::2, "rrup"])
    assert not out["rjb_estimated"].any()


def test_no_geometry_leaves_distances_missing_and_unflagged(nga_events):
    """Without a hypocentre depth nothing can be built: distances stay NaN, flags False (no KeyError)."""
    bare = nga_events[["event_id", "station_id", "record_id", "mag", "vs30", "rrup"]].assign(rrup=np.nan)
    out = add_derived(bare)
    for name in ("rrup", "rjb", "rx", "ry0"):
        assert out[name].isna().all() and not out[f"{name}_estimated"].any(), name
