import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import FlatfileError
from gmlearn.store.readers.nzsmd import nzsmd_period, read_nzsmd

FILE = "nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc.csv.gz"


@pytest.fixture(scope="module")
def nz(shared_data):
    with pytest.warns(UserWarning, match="WDFS"):
        return read_nzsmd(shared_data / FILE)


@pytest.fixture(scope="module")
def raw(shared_data):
    return pd.read_csv(shared_data / FILE, dtype={"CuspID": str, "Record": str, "SiteCode": str})


def test_counts(nz):
    assert len(nz) == 4284
    assert nz["event_id"].nunique() == 277
    assert nz["station_id"].nunique() == 415
    assert nz["tectonic_region"].value_counts().to_dict() == {"crustal": 2319, "slab": 1639, "interface": 326}


@pytest.mark.parametrize(("freq", "period"), [(100.0, 0.01), (33.3333, 0.03), (6.6667, 0.15), (1.3333, 0.75), (0.1333, 7.5), (0.1, 10.0)])
def test_frequency_labels_to_periods(freq, period):
    assert nzsmd_period(freq) == period


def test_imts_are_ln_in_store_units(nz, raw):
    assert [c for c in nz.columns if c.startswith(("PG", "SA"))][:4] == ["PGA", "PGV", "SA(0.01)", "SA(0.02)"]
    np.testing.assert_allclose(nz["PGA"], np.log(raw["PGA_RotD50"]), rtol=1e-12)
    pgv = raw["PGV_RotD50"].where(raw["PGV_RotD50"] != -99999)
    np.testing.assert_allclose(nz["PGV"], np.log(pgv * 100.0), rtol=1e-12)  # m/s -> cm/s
    sa1 = raw["f1.0000SA_RotD50"].where(raw["f1.0000SA_RotD50"] != -99999)
    np.testing.assert_allclose(nz["SA(1.0)"], np.log(sa1), rtol=1e-12)
    assert nz["SA(10.0)"].isna().sum() == (raw["f0.1000SA_RotD50"] == -99999).sum() == 3615


def test_metadata_mapping(nz, raw):
    assert nz["vs30measured"].sum() == (raw["Vs30Uncert"] == "Q1").sum() == 420
    assert nz["rx"].isna().sum() == 2587  # derived later, not invented by the reader
    assert nz["rake"].between(-180, 180).all()  # 257 deg wraps to -103 deg
    first = nz.iloc[0]
    assert (first["event_id"], first["station_id"], first["record_id"]) == ("1550210", "267A", "S68267A")
    assert first["mag"] == 7.23 and first["rrup"] == 14.27 and first["vs30"] == 333.0 and first["z1pt0"] == 30.0
    assert nz.loc[nz["station_id"] == "WDFS", "tsite"].isna().all()
    assert nz["tsite"].max() <= 20


@pytest.mark.parametrize(("file", "component", "rows"), [
    ("nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc_GeoMean.csv.gz", "GeoMean", 4284),
    ("nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc_vertical.csv.gz", "Vert", 3740),
    (FILE, "RotD100", 4284),
])
def test_other_components(shared_data, file, component, rows):
    with pytest.warns(UserWarning):
        df = read_nzsmd(shared_data / file, component=component, imts=["PGA", "SA(1.0)"])
    assert len(df) == rows and list(df.columns[-2:]) == ["PGA", "SA(1.0)"]


def test_wrong_component_for_file(shared_data):
    with pytest.raises(FlatfileError, match="GeoMean"):
        read_nzsmd(shared_data / FILE, component="GeoMean")
    with pytest.raises(ValueError, match="'component' parameter"):
        read_nzsmd(shared_data / FILE, component="rotd50")


def test_read_flatfile_sniffs_layout_and_component(shared_data):
    from gmlearn.store.readers import read_flatfile

    with pytest.warns(UserWarning):
        df = read_flatfile(shared_data / "nzsmd_flatfile/NZdatabase_flatfile_PSA_05pc_GeoMean.csv.gz", imts=["PGA"])
    assert df.attrs["format"] == "nzsmd" and df.attrs["component"] == "GeoMean" and len(df) == 4284
