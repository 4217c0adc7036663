"""Smoothed seismicity, NRML round trip through OpenQuake, and a small classical PSHA."""

import numpy as np
import pytest

from gmlearn.catalog.declustering_gk import gardner_knopoff
from gmlearn.catalog.psha import hazard_curves
from gmlearn.catalog.smoothing import adaptive_bandwidths, smoothed_seismicity
from gmlearn.catalog.sources import SourceSettings, point_sources, read_source_model, write_source_model
from gmlearn.exceptions import ModelError, SchemaError

WELLINGTON = (174.78, -41.29)
REGION = (173.5, 176.5, -42.5, -40.0)


@pytest.fixture(scope="module")
def declustered(geonet):
    above = geonet[geonet["mag"] >= 2.4].reset_index(drop=True)
    return gardner_knopoff(above).declustered(above)


@pytest.fixture(scope="module")
def rates(declustered):
    return smoothed_seismicity(declustered, 2.4, 0.95, kernel="adaptive", spacing_deg=0.25, region=REGION,
                               max_depth_km=40)


@pytest.mark.parametrize("kernel", ["fixed", "adaptive"])
def test_smoothing_preserves_events(declustered, kernel):
    result = smoothed_seismicity(declustered, 2.4, 0.95, kernel=kernel, spacing_deg=0.1,
                                 region=(165.0, 190.0, -50.0, -30.0), max_depth_km=40)
    shallow = declustered[~(declustered["depth"] > 40)]
    inside = result.params["events_inside"]
    assert result.n_events == len(shallow) and len(shallow) - 20 < inside <= len(shallow)  # a few lie north of -30
    assert result.total_rate * result.duration_years == pytest.approx(inside)
    assert result.rate.shape == (200, 250) and np.all(result.rate >= 0)
    frame = result.to_frame()
    assert frame["lon"].between(-180, 180).all() and frame.loc[frame["lon"] < 0, "rate"].sum() > 0  # Kermadecs
    i, j = np.unravel_index(np.argmax(result.rate), result.rate.shape)
    assert result.rate[i, j] > 50 * np.median(result.rate)


def test_fixed_kernel_without_preserving_loses_mass_at_edges(declustered):
    kept = smoothed_seismicity(declustered, 2.4, 1.0, bandwidth_km=30, region=REGION, preserve_total=False)
    assert 0 < kept.total_rate * kept.duration_years < kept.params["events_inside"] * 1.2
    assert kept.a_values().shape == kept.rate.shape


def test_adaptive_bandwidths(declustered):
    width = adaptive_bandwidths(declustered["lon"].to_numpy(), declustered["lat"].to_numpy(), 5, 2.0)
    assert width.min() >= 2.0 and np.median(width) < 50


def test_nrml_round_trip(rates, tmp_path):
    settings = SourceSettings(mmin=4.5, mmax=7.5, min_rate=1e-6)
    sources = point_sources(rates, settings)
    path = write_source_model(tmp_path / "model.xml", rates, settings, name="test model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.xml"]  # no temporary files left
    assert path.read_text().startswith("<?xml") and "truncGutenbergRichterMFD" in path.read_text()
    groups = read_source_model(path)
    parsed = [src for group in groups for src in group]
    assert len(parsed) == len(sources) > 50
    first = {s.source_id: s for s in sources}
    for src in parsed[:20]:
        original = first[src.source_id]
        assert src.mfd.a_val == pytest.approx(original.mfd.a_val, abs=1e-5)
        assert src.mfd.b_val == pytest.approx(0.95) and src.mfd.max_mag == 7.5
        assert (src.location.longitude, src.location.latitude) == pytest.approx(
            (original.location.longitude, original.location.latitude))
    rate_mmin = sum(10 ** (s.mfd.a_val - s.mfd.b_val * 4.5) for s in parsed)  # OpenQuake: M >= min_mag
    assert rate_mmin == pytest.approx(rates.rate_above(4.5)[rates.rate_above(4.5) >= 1e-6].sum(), rel=1e-3)


def test_psha_hazard_curves_decrease(rates, tmp_path):
    path = write_source_model(tmp_path / "model.xml", rates, SourceSettings(min_rate=1e-6))
    imtls = {"PGA": [0.01, 0.05, 0.1, 0.2, 0.4, 0.8], "SA(1.0)": [0.01, 0.05, 0.1, 0.2, 0.4, 0.8]}
    curves = hazard_curves(path, [WELLINGTON, (175.6, -40.4)], imtls, gsim="BooreEtAl2014", investigation_time=50.0)
    assert set(curves["site"]) == {0, 1} and set(curves["imt"]) == {"PGA", "SA(1.0)"}
    for _, curve in curves.groupby(["site", "imt"]):
        poe = curve.sort_values("iml")["poe"].to_numpy()
        assert np.all((poe >= 0) & (poe <= 1)) and poe[0] > 0.01
        assert np.all(np.diff(poe) < 0)  # strictly decreasing with the intensity level
    nz = hazard_curves(read_source_model(path), [WELLINGTON], {"PGA": imtls["PGA"]}, gsim="Bradley2013")
    assert np.all(np.diff(nz["poe"].to_numpy()) < 0)


def test_bad_source_inputs(rates, declustered):
    with pytest.raises(SchemaError, match="mmax"):
        point_sources(rates, SourceSettings(mmin=7.0, mmax=6.0))
    with pytest.raises(SchemaError, match="min_rate"):
        point_sources(rates, SourceSettings(min_rate=1e9))
    with pytest.raises(ModelError, match="'gsim' parameter"):
        hazard_curves([], [WELLINGTON], gsim="NoSuchGsim2099")
    with pytest.raises(SchemaError, match=r"'kernel' .* \['fixed', 'adaptive'\]. Got 'boxcar'"):
        smoothed_seismicity(declustered, 2.4, 1.0, kernel="boxcar")
