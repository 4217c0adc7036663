"""Readers of PEER AT2 and FEMA P695 records, metadata join, malformed files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from gmlearn.exceptions import FlatfileError
from gmlearn.waveform.errors import RecordFormatError
from gmlearn.waveform.records import read_at2, read_fema_csv, read_fema_folder


def test_read_at2_real_file(peer_folder):
    acc, dt, header = read_at2(peer_folder / "records" / "RSN20_NCALIF.FH_H-FRN044.AT2.gz")
    assert dt == pytest.approx(0.005)
    assert acc.size == 8000
    # PROVENANCE: RSN20 H1 max|a| equals the tabulated PSA(0.01 s) 0.1634 g
    assert np.max(np.abs(acc)) == pytest.approx(0.1634, abs=5e-4)
    assert "Ferndale" in header["title"]


def test_peer_folder_join(peer_records):
    rec = {r.record_id: r for r in peer_records}["20"]
    from gmlearn import datasets

    table = datasets.load("ngawest2_subset")
    row = table[table["record_id"].astype(str) == "20"].iloc[0]
    assert rec.event_id == str(row["event_id"])
    assert rec.meta["mag"] == pytest.approx(6.5)
    assert rec.meta["rrup"] == pytest.approx(float(row["rrup"]))
    assert rec.acc.shape == (3, 8000) and rec.has_component.all()


def test_fema_folder(shared_data):
    recs = read_fema_folder(shared_data / "waveforms_fema_p695")
    assert len(recs) == 50
    assert all(r.has_component.tolist() == [True, True, False] for r in recs)
    r953 = next(r for r in recs if r.record_id == "953")
    assert np.nanmax(np.abs(r953.acc)) == pytest.approx(0.516457, rel=1e-4)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("PEER\nx\nACCELERATION TIME SERIES IN UNITS OF G\nNPTS 10 DT .01\n1 2 3\n", "NPTS="),
        ("PEER\nx\nACCELERATION TIME SERIES IN UNITS OF G\nNPTS=   17, DT=   .0100 SEC\n" + "1 " * 16 + "\n", "NPTS=17 but 16"),
        ("PEER\nx\nACCELERATION TIME SERIES IN UNITS OF G\nNPTS=   16, DT=   .0100 SEC\n1 abc " + "3 " * 14 + "\n", "'abc'"),
        ("PEER\nx\nACCELERATION TIME SERIES IN UNITS OF G\nNPTS=   16, DT=   -.01 SEC\n" + "1 " * 16 + "\n", "DT must be a time step"),
        ("PEER\nx\n", "4 header lines"),
    ],
)
def test_malformed_at2(tmp_path, body, fragment):
    path = tmp_path / "bad.AT2.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(body)
    with pytest.raises(RecordFormatError) as info:
        read_at2(path)
    assert fragment in str(info.value)
    assert "bad.AT2.gz" in str(info.value)
    assert isinstance(info.value, (FlatfileError, ValueError))


def test_malformed_fema_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,acc\n0,1\n")
    with pytest.raises(RecordFormatError, match="time_s,acc_g"):
        read_fema_csv(path)
    path.write_text("time_s,acc_g\n0,1\n0.01,2\n0.05,3\n")
    with pytest.raises(RecordFormatError, match="uniform"):
        read_fema_csv(path)
