"""Shared fixtures: real data from ../shared/data and the bundled datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder (../shared/data next to the repository)."""
    if not SHARED.is_dir():
        pytest.fail(f"real data folder {SHARED} is missing; tests need ../shared/data beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def nzsmd_table():
    """Bundled NZSMD dataset (canonical flat table)."""
    from gmlearn import datasets

    return datasets.load("nzsmd")


@pytest.fixture(scope="session")
def nzsmd_crustal(nzsmd_table):
    """NZSMD crustal records with PGA, SA(1.0) observed, first 40 events (small, fast)."""
    df = nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"]
    events = df["event_id"].drop_duplicates().iloc[:40]
    return df[df["event_id"].isin(events)].reset_index(drop=True)
