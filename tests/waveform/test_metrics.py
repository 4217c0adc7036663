"""Intensity measures: PSA and RotD50 against the PEER spectra, Arias intensity, durations, PGV, FAS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmlearn.waveform import metrics as M


@pytest.fixture(scope="module")
def peer_spectra(peer_folder):
    return (pd.read_csv(peer_folder / "spectra_asrecorded_h1_h2_v_psa_g.csv.gz"),
            pd.read_csv(peer_folder / "spectra_rotd50_psa_g.csv.gz"))


def test_psa_matches_peer_within_one_percent(peer_records, peer_spectra):
    spec, _ = peer_spectra
    periods = spec.iloc[:, 0].to_numpy()
    for rec in peer_records:
        mine = M.psa(rec.acc[:2], rec.dt, periods)  # both horizontals at once, all 111 periods
        for i, comp in enumerate(("Horizontal-1", "Horizontal-2")):
            ref = spec[f"RSN-{rec.record_id} {comp} pSa (g)"].to_numpy()
            assert np.max(np.abs(mine[i] / ref - 1.0)) <= 0.01, (rec.record_id, comp)


def test_psa_within_half_a_percent_of_peer_including_a_record_starting_mid_motion(peer_folder, peer_spectra):
    """Oscillators start at rest at the first sample: RSN 139 (21 s, non-zero first sample) at T = 20 s was 3.6 % off."""
    from gmlearn.waveform.records import read_peer_folder

    spec, _ = peer_spectra
    periods = spec.iloc[:, 0].to_numpy()
    for rec in read_peer_folder(peer_folder, rsns=[20, 139, 169]):
        for i, comp in enumerate(("Horizontal-1", "Horizontal-2")):
            acc = rec.acc[i, : rec.meta["component_npts"][i]]
            mine = M.psa(acc[:-1], rec.dt, periods)  # PEER integrates NPTS - 1 samples
            ref = spec[f"RSN-{rec.record_id} {comp} pSa (g)"].to_numpy()
            assert np.max(np.abs(mine / ref - 1.0)) <= 0.005, (rec.record_id, comp)


def test_rotd50_matches_peer(peer_records, peer_spectra):
    _, rotd = peer_spectra
    periods = rotd.iloc[::3, 0].to_numpy()
    for rec in peer_records[:2]:  # dt 0.005 s and 0.01 s (short periods on the refined grid)
        mine = M.rotd(rec.acc[0], rec.acc[1], rec.dt, periods, n_angles=180)
        ref = rotd[f"RSN-{rec.record_id} RotD50 pSa (g)"].to_numpy()[::3]
        assert np.max(np.abs(mine / ref - 1.0)) <= 0.01, rec.record_id


def test_psa_short_period_is_pga():
    t = np.arange(4000) * 0.01
    acc = np.sin(2 * np.pi * 1.0 * t) * np.exp(-((t - 20) / 5) ** 2)
    assert M.psa(acc, 0.01, np.array([0.01]))[0] == pytest.approx(M.pga(acc), rel=0.01)


def test_arias_and_durations_of_a_sine():
    dt, f = 0.01, 2.0
    t = np.arange(0, 20, dt)
    acc = 0.1 * np.sin(2 * np.pi * f * t)
    expected = np.pi / (2 * M.G) * (0.1 * M.G) ** 2 * 10.0  # mean square x duration
    assert M.arias(acc, dt) == pytest.approx(expected, rel=0.01)
    assert M.significant_duration(acc, dt) == pytest.approx(18.0, abs=0.1)
    assert M.significant_duration(acc, dt, end=0.75) == pytest.approx(14.0, abs=0.1)


def test_pgv_of_a_sine():
    dt, f = 0.005, 1.0
    t = np.arange(0, 40, dt)
    window = np.sin(np.pi * t / 40) ** 2
    acc = 0.2 * np.sin(2 * np.pi * f * t) * window
    pgv_expected = 0.2 * M.G * 100 / (2 * np.pi * f)
    assert M.pgv(acc, dt) == pytest.approx(pgv_expected, rel=0.03)


def test_fas_peak_and_shapes():
    dt = 0.01
    t = np.arange(0, 20.48, dt)
    acc = np.stack([np.sin(2 * np.pi * 3.0 * t), np.sin(2 * np.pi * 0.5 * t)])
    f, amp = M.fas(acc, dt)
    assert f[np.argmax(amp[0])] == pytest.approx(3.0, abs=0.05)
    freqs, smooth = M.fas(acc, dt, freqs=np.array([0.5, 3.0]))
    assert smooth.shape == (2, 2) and smooth[0, 1] > smooth[0, 0]


def test_summary_shapes(peer_records):
    from gmlearn.waveform.processing import prepare

    acc, _ = prepare(peer_records)
    s = M.summary(acc, 0.02, np.array([0.2, 1.0]), n_angles=18)
    assert s["psa"].shape == (3, 2)
    assert set(s) == {"psa", "pga", "pgv", "arias", "d5_75", "d5_95"}
    assert np.all(s["d5_95"] > s["d5_75"])
