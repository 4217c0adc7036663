"""Flatfile unit sanity: PGA/SA levels against magnitude and distance, SA and PGV against PGA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import FlatfileError
from gmlearn.store.units import acc_factor
from gmlearn.store.validation import to_canonical

COLS = {"record_id": "rid", "event_id": "eid", "station_id": "sid", "mag": "M", "vs30": "Vs30", "rrup": "Rrup"}


@pytest.fixture(scope="module")
def linear(nzsmd_table) -> pd.DataFrame:
    """Real NZSMD records as a raw flatfile: PGA, SA in g, PGV in cm/s (linear)."""
    df = nzsmd_table.dropna(subset=["PGA", "PGV", "SA(1.0)", "SA(0.2)", "rrup"]).reset_index(drop=True)
    return pd.DataFrame({
        "rid": df["record_id"], "eid": df["event_id"], "sid": df["station_id"], "M": df["mag"], "Vs30": df["vs30"], "Rrup": df["rrup"],
        "PGA": np.exp(df["PGA"]), "SA02": np.exp(df["SA(0.2)"]), "SA1": np.exp(df["SA(1.0)"]), "PGV": np.exp(df["PGV"]),
    })


def _read(raw: pd.DataFrame, imts: dict[str, str], **kw) -> pd.DataFrame:
    return to_canonical(raw, COLS, imts, file="flat.csv", **kw)


ACC = {"PGA": "PGA", "SA(0.2)": "SA02", "SA(1.0)": "SA1"}


def test_real_data_in_g_passes(linear):
    out = _read(linear, {**ACC, "PGV": "PGV"})
    np.testing.assert_allclose(np.exp(out["PGA"]), linear["PGA"])


@pytest.mark.parametrize("with_pgv", [False, True])
def test_weak_motions_in_cm_s2_are_not_stored_as_g(linear, with_pgv):
    """cm/s² values <= 20 pass the 20 g range check; the level check names the unit, and its fix is right."""
    cms2 = linear.assign(**{c: linear[c] * 980.665 for c in ("PGA", "SA02", "SA1")})
    weak = cms2[(cms2[["PGA", "SA02", "SA1"]] <= 20).all(axis=1)].reset_index(drop=True)
    assert len(weak) > 100 and weak["PGA"].max() <= 20
    imts = {**ACC, **({"PGV": "PGV"} if with_pgv else {})}
    with pytest.raises(FlatfileError, match=r"column 'PGA'.*look like cm/s² \(gal\), not g.*acc_unit='cm/s2'") as info:
        _read(weak, imts)
    assert "PGV" not in str(info.value).split(":")[0]  # PGA is blamed, not PGV
    fixed = _read(weak, imts, acc_unit="cm/s2")  # the suggested fix ingests the right values
    expected = linear[(cms2[["PGA", "SA02", "SA1"]] <= 20).all(axis=1)].reset_index(drop=True)
    np.testing.assert_allclose(np.exp(fixed["PGA"]), expected["PGA"], rtol=1e-12)
    np.testing.assert_allclose(np.exp(fixed["SA(1.0)"]), expected["SA1"], rtol=1e-12)


def test_converting_twice_is_caught(linear):
    with pytest.raises(FlatfileError, match="already in g, not cm/s2"):
        _read(linear, ACC, acc_unit="cm/s2")


def test_pgv_ratio_blames_pga_when_pga_is_in_cm_s2(linear):
    """A file whose level check cannot decide (one strong event) is still caught by PGV/PGA, naming PGA."""
    raw = linear.assign(PGA=linear["PGA"] * 980.665)
    with pytest.raises(FlatfileError, match="PGA"):
        _read(raw, {"PGA": "PGA", "PGV": "PGV"})
    from gmlearn.store.units import _check_pgv_vs_pga

    lin = {"PGA": raw["PGA"].to_numpy(), "PGV": raw["PGV"].to_numpy()}
    with pytest.raises(FlatfileError, match="PGA looks like cm/s².*PGV is not the problem"):
        _check_pgv_vs_pga(lin, raw, {"PGA": "PGA", "PGV": "PGV"}, "flat.csv")


def test_pgv_in_m_s_is_still_blamed_on_pgv(linear):
    raw = linear.assign(PGV=linear["PGV"] / 100)
    with pytest.raises(FlatfileError, match="PGV looks like the wrong unit.*pgv_unit='m/s'"):
        _read(raw, {**ACC, "PGV": "PGV"})
    out = _read(raw, {**ACC, "PGV": "PGV"}, pgv_unit="m/s")
    np.testing.assert_allclose(np.exp(out["PGV"]), linear["PGV"], rtol=1e-12)


def test_sa_in_another_unit_than_pga(linear):
    raw = linear.assign(SA1=linear["SA1"] * 980.665)
    with pytest.raises(FlatfileError, match=r"column 'SA1'.*SA\(1.0\) looks like cm/s² while PGA is in g"):
        _read(raw, ACC)
    raw = linear.assign(PGA=linear["PGA"] * 980.665, SA1=linear["SA1"] * 980.665)  # only SA(0.2) in g
    with pytest.raises(FlatfileError, match="PGA"):
        _read(raw, ACC)


@pytest.mark.parametrize(("unit", "factor"), [("g", 1.0), ("gal", 1 / 980.665), ("cm/s^2", 1 / 980.665),
                                              ("M/S2", 1 / 9.80665)])
def test_acc_unit_spellings(unit, factor):
    assert acc_factor(unit) == pytest.approx(factor)


def test_unknown_acc_unit():
    with pytest.raises(ValueError, match="'acc_unit' parameter must be one of"):
        acc_factor("ft/s2")
