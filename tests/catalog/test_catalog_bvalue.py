import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from gmlearn.catalog.bvalue import aki_utsu, b_positive, shi_bolt_sigma, weichert
from gmlearn.catalog.fmd import bin_magnitudes, simulate_gr

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # seismostats imports cartopy


@pytest.fixture(scope="module")
def binned(geonet):
    return geonet.assign(mag=bin_magnitudes(geonet["mag"].to_numpy(), 0.1))


@pytest.mark.parametrize("mc", [2.0, 2.5, 3.0])
def test_aki_utsu_matches_hmtk(binned, to_hmtk, mc):
    from openquake.hmtk.seismicity.occurrence.b_maximum_likelihood import BMaxLikelihood

    # hmtk bins magnitudes into [m, m + dm) with float-accumulated edges, so exactly rounded
    # values can fall one bin low; a quarter-bin offset puts each in its intended bin.
    catalogue = to_hmtk(binned, binned["mag"].to_numpy() + 0.025)
    config = {"Average Type": "Weighted", "magnitude_interval": 0.1, "reference_magnitude": None}
    with contextlib.redirect_stdout(io.StringIO()):  # hmtk prints
        b_hmtk, sigma_hmtk, *_ = BMaxLikelihood().calculate(catalogue, config, completeness=np.array([[2024.0, mc]]))
    fit = aki_utsu(binned, mc, 0.1)
    assert abs(fit.b - b_hmtk) < 0.01 and fit.sigma_b == pytest.approx(sigma_hmtk, rel=1e-6)


def test_weichert_matches_hmtk(binned, to_hmtk):
    from openquake.hmtk.seismicity.occurrence.weichert import Weichert

    config = {"magnitude_interval": 0.1, "reference_magnitude": 0.0, "bvalue": 1.0, "itstab": 1e-5, "maxiter": 1000}
    for hmtk_table, table in [
        (np.array([[2025.0, 2.3], [2024.0, 2.8]]), [("2025-01-01", 2.3), ("2024-01-01", 2.8)]),
        (np.array([[2024.0, 2.5]]), [(2024.0, 2.5)]),
    ]:
        b_hmtk, sigma_hmtk, *_ = Weichert().calculate(to_hmtk(binned), dict(config), completeness=hmtk_table)
        fit = weichert(binned, table, 0.1, end_time="2027-01-01")  # hmtk counts whole years
        assert abs(fit.b - b_hmtk) < 0.01 and fit.sigma_b == pytest.approx(sigma_hmtk, rel=0.01)


def test_weichert_single_period_equals_discrete_mle(binned):
    fit = weichert(binned, [(binned["time"].min(), 2.5)], 0.1)
    assert fit.n == int((binned["mag"] >= 2.5 - 1e-9).sum())
    assert abs(fit.b - aki_utsu(binned, 2.5, 0.1).b) < 0.005  # discrete vs Utsu-corrected continuous MLE


def test_shi_bolt_equals_seismostats():
    from seismostats.analysis import shi_bolt_confidence

    mags = simulate_gr(3000, 1.1, 2.0, random_state=1)
    b = aki_utsu(mags, 2.0).b
    assert shi_bolt_sigma(mags[mags >= 2.0], b) == pytest.approx(shi_bolt_confidence(mags[mags >= 2.0], b), rel=1e-12)


@pytest.mark.parametrize("b_true", [0.8, 1.0, 1.3])
def test_aki_utsu_recovers_synthetic_b(b_true):
    fit = aki_utsu(simulate_gr(5000, b_true, 2.0, random_state=7), 2.0, 0.1)
    assert fit.n == 5000 and abs(fit.b - b_true) <= fit.sigma_b
    errors = np.array([(f.b - b_true) / f.sigma_b for f in (aki_utsu(simulate_gr(2000, b_true, 2.0, random_state=s), 2.0)
                                                           for s in range(60))])
    assert 0.5 <= np.mean(np.abs(errors) <= 1.0) <= 0.85 and np.mean(np.abs(errors) <= 2.0) >= 0.9
    assert abs(errors.mean()) < 0.5


def test_aki_utsu_a_value_and_rate():
    mags = simulate_gr(4000, 1.0, 2.0, random_state=2)
    fit = aki_utsu(mags, 2.0, 0.1, duration_years=2.0)
    assert fit.annual and fit.rate(1.95) == pytest.approx(2000.0)


def test_weichert_recovers_synthetic_b_with_two_periods():
    rng = np.random.default_rng(11)
    n = 12000
    time = pd.Timestamp("2000-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.random(n)) * 10 * 365.25, unit="D")
    cat = pd.DataFrame({"event_id": np.arange(n).astype(str), "time": time, "lon": 174.0, "lat": -41.0,
                        "depth": 10.0, "mag": simulate_gr(n, 1.0, 2.0, random_state=rng), "mag_type": "Mw"})
    cat = cat[~((cat["time"] < "2005-01-01") & (cat["mag"] < 2.5))]  # the first five years are incomplete below 2.5
    table = [("2000-01-01", 2.5), ("2005-01-01", 2.0)]
    fit = weichert(cat, table, 0.1, end_time="2010-01-01")
    assert abs(fit.b - 1.0) <= 2 * fit.sigma_b and fit.n == len(cat)
    assert fit.rate(1.95) == pytest.approx(n / 10.0, rel=0.05)
    naive = aki_utsu(cat, 2.0, 0.1)
    assert naive.b < fit.b - 2 * fit.sigma_b  # ignoring the periods biases b low


def test_b_positive_synthetic_and_geonet(geonet):
    mags = simulate_gr(20000, 1.0, 1.0, random_state=5)
    fit = b_positive(mags, 0.1, dmc=0.2)
    assert abs(fit.b - 1.0) <= 2 * fit.sigma_b and np.isnan(fit.a)
    real = b_positive(geonet, 0.1, mc=2.5, dmc=0.2)
    assert 0.8 < real.b < 1.2 and real.n > 1000
