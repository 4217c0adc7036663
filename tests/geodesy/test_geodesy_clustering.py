"""Velocity clustering: synthetic blocks and the Pacific / North America split across the San Andreas system."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from gmlearn.exceptions import SchemaError
from gmlearn.geodesy import (
    angle_between_deg,
    assign_clusters,
    cluster_stability,
    cluster_velocities,
    fit_euler_pole,
    pole_to_omega,
    read_velocities,
    select_stations,
)
from gmlearn.geodesy.reference import san_andreas_offset_km
from gmlearn.geodesy.synthetic import rigid_block_field

CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gnss_pbo_nam08" / "pbo_nam08_velocities_per_station.csv.gz"
FAST_POLE = (48.9, -71.7, 0.75)
SLOW_POLE = (55.0, -95.0, 0.15)


def _two_blocks(seed: int, sigma: float = 0.5, interleaved: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Two rigid blocks; with ``interleaved`` their stations share one region (only rotations tell them apart)."""
    west = (-122.0, -118.0, 33.0, 38.0)
    east = west if interleaved else (-118.0, -114.0, 33.0, 38.0)
    a = rigid_block_field(FAST_POLE, west, 40, sigma=sigma, prefix="W", random_state=seed)
    b = rigid_block_field(SLOW_POLE, east, 40, sigma=sigma, prefix="E", random_state=seed + 100)
    vel = pd.concat([a, b], ignore_index=True)
    truth = np.r_[np.ones(40, int), np.zeros(40, int)]  # the fast block has the larger mean speed -> cluster 1
    return vel, truth


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("interleaved", [False, True])
def test_euler_clustering_separates_two_blocks_perfectly(seed, interleaved):
    vel, truth = _two_blocks(seed, interleaved=interleaved)
    res = cluster_velocities(vel, "euler", 2, random_state=seed)
    assert np.array_equal(res.labels, truth)
    for k, pole in ((1, FAST_POLE), (0, SLOW_POLE)):  # each rotation is the least-squares fit to its block
        np.testing.assert_allclose(res.omegas[k], fit_euler_pole(vel, truth == k, weighted=False).omega, rtol=1e-8)
        assert angle_between_deg(res.omegas[k], pole_to_omega(*pole)) < 5.0
    assert res.probabilities.min(axis=0).shape == (2,) and np.allclose(res.probabilities.sum(axis=1), 1.0)
    assert (res.probabilities[np.arange(80), truth] > 0.99).all()


@pytest.mark.parametrize("method", ["kmeans", "gmm", "hierarchical", "euler"])
def test_all_methods_separate_distinct_blocks_and_order_by_speed(method):
    vel, truth = _two_blocks(7)
    res = cluster_velocities(vel, method, 2, random_state=0)
    assert adjusted_rand_score(truth, res.labels) == 1.0
    assert np.array_equal(res.labels, truth)  # cluster 1 = faster block
    summary = res.summary(vel)
    assert summary["speed"].is_monotonic_increasing
    assert np.array_equal(assign_clusters(res, vel), res.labels)
    frame = res.to_frame(vel)
    assert {"cluster", "probability", "p0", "p1", "ve"} <= set(frame.columns)


@pytest.mark.parametrize("method", ["kmeans", "gmm", "euler"])
def test_same_seed_same_result(method):
    vel, _ = _two_blocks(3, sigma=4.0)  # noisy enough for restarts to matter
    a = cluster_velocities(vel, method, 3, random_state=42)
    b = cluster_velocities(vel, method, 3, random_state=42)
    assert np.array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_position_features_extend_feature_space():
    vel, truth = _two_blocks(1, interleaved=True)
    res = cluster_velocities(vel, "hierarchical", 2, position_scale_km=50.0)
    assert res.centers.shape == (2, 4)
    assert np.array_equal(assign_clusters(res, vel), res.labels)


def test_bad_parameters_name_parameter_and_value():
    vel, _ = _two_blocks(0)
    with pytest.raises(SchemaError, match="'method' parameter must be one of .*'kmedoids'"):
        cluster_velocities(vel, "kmedoids", 2)
    with pytest.raises(SchemaError, match="'n_clusters' parameter \\(100\\) exceeds the number of stations \\(80\\)"):
        cluster_velocities(vel, "kmeans", 100)
    with pytest.raises(SchemaError, match="'linkage' parameter must be one of"):
        cluster_velocities(vel, "hierarchical", 2, linkage="centroid")
    with pytest.raises(SchemaError, match="'position_scale_km' parameter must be > 0 km. Got -1"):
        cluster_velocities(vel, "kmeans", 2, position_scale_km=-1)
    with pytest.raises(SchemaError, match="'n_bootstrap' parameter must be >= 1"):
        cluster_stability(vel, "kmeans", 2, n_bootstrap=0)


def test_stability_of_clear_and_ambiguous_clusterings():
    vel, _ = _two_blocks(2)
    clear = cluster_stability(vel, "euler", 2, n_bootstrap=20, random_state=0)
    assert clear.summary["mean_consistency"] == 1.0 and clear.summary["mean_entropy"] == 0.0
    assert clear.summary["mean_ari"] == 1.0
    rng = np.random.default_rng(0)
    blob = vel.assign(ve=rng.normal(0, 3, 80), vn=rng.normal(0, 3, 80))  # one Gaussian blob: no real clusters
    vague = cluster_stability(blob, "kmeans", 3, n_bootstrap=20, random_state=0)
    assert vague.summary["mean_consistency"] < clear.summary["mean_consistency"]
    assert vague.summary["mean_entropy"] > 0.05
    again = cluster_stability(blob, "kmeans", 3, n_bootstrap=20, random_state=0)
    pd.testing.assert_frame_equal(vague.stations, again.stations)


@pytest.fixture(scope="module")
def california() -> pd.DataFrame:
    if not CSV.is_file():
        pytest.fail(f"real data file {CSV} is missing; tests need ../shared/data beside the repository")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vel = read_velocities(CSV)
    return select_stations(vel, region=(-125.0, -114.0, 32.0, 42.0), max_sigma=1.5, max_speed=60.0)


@pytest.mark.parametrize("method", ["kmeans", "gmm", "hierarchical", "euler"])
def test_pbo_clusters_split_pacific_and_north_america_across_san_andreas(california, method):
    """Stations > 30 km west of the San Andreas fault (Pacific side) vs > 100 km east (Great Valley,
    Sierra Nevada, Basin and Range): each group falls in its own cluster, the western cluster moving
    NW at > 30 mm/yr and the eastern one slowly. Fails if the split follows anything else."""
    ca = california
    assert 850 <= len(ca) <= 900
    off = san_andreas_offset_km(ca["lon"], ca["lat"])
    band = ca["lat"].between(33.5, 39.5).to_numpy()
    west, east = band & (off > 30), band & (off < -100)
    assert west.sum() >= 100 and east.sum() >= 100
    res = cluster_velocities(ca, method, 2, random_state=0)
    w_share = np.bincount(res.labels[west], minlength=2) / west.sum()
    e_share = np.bincount(res.labels[east], minlength=2) / east.sum()
    assert w_share[1] >= 0.98, w_share  # cluster 1 is the faster one
    assert e_share[0] >= 0.98, e_share
    summary = res.summary(ca).set_index("cluster")
    assert summary.loc[1, "speed"] > 30.0 and -60.0 < summary.loc[1, "azimuth"] < -20.0
    assert summary.loc[0, "speed"] < 15.0
    near = band & (np.abs(off) > 30)  # Bay Area stations between the San Andreas and Hayward faults are mixed
    side = (off[near] > 0).astype(int)
    assert (res.labels[near] == side).mean() >= 0.9
