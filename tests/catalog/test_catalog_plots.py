import pytest

from gmlearn.catalog.bvalue import aki_utsu
from gmlearn.catalog.completeness import mc_max_curvature
from gmlearn.catalog.declustering_gk import gardner_knopoff
from gmlearn.catalog.plots import plot_declustering, plot_fmd, plot_rate_map
from gmlearn.catalog.smoothing import smoothed_seismicity

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small(geonet_2025):
    return geonet_2025[geonet_2025["mag"] >= 2.0].iloc[:3000].reset_index(drop=True)


def _check_png(path):
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 10_000
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_fmd_plot(geonet_2025, tmp_path):
    mc = mc_max_curvature(geonet_2025, 0.1, correction=0.2)
    fig = plot_fmd(geonet_2025, aki_utsu(geonet_2025, mc.mc), mc, path=tmp_path / "fmd.png")
    _check_png(tmp_path / "fmd.png")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(label.startswith("aki_utsu: b = ") for label in labels) and any(f"Mc = {mc.mc:.2f} (max_curvature)" in label for label in labels)


def test_declustering_plot(small, tmp_path):
    result = gardner_knopoff(small)
    fig = plot_declustering(small, result, path=tmp_path / "decluster.png")
    _check_png(tmp_path / "decluster.png")
    assert len(fig.axes) == 2 and f"{result.n_removed} of 3000" in fig._suptitle.get_text()


def test_rate_map(small, tmp_path):
    rates = smoothed_seismicity(small, 2.0, 1.0, spacing_deg=0.2, region=(165, 190, -50, -30))
    plot_rate_map(rates, catalog=small, path=tmp_path / "rates.png")
    _check_png(tmp_path / "rates.png")


def test_plots_do_not_touch_pyplot(small):
    import sys

    plot_fmd(small)
    assert "matplotlib.pyplot" not in sys.modules or sys.modules["matplotlib.pyplot"].get_fignums() == []
