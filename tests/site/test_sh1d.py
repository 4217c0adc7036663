import numpy as np
import pytest

from gmlearn.site.sh1d import (
    Profile,
    SiteResponseError,
    amplification_at_periods,
    konno_ohmachi,
    single_layer_transfer_function,
    transfer_function,
)

FREQS = np.linspace(0.05, 30.0, 600)


@pytest.mark.parametrize("modulus", ["dormieux", "kramer", "seed"])
@pytest.mark.parametrize(("h", "vs", "damping"), [(30.0, 200.0, 0.05), (12.0, 150.0, 0.02), (80.0, 400.0, 0.0)])
def test_single_layer_on_elastic_rock_matches_closed_form(h, vs, damping, modulus):
    profile = Profile([h, 0.0], [vs, 1000.0], [1800.0, 2200.0], [damping, 0.01])
    layered = transfer_function(profile, FREQS, modulus=modulus)
    closed = single_layer_transfer_function(FREQS, thickness=h, vs=vs, density=1800.0, damping=damping, vs_rock=1000.0,
                                            density_rock=2200.0, damping_rock=0.01, modulus=modulus)
    np.testing.assert_allclose(layered, closed, rtol=1e-9, atol=1e-12)


def test_resonance_of_a_single_layer():
    profile = Profile([30.0, 0.0], [200.0, 1000.0], [1800.0, 2200.0], [0.05, 0.0])
    amp = np.abs(transfer_function(profile, FREQS))
    f0 = FREQS[np.argmax(amp)]
    assert f0 == pytest.approx(200.0 / (4 * 30.0), rel=0.03)  # Vs / 4H
    alpha = 1800 * 200 / (2200 * 1000)
    assert amp.max() == pytest.approx(1.0 / (alpha + np.pi / 2 * 0.05), rel=0.05)  # Kramer eq. 7.38 approximation
    assert profile.fundamental_frequency == pytest.approx(200.0 / 120.0)
    assert abs(transfer_function(profile, np.array([0.0]))[0]) == pytest.approx(1.0)


def test_matches_pystrata_linear_elastic_calculator():
    pystrata = pytest.importorskip("pystrata")  # optional comparison
    layers = [(5.0, 180.0, 1750.0, 0.04), (10.0, 260.0, 1850.0, 0.03), (20.0, 420.0, 1950.0, 0.02),
              (0.0, 1100.0, 2300.0, 0.01)]
    profile = Profile.from_layers(layers)
    g = 9.80665
    ps_layers = [pystrata.site.Layer(pystrata.site.SoilType(f"s{i}", rho * g / 1000.0, None, d), h, vs)
                 for i, (h, vs, rho, d) in enumerate(layers)]
    ps_profile = pystrata.site.Profile(ps_layers).auto_discretize()
    calc = pystrata.propagation.LinearElasticCalculator()
    motion = pystrata.motion.Motion(freqs=FREQS)
    calc(motion, ps_profile, ps_profile.location("outcrop", index=-1))
    tf = calc.calc_accel_tf(ps_profile.location("outcrop", index=-1), ps_profile.location("within", index=0))
    np.testing.assert_allclose(np.abs(transfer_function(profile, FREQS)), np.abs(tf), rtol=2e-3)


def test_profile_validation_and_vs30():
    with pytest.raises(SiteResponseError, match="damping\\[0\\]"):
        Profile([10.0, 0.0], [200.0, 800.0], [1800.0, 2200.0], [0.7, 0.0])
    with pytest.raises(SiteResponseError, match="thickness has 1 values"):
        Profile([10.0], [200.0, 800.0], [1800.0, 2200.0], [0.05, 0.0])
    with pytest.raises(SiteResponseError, match="at least one layer"):
        Profile([0.0], [800.0], [2200.0], [0.0])
    p = Profile([10.0, 10.0, 0.0], [200.0, 400.0, 800.0], [1800.0] * 3, [0.05] * 3)
    assert p.vs30 == pytest.approx(30.0 / (10 / 200 + 10 / 400 + 10 / 800))


def test_smoothed_amplification():
    profile = Profile([30.0, 0.0], [200.0, 1000.0], [1800.0, 2200.0], [0.05, 0.01])
    amp = amplification_at_periods(profile, [0.0, 0.6, 10.0])
    assert amp[1] > amp[0] and amp[1] > 0.5  # near the 0.6 s resonance
    assert abs(amp[2]) < 0.05  # long periods see through the layer
    flat = konno_ohmachi(FREQS, np.ones_like(FREQS))
    np.testing.assert_allclose(flat, 1.0)


def test_cli_tf(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from gmlearn.cli import app

    pd.DataFrame({"thickness": [30.0, 0.0], "vs": [200.0, 1000.0], "density": [1800.0, 2200.0],
                  "damping": [0.05, 0.01]}).to_csv(tmp_path / "layers.csv", index=False)
    res = CliRunner().invoke(app, ["site", "tf", str(tmp_path / "layers.csv"), "--out", str(tmp_path / "tf.csv")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "tf.csv")
    assert table.loc[table["amplitude"].idxmax(), "frequency_hz"] == pytest.approx(200 / 120, rel=0.03)
    assert (tmp_path / "tf.png").is_file()
    pd.DataFrame({"thickness": [30.0], "vs": [200.0]}).to_csv(tmp_path / "bad.csv", index=False)
    res = CliRunner().invoke(app, ["site", "tf", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "bad_tf.csv")])
    assert res.exit_code == 2 and "density" in res.output and not (tmp_path / "bad_tf.csv").exists()
