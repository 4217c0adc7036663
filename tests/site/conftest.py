"""Fixtures of the site tests: bundled NZSMD crustal records and the NZ GMPE of OpenQuake."""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture(scope="session")
def crustal(nzsmd_table):
    return nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"].reset_index(drop=True)


@pytest.fixture(scope="session")
def bradley():
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return OpenQuakeGMPE("Bradley2013")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
