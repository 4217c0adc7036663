import numpy as np
import pytest

from gmlearn.shakemap.ensemble import simulate_fields
from gmlearn.shakemap.errors import ShakemapError
from gmlearn.shakemap.scenario import compute_shakemap
from gmlearn.shakemap.sites import grid_sites
from gmlearn.shakemap.validation import leave_stations_out, rms_ratio


@pytest.mark.parametrize("conditioned", [False, True])
def test_fields_match_the_conditioned_distribution(grassmere_rupture, grassmere_stations, bssa14, conditioned):
    sites = grid_sites((173.8, -41.9, 174.4, -41.5), 0.1, vs30=400.0)
    stations = grassmere_stations if conditioned else None
    fields = simulate_fields(grassmere_rupture, sites, bssa14, ["PGA", "SA(1.0)"], 3000, stations, seed=7)
    sm = compute_shakemap(grassmere_rupture, sites, bssa14, ["PGA", "SA(1.0)"], stations, imt_mode="all")
    mean = sm.dataset["mean"].to_numpy().reshape(2, -1)
    sigma = sm.dataset["sigma"].to_numpy().reshape(2, -1)
    x = fields.to_numpy()
    # Monte Carlo tolerances for 3000 draws: ~4 standard errors
    assert np.abs(x.mean(axis=0) - mean).max() < 4 * sigma.max() / np.sqrt(3000) + 1e-3
    assert np.abs(x.std(axis=0) / sigma - 1).max() < 0.1
    # neighbouring sites are correlated, PGA and SA(1.0) at one site too
    assert np.corrcoef(x[:, 0, 0], x[:, 0, 1])[0, 1] > 0.3
    again = simulate_fields(grassmere_rupture, sites, bssa14, ["PGA", "SA(1.0)"], 5, stations, seed=7, chunk=2)
    np.testing.assert_allclose(again.to_numpy(), x[:5], rtol=1e-12)  # field j does not depend on chunking
    assert again.shape == (5, 2, len(sites))


def test_seeded_and_limited(grassmere_rupture, bssa14):
    sites = grid_sites((173.8, -41.9, 174.4, -41.5), 0.1, vs30=400.0)
    a = simulate_fields(grassmere_rupture, sites, bssa14, "PGA", 4, seed=1)
    b = simulate_fields(grassmere_rupture, sites, bssa14, "PGA", 4, seed=1)
    c = simulate_fields(grassmere_rupture, sites, bssa14, "PGA", 4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    big = grid_sites((170.0, -45.0, 178.0, -38.0), 0.05, vs30=400.0)
    with pytest.raises(ShakemapError, match="limited to"):
        simulate_fields(grassmere_rupture, big, bssa14, "PGA", 2)


def test_leave_stations_out_improves_on_grassmere(grassmere, bssa14):
    frame = leave_stations_out(grassmere, bssa14, ["PGA", "SA(1.0)"], repeats=3, seed=0)
    assert set(frame["imt"]) == {"PGA", "SA(1.0)"}
    assert frame["repeat"].nunique() == 3 and len(frame) == 3 * 2 * round(0.2 * grassmere["station_id"].nunique())
    ratio = rms_ratio(frame)
    assert ratio["all"] < 0.95
    assert (frame["sigma_conditioned"] <= frame["sigma_prior"] + 1e-12).all()
    with pytest.raises(ShakemapError, match="holdout"):
        leave_stations_out(grassmere, bssa14, "PGA", holdout=1.5)
