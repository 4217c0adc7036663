"""Fixtures of the catalogue tests: the real GeoNet catalogues in ../shared/data."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "catalog_geonet_nz"
MLNZ20_FILES = ("MLNZ20_RapidEvents_2024.csv.gz", "MLNZ20_RapidEvents_2025.csv.gz", "MLNZ20_RapidEvents_2026.csv.gz")
CMT_FILE = "GeoNet_CMT_solutions.csv.gz"


@pytest.fixture(scope="session")
def geonet_dir() -> Path:
    """Folder of the GeoNet catalogues (fails, never skips, when missing)."""
    missing = [name for name in (*MLNZ20_FILES, CMT_FILE) if not (DATA / name).is_file()]
    if missing:
        pytest.fail(f"GeoNet catalogue files {missing} are missing from {DATA}; tests need ../shared/data beside the repository")
    return DATA


@pytest.fixture(scope="session")
def mlnz20_files(geonet_dir: Path) -> list[Path]:
    return [geonet_dir / name for name in MLNZ20_FILES]


@pytest.fixture(scope="session")
def geonet(mlnz20_files):
    """All three MLNZ20 files, deduplicated (53,060 events)."""
    from gmlearn.catalog.readers import read_mlnz20

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_mlnz20(mlnz20_files)


@pytest.fixture(scope="session")
def geonet_2025(mlnz20_files):
    """The 2025 file alone (20,761 events)."""
    from gmlearn.catalog.readers import read_mlnz20

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_mlnz20(mlnz20_files[1])


@pytest.fixture(scope="session")
def cmt(geonet_dir: Path):
    from gmlearn.catalog.readers import read_geonet_cmt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_geonet_cmt(geonet_dir / CMT_FILE)


def hmtk_catalogue(catalog, mags=None):
    """An OpenQuake hmtk Catalogue built from a canonical catalogue (same row order)."""
    from openquake.hmtk.seismicity.catalogue import Catalogue

    t = catalog["time"].dt
    data = {
        "eventID": catalog["event_id"].astype(str).to_numpy(),
        "year": t.year.to_numpy(), "month": t.month.to_numpy(), "day": t.day.to_numpy(),
        "hour": t.hour.to_numpy(), "minute": t.minute.to_numpy(),
        "second": t.second.to_numpy() + t.microsecond.to_numpy() / 1e6,
        "longitude": catalog["lon"].to_numpy(dtype=float), "latitude": catalog["lat"].to_numpy(dtype=float),
        "depth": catalog["depth"].to_numpy(dtype=float),
        "magnitude": catalog["mag"].to_numpy(dtype=float) if mags is None else mags,
    }
    return Catalogue.make_from_dict(data)


@pytest.fixture(scope="session")
def to_hmtk():
    return hmtk_catalogue
