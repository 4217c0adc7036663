"""``gmlearn waveforms`` commands and the demo contract."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner


def test_generate_command(tmp_path):
    from gmlearn.cli import app

    result = CliRunner().invoke(app, ["waveforms", "generate", "--mag", "6.5", "--rrup", "20", "--vs30", "400", "-n",
                                      "2", "--model", "stochastic", "-o", str(tmp_path), "--no-plots"])
    assert result.exit_code == 0, result.output
    data = np.load(tmp_path / "stochastic_M6.5_R20_V400.npz")
    lengths = data["length_s"]
    assert data["acc"].shape == (2, 3, int(round(lengths.max() / 0.01)))
    assert len(list(tmp_path.glob("*.csv"))) == 2 and len(list(tmp_path.glob("*.AT2"))) == 6
    from gmlearn.waveform.records import read_at2

    acc, dt, _ = read_at2(tmp_path / "stochastic_M6.5_R20_V400_000_H1.AT2")
    assert dt == 0.01 and acc.size == int(round(lengths[0] / 0.01))


def test_generate_command_with_target(tmp_path):
    from gmlearn.cli import app

    result = CliRunner().invoke(app, ["waveforms", "generate", "--mag", "6", "--rrup", "30", "--vs30", "500", "-n",
                                      "3", "--model", "cgan", "-o", str(tmp_path), "--no-plots", "--formats", "npz",
                                      "--target", "BooreEtAl2014", "--rake", "90"])
    assert result.exit_code == 0, result.output
    data = np.load(tmp_path / "cgan_M6_R30_V500.npz")
    assert data["rake"] == 90.0 and data["acc"].shape[0] == 3


def test_generate_rejects_unknown_model(tmp_path):
    from gmlearn.cli import app

    result = CliRunner().invoke(app, ["waveforms", "generate", "--mag", "6", "--rrup", "20", "--vs30", "400",
                                      "--model", "vae", "-o", str(tmp_path)])
    assert result.exit_code != 0
    assert "vae" in result.output


def test_demo_contract(tmp_path):
    from gmlearn.waveform.demo import run

    messages = []
    out = run(tmp_path, progress=messages.append, n=4)
    assert set(out) == {"title", "paragraph", "files", "image"}
    assert (tmp_path / out["image"]).stat().st_size > 10_000
    assert all((tmp_path / f).exists() for f in out["files"])
    assert messages and "BSSA14" in out["paragraph"]
