import numpy as np
import pytest

from gmlearn.catalog.bvalue import weichert
from gmlearn.catalog.completeness import mc_b_stability, mc_goodness_of_fit, mc_max_curvature
from gmlearn.catalog.fmd import bin_magnitudes, frequency_magnitude, simulate_gr
from gmlearn.catalog.stepp import completeness_table, stepp_completeness

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # seismostats imports cartopy


def _subsets(catalog):
    return {
        "all": catalog,
        "2024": catalog[catalog["time"] < "2025-01-01"],
        "shallow": catalog[catalog["depth"] < 40],
        "south": catalog[catalog["lat"] < -42],
    }


@pytest.fixture(scope="module")
def binned(geonet):
    return {name: bin_magnitudes(sub["mag"].to_numpy(), 0.1) for name, sub in _subsets(geonet).items()}


@pytest.mark.parametrize("name", ["all", "2024", "shallow", "south"])
@pytest.mark.parametrize("correction", [0.0, 0.2])
def test_max_curvature_equals_seismostats(binned, name, correction):
    from seismostats.analysis import estimate_mc_maxc

    mags = binned[name]
    expected, _ = estimate_mc_maxc(mags, fmd_bin=0.1, correction_factor=correction)
    assert mc_max_curvature(mags, 0.1, correction).mc == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("name", ["all", "2024", "shallow", "south"])
def test_b_stability_equals_seismostats(binned, name, capsys):
    from seismostats.analysis import UtsuBValueEstimator, estimate_mc_b_stability

    mags = binned[name]
    expected, _ = estimate_mc_b_stability(mags, delta_m=0.1, b_method=UtsuBValueEstimator)
    result = mc_b_stability(mags, 0.1)
    assert expected is not None and result.mc == pytest.approx(expected, abs=1e-9)
    assert result.details["diff_over_sigma"][-1] <= 1.0 < min(result.details["diff_over_sigma"][:-1])


def test_b_stability_without_stable_mc(geonet_2025, capsys):
    from seismostats.analysis import UtsuBValueEstimator, estimate_mc_b_stability

    mags = bin_magnitudes(geonet_2025["mag"].to_numpy(), 0.1)
    assert estimate_mc_b_stability(mags, delta_m=0.1, b_method=UtsuBValueEstimator)[0] is None
    assert np.isnan(mc_b_stability(mags, 0.1).mc)


def test_goodness_of_fit_on_synthetic_incomplete_catalogue():
    rng = np.random.default_rng(4)
    complete = simulate_gr(200_000, 1.0, 1.0, random_state=rng)
    detect = 1.0 / (1.0 + np.exp(-(complete - 2.0) / 0.12))  # detection probability, half at M 2.0
    mags = complete[rng.random(complete.size) < detect]
    result = mc_goodness_of_fit(mags, 0.1)
    level = result.details["level"]
    assert level in (95.0, 90.0) and 2.1 <= result.mc <= 2.5
    fit = dict(zip(result.details["mcs_tested"], result.details["fit_percent"]))
    assert fit[result.mc] >= level and max(v for k, v in fit.items() if k < result.mc) < level


def test_goodness_of_fit_on_geonet(geonet):
    result = mc_goodness_of_fit(geonet, 0.1)
    assert result.mc == pytest.approx(2.3) and result.details["level"] == 95.0


def test_frequency_magnitude(geonet_2025):
    fmd = frequency_magnitude(geonet_2025, 0.1)
    assert fmd["count"].sum() == len(geonet_2025) == fmd["cumulative"].iloc[0]
    assert np.allclose(np.diff(fmd["mag"]), 0.1)
    assert bin_magnitudes(np.array([2.25, 2.34, -0.45, 2.3]), 0.1).tolist() == [2.3, 2.3, -0.4, 2.3]


def test_stepp_on_cmt(cmt):
    stepp = stepp_completeness(cmt, [3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0], 1.0)
    years = stepp["complete_years"].to_numpy()
    assert np.all(np.diff(years) >= 0)  # increment lock
    assert years[0] < 10 < years[2]  # M3-3.5 only recently, M>=4 over most of the catalogue
    table = completeness_table(stepp)
    assert table[0][1] == 3.0 and all(a[0] > b[0] for a, b in zip(table[:-1], table[1:]))
    fit = weichert(cmt, table, 0.1)
    assert fit.annual and fit.n > 2000 and 0.3 < fit.b < 1.2


def test_stepp_stationary_catalogue_is_complete_throughout(geonet):
    stepp = stepp_completeness(geonet, [2.5, 3.0, 3.5, 4.0], 0.1)
    span = (geonet["time"].max() - geonet["time"].min()).days / 365.25
    assert np.allclose(stepp["complete_years"], span, rtol=0.01)
