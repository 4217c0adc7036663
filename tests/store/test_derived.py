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
