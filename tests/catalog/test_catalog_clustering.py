import numpy as np
import pytest

from gmlearn.catalog.clustering import cluster_space_time, summarize_clusters
from gmlearn.exceptions import SchemaError


@pytest.fixture(scope="module")
def m2(geonet_2025):
    return geonet_2025[geonet_2025["mag"] >= 2.0].reset_index(drop=True)


@pytest.mark.parametrize("algorithm", ["dbscan", "hdbscan"])
def test_clusters_found_and_labelled(m2, algorithm):
    result = cluster_space_time(m2, algorithm)
    assert result.labels.shape == (len(m2),) and result.n_clusters > 20
    assert 0.02 < result.fraction_clustered < 0.8
    summary = result.summary
    assert set(summary["kind"]) <= {"sequence", "swarm"} and summary["n_events"].is_monotonic_decreasing
    assert summary["n_events"].sum() == np.count_nonzero(result.labels >= 0)
    again = cluster_space_time(m2, algorithm)
    assert np.array_equal(again.labels, result.labels)


def test_sequence_and_swarm_rules(m2):
    import pandas as pd

    base = m2.iloc[:6].copy()
    base["time"] = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(np.arange(6), unit="h")
    base["mag"] = [5.0, 3.0, 2.5, 2.4, 2.2, 2.1]
    summary = summarize_clusters(base, np.zeros(6, dtype=int))
    assert summary["kind"].iloc[0] == "sequence" and summary["fraction_before_largest"].iloc[0] == 0.0
    base["mag"] = [2.1, 2.3, 2.2, 2.4, 2.35, 2.2]
    assert summarize_clusters(base, np.zeros(6, dtype=int))["kind"].iloc[0] == "swarm"


def test_bad_algorithm(m2):
    with pytest.raises(SchemaError, match=r"'algorithm' .* \['dbscan', 'hdbscan'\]. Got 'kmeans'"):
        cluster_space_time(m2, "kmeans")
