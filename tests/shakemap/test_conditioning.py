import numpy as np
import pandas as pd
import pytest

from gmlearn.shakemap.conditioning import condition, nearest_correlation, prepare
from gmlearn.shakemap.correlation import CorrelationModel, great_circle_km
from gmlearn.shakemap.errors import ShakemapError
from gmlearn.shakemap.scenario import conditioning_sets


def _inputs(grassmere, rupture, model, imt, n_targets=40, seed=0):
    rng = np.random.default_rng(seed)
    sta = grassmere.drop_duplicates("station_id").iloc[:30].reset_index(drop=True)
    targets = pd.DataFrame({"lon": rng.uniform(173.3, 175.0, n_targets), "lat": rng.uniform(-42.5, -40.9, n_targets),
                            "vs30": rng.uniform(200, 800, n_targets), "vs30measured": False})
    sta_ctx = rupture.context(sta[["lon", "lat", "vs30"]].assign(vs30measured=False))
    return sta, targets, model.predict(sta_ctx, [imt]), model.predict(rupture.context(targets), [imt])


@pytest.mark.parametrize("imt", ["PGA", "SA(1.0)"])
def test_matches_openquake_conditioned_gmfs(grassmere, grassmere_rupture, bssa14, imt):
    """Mean and sigma equal OpenQuake's get_mean_covs (Engler et al. 2022) on real Grassmere records."""
    from openquake.hazardlib import correlation, cross_correlation
    from openquake.hazardlib.calc.conditioned_gmfs import get_mean_covs
    from openquake.hazardlib.calc.filters import IntegrationDistance
    from openquake.hazardlib.contexts import ContextMaker
    from openquake.hazardlib.imt import from_string
    from openquake.hazardlib.site import SiteCollection

    sta, targets, p_d, p_y = _inputs(grassmere, grassmere_rupture, bssa14, imt)
    obs = sta[imt].to_numpy()
    cond = prepare(sta["lon"], sta["lat"], obs[None], [imt], p_d.mean, p_d.tau, p_d.phi, [imt])
    mine = condition(cond, targets["lon"], targets["lat"], p_y.mean, p_y.tau, p_y.phi)

    def sitecol(frame):
        s = SiteCollection.from_points(frame["lon"].to_numpy(), frame["lat"].to_numpy(), req_site_params=("vs30",))
        s.array["vs30"] = frame["vs30"].to_numpy()
        return s

    cm = ContextMaker("*", [bssa14._gsim], {"imtls": {imt: [0]}, "maximum_distance": IntegrationDistance.new("1000")})
    data = pd.DataFrame({f"{imt}_mean": np.exp(obs), f"{imt}_std": 0.0})
    me, cov_a, cov_b = get_mean_covs(grassmere_rupture.to_openquake(), cm, sitecol(sta), data, [imt], sitecol(targets),
                                     [from_string(imt)], correlation.JB2009CorrelationModel(True),
                                     cross_correlation.GodaAtkinson2009(), cross_correlation.BakerJayaram2008(),
                                     sigma=False)
    np.testing.assert_allclose(mine["mean"][0], me[0, 0, :, 0], atol=1e-4)
    oq_var = np.diag(cov_a[0, 0]) + np.diag(cov_b[0, 0])
    np.testing.assert_allclose(mine["sigma"][0] ** 2, oq_var, atol=1e-4)
    # the between/within split is OpenQuake's too (one of its two returned matrices is each part)
    parts = sorted([np.diag(cov_a[0, 0]), np.diag(cov_b[0, 0])], key=lambda d: d.mean())
    np.testing.assert_allclose(np.sort([mine["tau"][0] ** 2, mine["phi"][0] ** 2], axis=0)[0].mean(), parts[0].mean(),
                               rtol=1e-3)


def test_properties_at_and_far_from_stations(grassmere, grassmere_rupture, bssa14):
    sta, targets, p_d, p_y = _inputs(grassmere, grassmere_rupture, bssa14, "PGA")
    cond = prepare(sta["lon"], sta["lat"], sta["PGA"].to_numpy()[None], ["PGA"], p_d.mean, p_d.tau, p_d.phi, ["PGA"])
    at = condition(cond, sta["lon"], sta["lat"], p_d.mean, p_d.tau, p_d.phi)
    np.testing.assert_allclose(at["mean"][0], sta["PGA"], atol=0.01)  # a station reproduces its own record
    assert (at["sigma"] < 0.01).all()
    far = condition(cond, np.array([150.0]), np.array([-20.0]), np.array([[-5.0]]), np.array([[0.4]]), np.array([[0.6]]))
    bias = cond.bias(np.array([0.4]))["PGA"]
    assert far["mean"][0, 0] == pytest.approx(-5.0 + bias["mean"], abs=1e-9)  # only the event bias is left
    assert far["phi"][0, 0] == pytest.approx(0.6, abs=1e-9)
    assert far["tau"][0, 0] == pytest.approx(bias["sd"], abs=1e-9) and bias["sd"] < 0.4
    mid = condition(cond, targets["lon"], targets["lat"], p_y.mean, p_y.tau, p_y.phi)
    assert (mid["sigma"] <= p_y.sigma + 1e-12).all()
    blocks = condition(cond, targets["lon"], targets["lat"], p_y.mean, p_y.tau, p_y.phi, block=7)
    for key in mid:
        np.testing.assert_allclose(blocks[key], mid[key], rtol=1e-12)


def test_no_observation_raises():
    with pytest.raises(ShakemapError, match="No finite station observation"):
        prepare([172.0], [-43.0], np.array([[np.nan]]), ["PGA"], np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)),
                ["PGA"])


def test_correlation_model_uses_openquake():
    from openquake.hazardlib.correlation import jbcorrelation
    from openquake.hazardlib.imt import from_string

    corr = CorrelationModel(vs30_clustering=False)
    h = np.array([0.0, 5.0, 40.0])
    np.testing.assert_allclose(corr.spatial_correlation(h, "SA(0.5)"), jbcorrelation(h, from_string("SA(0.5)"), False))
    assert corr.within_cross(["PGA", "SA(1.0)"])[0, 1] == pytest.approx(0.4, abs=0.2)
    d = great_circle_km(np.array([172.0]), np.array([-43.0]), np.array([173.0]), np.array([-43.0]))
    from openquake.hazardlib.geo.geodetic import geodetic_distance

    assert d[0, 0] == pytest.approx(float(geodetic_distance(172.0, -43.0, 173.0, -43.0)), rel=1e-9)
    with pytest.raises(ShakemapError, match="cross_within"):
        CorrelationModel(cross_within="LB2013")


def test_nearest_correlation_keeps_variances_and_makes_positive_definite():
    bad = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]) * 4.0
    fixed = nearest_correlation(bad)
    np.testing.assert_allclose(np.diag(fixed), 4.0)
    assert np.linalg.eigvalsh(fixed).min() > 0


def test_conditioning_sets_bracket_unobserved_periods():
    sets = conditioning_sets(["PGA", "SA(0.5)", "SA(1.0)", "SA(5.0)"], ["PGA", "SA(0.3)", "SA(1.0)"])
    by_target = {t: o for targets, o in sets for t in targets}
    assert by_target == {"PGA": ["PGA"], "SA(0.5)": ["SA(0.3)", "SA(1.0)"], "SA(1.0)": ["SA(1.0)"], "SA(5.0)": ["SA(1.0)"]}
    assert len(sets) == 3  # SA(1.0) and SA(5.0) share one factorisation
    assert conditioning_sets(["PGA"], ["PGA", "SA(1.0)"], "all") == [(["PGA"], ["PGA", "SA(1.0)"])]
