import numpy as np
import pytest

from gmlearn.catalog.declustering import decluster
from gmlearn.catalog.declustering_gk import gardner_knopoff, window_extents
from gmlearn.catalog.declustering_reasenberg import crack_radius_km, reasenberg
from gmlearn.catalog.declustering_zaliapin import zaliapin
from gmlearn.exceptions import SchemaError

HMTK_WINDOWS = {"gardner_knopoff": "GardnerKnopoffWindow", "gruenthal": "GruenthalWindow", "uhrhammer": "UhrhammerWindow"}


@pytest.fixture(scope="module")
def subset(geonet):
    """5000 consecutive real events (shuffled rows, to show row order does not matter)."""
    rng = np.random.default_rng(0)
    sub = geonet.iloc[20000:25000]
    return sub.iloc[rng.permutation(len(sub))].reset_index(drop=True)


@pytest.fixture(scope="module")
def above_mc(geonet):
    return geonet[geonet["mag"] >= 2.4].reset_index(drop=True)


def _hmtk_flags(to_hmtk, catalog, window, fs_time_prop=1.0, time_cutoff=None):
    from openquake.hmtk.seismicity.declusterer import distance_time_windows as windows
    from openquake.hmtk.seismicity.declusterer.dec_gardner_knopoff import GardnerKnopoffType1

    config = {"time_distance_window": getattr(windows, HMTK_WINDOWS[window])(), "fs_time_prop": fs_time_prop}
    if time_cutoff:
        config["time_cutoff"] = time_cutoff
    _, flag = GardnerKnopoffType1().decluster(to_hmtk(catalog), config)
    return flag


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")  # hmtk's Gruenthal window, M < 0
@pytest.mark.parametrize("window", list(HMTK_WINDOWS))
def test_gardner_knopoff_removes_same_events_as_hmtk(subset, to_hmtk, window):
    flag = _hmtk_flags(to_hmtk, subset, window)
    result = gardner_knopoff(subset, window, hmtk_compatible=True)
    assert result.n_removed == int(np.count_nonzero(flag)) > 100
    assert np.array_equal(result.removed, flag != 0)
    assert np.array_equal(result.flag, flag)  # foreshocks (-1) and aftershocks (1) too
    exact = gardner_knopoff(subset, window)  # exact origin times: nearly the same events
    assert np.mean(exact.removed != result.removed) < 0.03


def test_gardner_knopoff_foreshock_fraction_and_cutoff_match_hmtk(subset, to_hmtk):
    flag = _hmtk_flags(to_hmtk, subset, "gardner_knopoff", fs_time_prop=0.5, time_cutoff=10)
    result = gardner_knopoff(subset, "GardnerKnopoff", fs_time_prop=0.5, time_cutoff_days=10, hmtk_compatible=True)
    assert np.array_equal(result.flag, flag)


def test_gardner_knopoff_full_catalogue(geonet):
    result = gardner_knopoff(geonet)
    assert result.n_events == 53060 and 0.5 < result.fraction_removed < 0.9
    main = result.cluster_id[result.flag == 0]
    # every cluster keeps exactly one event, its largest
    clusters, kept = np.unique(main[main > 0], return_counts=True)
    assert np.all(kept == 1) and clusters.size == result.n_clusters
    declustered = result.declustered(geonet)
    assert len(declustered) == result.n_events - result.n_removed
    assert declustered.attrs["declustering"]["method"] == "gardner_knopoff"


def test_window_extents():
    space, days = window_extents(np.array([3.0, 6.5]), "gardner_knopoff")
    np.testing.assert_allclose(space, 10 ** (0.1238 * np.array([3.0, 6.5]) + 0.983))
    np.testing.assert_allclose(days, [10 ** (0.5409 * 3 - 0.547), 10 ** (0.032 * 6.5 + 2.7389)])
    assert window_extents(np.array([5.0]), "uhrhammer", time_cutoff_days=2.0)[1][0] == 2.0


def _one_mainshock_per_cluster(result):
    for cluster in np.unique(result.cluster_id[result.cluster_id > 0]):
        members = result.cluster_id == cluster
        assert np.count_nonzero(result.flag[members] == 0) == 1


def test_reasenberg_plausible(above_mc):
    result = reasenberg(above_mc)
    assert 0.02 < result.fraction_removed < 0.4 and result.n_clusters > 50
    _one_mainshock_per_cluster(result)
    mags = above_mc["mag"].to_numpy()
    for cluster in np.unique(result.cluster_id[result.cluster_id > 0])[:50]:
        members = result.cluster_id == cluster
        assert mags[members & (result.flag == 0)].max() == mags[members].max()
    wider = reasenberg(above_mc, rfact=20, tau_max=20)
    assert wider.n_removed > result.n_removed
    assert crack_radius_km(np.array([5.0]))[0] == pytest.approx(1.1)


def test_zaliapin_plausible(above_mc):
    sub = above_mc.iloc[:2000]
    result = zaliapin(sub, random_state=0)
    assert -7.0 < result.extra["threshold"] < -3.0
    assert 0.05 < result.fraction_removed < 0.6
    _one_mainshock_per_cluster(result)
    parent = result.extra["parent"]
    times = sub["time"].to_numpy()
    has = parent >= 0
    assert np.all(times[parent[has]] < times[has])  # parents precede their offspring
    np.testing.assert_allclose(result.extra["log10_T"][has] + result.extra["log10_R"][has],
                               result.extra["log10_eta"][has], atol=1e-9)
    again = zaliapin(sub, random_state=0)
    assert np.array_equal(again.flag, result.flag)
    fixed = zaliapin(sub, threshold=-9.0)
    assert fixed.n_removed < result.n_removed


def test_dispatcher(above_mc):
    sub = above_mc.iloc[:500]
    assert decluster(sub, "gardner_knopoff", window="uhrhammer").params["window"] == "uhrhammer"
    assert decluster(sub, "reasenberg").method == "reasenberg"
    with pytest.raises(SchemaError, match="rows"):
        decluster(sub, "gardner_knopoff").declustered(above_mc)
