"""Record suites matched to a target spectrum in mean and spread, AT2 output."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gmlearn.waveform.errors import RecordFormatError


@pytest.fixture()
def spectrum_csv(tmp_path):
    periods = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
    psa = np.where(periods < 0.1, 0.4 + 4.0 * (periods - 0.05), np.minimum(0.6, 0.6 * 0.4 / periods))  # design shape
    path = tmp_path / "uhs.csv"
    lines = ["period_s,psa_g,sigma_ln"] + [f"{t},{p},{0.4}" for t, p in zip(periods, psa)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_suite_command_matches_mean_and_spread(tmp_path, spectrum_csv):
    from gmlearn.cli import app
    from gmlearn.waveform.records import read_at2

    out = tmp_path / "suite"
    result = CliRunner().invoke(app, ["waveforms", "suite", "--target-spectrum", str(spectrum_csv), "-n", "11",
                                      "--model", "stochastic", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("suite_*_H1.AT2"))) == 11
    acc, dt, _ = read_at2(out / "suite_000_H1.AT2")
    assert dt == 0.01 and np.isfinite(acc).all()
    import pandas as pd

    table = pd.read_csv(out / "suite_spectra.csv")
    err = np.log(table["suite_mean_psa_g"] / table["target_psa_g"])
    assert np.all(np.abs(err) < 0.1), err
    ratio = table["suite_sigma_ln"] / table["target_sigma_ln"]
    assert np.all((ratio > 0.75) & (ratio < 1.25)), ratio


def test_target_spectrum_errors(tmp_path):
    from gmlearn.waveform.suite import read_target_spectrum

    (tmp_path / "a.csv").write_text("period,psa_g\n0.1,0.2\n")
    with pytest.raises(RecordFormatError, match="period_s"):
        read_target_spectrum(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("period_s,psa_g\n0.1,0.2\n0.2,-1\n")
    with pytest.raises(RecordFormatError, match="psa_g"):
        read_target_spectrum(tmp_path / "b.csv")
