"""AT2 and FEMA P695 headers: every unit spelling recognised or refused, sampling limits, non-finite values."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from gmlearn.waveform.errors import RecordFormatError
from gmlearn.waveform.records import at2_unit, read_at2, read_fema_csv

G_TO_CM = 980.665


@pytest.fixture(scope="module")
def real_at2(shared_data) -> Path:
    return shared_data / "waveforms_peer_at2" / "records" / "RSN125_FRIULI.A_A-TMZ000.AT2.gz"


def _rewrite(src: Path, dst: Path, *, line3: str | None = None, line4: str | None = None, scale: float = 1.0) -> Path:
    lines = gzip.open(src, "rt", encoding="latin-1").read().splitlines()
    if line3 is not None:
        lines[2] = line3
    if line4 is not None:
        lines[3] = line4
    if scale != 1.0:
        values = np.array(" ".join(lines[4:]).split(), dtype=float) * scale
        lines = lines[:4] + [" ".join(f"{v:.7E}" for v in values[i:i + 5]) for i in range(0, len(values), 5)]
    with gzip.open(dst, "wt", encoding="latin-1") as fh:
        fh.write("\n".join(lines) + "\n")
    return dst


@pytest.mark.parametrize(("line", "unit"), [
    ("ACCELERATION TIME SERIES IN UNITS OF G", "g"),
    ("Acceleration time series in units of g (average)", "g"),
    ("UNITS OF GAL", "cm/s2"),
    ("ACCELERATION IN GALS", "cm/s2"),
    ("CM/S/S (AVERAGE)", "cm/s2"),
    ("ACCELERATION IN CM/SEC/SEC", "cm/s2"),
    ("acceleration in cm/s^2", "cm/s2"),
    ("ACC (CM/S**2)", "cm/s2"),
    ("ACCELERATION IN M/S/S", "m/s2"),
    ("units: m/s2", "m/s2"),
    ("MM/S/S", "mm/s2"),
])
def test_unit_spellings_are_recognised(line, unit):
    assert at2_unit(line)[0] == unit


@pytest.mark.parametrize("line", ["ACCELERATION TIME SERIES", "UNITS OF FT/S/S", "UNITS OF G OR CM/S/S", "AVERAGE"])
def test_unknown_or_ambiguous_units_are_refused(line):
    with pytest.raises(ValueError, match="line 3 states"):
        at2_unit(line)


@pytest.mark.parametrize(("line3", "scale"), [
    ("ACCELERATION TIME SERIES IN UNITS OF G", 1.0),
    ("UNITS OF GAL", G_TO_CM),
    ("CM/S/S (AVERAGE)", G_TO_CM),
    ("ACCELERATION IN M/S/S", G_TO_CM / 100),
])
def test_values_in_any_unit_come_back_in_g(real_at2, tmp_path, line3, scale):
    reference, dt, _ = read_at2(real_at2)
    acc, dt2, header = read_at2(_rewrite(real_at2, tmp_path / "r.AT2.gz", line3=line3, scale=scale))
    assert dt2 == dt
    np.testing.assert_allclose(acc, reference, rtol=1e-6, atol=1e-12)
    assert header["unit"] == at2_unit(line3)[0]


@pytest.mark.parametrize(("line4", "match"), [
    ("NPTS=   7278, DT=   1e-300 SEC", "DT must be a time step in s between 0.0001 and 1"),
    ("NPTS=   7278, DT=   1e6 SEC", "DT must be a time step"),
    ("NPTS=   7278, DT=   nan SEC", "line 4 must read"),
    ("NPTS=   0, DT=   .0050 SEC", "NPTS must be between 16"),
    ("NPTS=   99999999999, DT=   .0050 SEC", "NPTS must be between"),
])
def test_sampling_limits(real_at2, tmp_path, line4, match):
    with pytest.raises(RecordFormatError, match=match):
        read_at2(_rewrite(real_at2, tmp_path / "r.AT2.gz", line4=line4))


def _fema(path: Path, values: list[str], header: str = "time_s,acc_g") -> Path:
    rows = [f"{0.01 * i:.2f},{v}" for i, v in enumerate(values)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN"])
def test_fema_non_finite_values_are_refused(tmp_path, bad):
    values = ["0.01"] * 40
    values[7] = bad
    with pytest.raises(RecordFormatError, match=r"row 9.*must be finite numbers; 1 row\(s\) hold NaN or inf"):
        read_fema_csv(_fema(tmp_path / "f.csv", values))


def test_fema_other_units_and_short_records_are_refused(tmp_path):
    with pytest.raises(RecordFormatError, match="header must be 'time_s,acc_g'"):
        read_fema_csv(_fema(tmp_path / "a.csv", ["1.0"] * 40, header="time_s,acc_cm_s2"))
    with pytest.raises(RecordFormatError, match="NPTS must be between 16"):
        read_fema_csv(_fema(tmp_path / "b.csv", ["0.01"] * 5))
    acc, dt = read_fema_csv(_fema(tmp_path / "c.csv", ["0.01"] * 40))
    assert acc.shape == (40,) and dt == pytest.approx(0.01)


@pytest.mark.parametrize(("kind", "match"), [("nan", "finite"), ("short", "NPTS must be between 16"),
                                             ("dt", "DT must be a time step")])
def test_text_and_npz_components_have_the_same_limits(tmp_path, kind, match):
    from gmlearn.waveform.records import read_component

    n, dt = (5, 0.01) if kind == "short" else (40, 5.0 if kind == "dt" else 0.01)
    acc = np.full(n, 0.01)
    if kind == "nan":
        acc[3] = np.nan
    text = tmp_path / "c.txt"
    text.write_text("\n".join(f"{dt * i:.4f} {a}" for i, a in enumerate(acc)) + "\n")
    with pytest.raises(RecordFormatError, match=match):
        read_component(text)
    np.savez(tmp_path / "c.npz", acc=acc, dt=dt)
    with pytest.raises(RecordFormatError, match=match):
        read_component(tmp_path / "c.npz")
