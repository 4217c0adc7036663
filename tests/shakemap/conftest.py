"""Fixtures of the shakemap tests: small real inputs from the bundled NZSMD data."""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session")
def grassmere(nzsmd_table):
    """Records of the 2013 Mw 6.6 Lake Grassmere earthquake (99 records)."""
    return nzsmd_table[nzsmd_table["event_id"] == "2013p613797"].reset_index(drop=True)


@pytest.fixture(scope="session")
def grassmere_stations(grassmere):
    """Its station table (ln PGA and SA(1.0))."""
    from gmlearn.shakemap.stations import stations_from_records

    return stations_from_records(grassmere, ["PGA", "SA(1.0)"])


@pytest.fixture(scope="session")
def grassmere_rupture(grassmere):
    """Planar rupture from the NZSMD event parameters (hypocentre, strike, dip, rake, size)."""
    from gmlearn.shakemap.rupture import Rupture

    ev = grassmere.iloc[0]
    return Rupture.from_parameters(lon=ev["hypo_lon"], lat=ev["hypo_lat"], depth=ev["hypo_depth"], mag=ev["mag"],
                                   strike=ev["strike"], dip=ev["dip"], rake=ev["rake"], length=ev["length"],
                                   width=ev["width"])


@pytest.fixture(scope="session")
def bssa14():
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return OpenQuakeGMPE("BooreEtAl2014")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
