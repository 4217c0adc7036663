"""Disaggregation and conditional spectra read from the datastore into tables and exported as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openquake.hazardlib")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "hazard_classical"


def test_disaggregation_table_and_csv(tmp_path: Path) -> None:
    from gmlearn import hazard

    result = hazard.run(EXAMPLE / "job_disaggregation.ini", data_dir=tmp_path / "oq", export_dir=tmp_path / "out",
                        plots=False)
    table = pd.read_csv(tmp_path / "out" / "disaggregation.csv")
    assert len(table) == len(result.disaggregation) > 100
    assert set(table["output"]) == {"Mag", "Dist", "Mag_Dist", "Mag_Dist_Eps"}
    assert set(table["kind"]) == {"mean", "rlz-000", "rlz-001"} and set(table["imt"]) == {"PGA"}
    # each output spreads the target probability of exceedance (10 % in 50 years) over its bins
    totals = table.groupby(["kind", "output"])["prob"].sum()
    np.testing.assert_allclose(totals, 0.1, rtol=0.1)
    mag = table[(table["output"] == "Mag") & (table["kind"] == "mean")]
    assert mag["dist"].isna().all() and sorted(mag["mag"]) == [5.25, 5.75, 6.25, 6.75]  # 0.5-wide bins, Mw 5-7
    eps = table[table["output"] == "Mag_Dist_Eps"]
    assert sorted(eps["eps"].unique()) == [-2.0, 0.0, 2.0]  # truncation 3, three bins
    # the two branches are the same GMPE (native and as a gmlearn model): the same disaggregation
    a, b = (table[table["kind"] == k]["prob"].to_numpy() for k in ("rlz-000", "rlz-001"))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)


def test_conditional_spectra_table_and_csv(tmp_path: Path) -> None:
    from gmlearn import hazard

    result = hazard.run(EXAMPLE / "job_conditional_spectrum.ini", data_dir=tmp_path / "oq",
                        export_dir=tmp_path / "out", plots=False)
    cs = pd.read_csv(tmp_path / "out" / "conditional_spectra.csv")
    assert len(cs) == len(result.conditional_spectra) == 3 * 3 * 2  # kinds (mean, 2 rlzs) x periods x poes
    assert list(cs.columns) == ["site_id", "lon", "lat", "kind", "poe", "period", "median", "sigma_ln"]
    mean = cs[cs["kind"] == "mean"].set_index(["poe", "period"])
    maps = result.hazard_maps[(result.hazard_maps["kind"] == "mean") & (result.hazard_maps["imt"] == "SA(1.0)")]
    for poe in (0.1, 0.02):
        # conditioned on SA(1.0): at that period the spectrum is the hazard level itself, with almost no spread
        iml = float(maps[np.isclose(maps["poe"], poe)]["iml"].iloc[0])
        assert mean.loc[(poe, 1.0), "median"] == pytest.approx(iml, rel=0.05)
        assert mean.loc[(poe, 1.0), "sigma_ln"] < 0.05 < 0.3 < mean.loc[(poe, 0.2), "sigma_ln"]
    assert (mean.xs(0.02)["median"] > mean.xs(0.1)["median"]).all()  # rarer hazard, larger spectrum
