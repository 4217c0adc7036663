"""Build the small ESM-2018, eGSIM and NGA-West1 layout flatfiles of tests/store/data.

Run from the repository root::

    python data_recipes/build_flatfile_fixtures.py

The real ESM and eGSIM flatfiles are not redistributed here, so the fixtures
are *bundled NGA-West2 records renamed to those layouts*: three events of
``gmlearn.datasets.load("ngawest2_subset")`` (EQID 48 Coyote Lake, 53 and
103), their values written in each layout's names and units (ESM: ``;``
separated, accelerations in cm/s², station id split into network/station/
location codes, style of faulting as ``fm_type_code``). Layout quirks are
planted on purpose and documented in tests/store/data/README.md: one event
without a finite-fault model (blank rup_dist, JB_dist, Rx_dist, Ry0_dist,
es_*), one event with only ``Mw`` (no ``EMEC_Mw``), two stations with only
the Wald-Allen vs30, extra columns a reader must ignore.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn import datasets

OUT = Path(__file__).resolve().parents[1] / "tests" / "store" / "data"
EVENTS = ["48", "53", "103"]
NO_FINITE_FAULT = "53"
MW_ONLY = "103"
ESM_PERIODS = [0.01, 0.025, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 3.0, 4.0, 5.0]
G = 980.665


def _records() -> pd.DataFrame:
    table = datasets.load("ngawest2_subset")
    return table[table["event_id"].isin(EVENTS)].reset_index(drop=True)


def _fm_code(rake: float) -> str:
    if -30 <= rake <= 30 or abs(rake) >= 150:
        return "SS"
    return "TF" if rake > 0 else "NF"


def _period_tag(period: float) -> str:
    whole, frac = f"{period:.3f}".split(".")
    return f"T{whole}_{frac}"


def esm(rec: pd.DataFrame) -> pd.DataFrame:
    finite = rec["event_id"] != NO_FINITE_FAULT
    wa_only = rec.index.isin([1, 4])

    def blank_where(values: pd.Series, mask: np.ndarray) -> pd.Series:
        return values.astype(object).where(~mask, "")

    out = pd.DataFrame({
        "event_id": "NGA_" + rec["event_id"],
        "event_time": "1979-08-06 17:05:22",
        "ev_nation_code": "US",
        "ev_latitude": rec["hypo_lat"], "ev_longitude": rec["hypo_lon"], "ev_depth_km": rec["hypo_depth"],
        "fm_type_code": rec["rake"].map(_fm_code),
        "ML": (rec["mag"] - 0.2).round(2),
        "Mw": rec["mag"],
        "EMEC_Mw": blank_where(rec["mag"], (rec["event_id"] == MW_ONLY).to_numpy()),
        "es_strike": blank_where(rec["strike"], ~finite.to_numpy()),
        "es_dip": blank_where(rec["dip"], ~finite.to_numpy()),
        "es_rake": blank_where(rec["rake"], ~finite.to_numpy()),
        "es_z_top": blank_where(rec["ztor"].round(2), ~finite.to_numpy()),
        "es_width": blank_where(rec["width"].round(2), ~finite.to_numpy()),
        "network_code": "CI",
        "station_code": "S" + rec["station_id"],
        "location_code": np.where(rec.index % 3 == 0, "00", ""),
        "st_latitude": rec["lat"], "st_longitude": rec["lon"],
        "ec8_code": "B",
        "vs30_m_sec": blank_where(rec["vs30"], wa_only),
        "vs30_meas_type": np.where(wa_only, "", "from Vs profile"),
        "vs30_m_sec_WA": (rec["vs30"] * 1.1).round(1),
        "epi_dist": rec["repi"].round(2), "epi_az": 90.0,
        "JB_dist": blank_where(rec["rjb"].round(3), ~finite.to_numpy()),
        "rup_dist": blank_where(rec["rrup"].round(3), ~finite.to_numpy()),
        "Rx_dist": blank_where(rec["rx"].round(3), ~finite.to_numpy()),
        "Ry0_dist": blank_where(rec["ry0"].round(3), ~finite.to_numpy()),
        "U_pga": (np.exp(rec["PGA"]) * G * 1.05).round(4),
        "rotD50_pga": (np.exp(rec["PGA"]) * G).round(5),
        "rotD100_pga": (np.exp(rec["PGA"]) * G * 1.2).round(4),
        "rotD50_pgv": np.exp(rec["PGV"]).round(5),
    })
    for period in ESM_PERIODS:
        out[f"rotD50_{_period_tag(period)}"] = (np.exp(rec[f"SA({period!r})"]) * G).round(5)
    return out


def egsim(rec: pd.DataFrame) -> pd.DataFrame:
    finite = (rec["event_id"] != NO_FINITE_FAULT).to_numpy()
    out = pd.DataFrame({
        "evt_id": rec["event_id"], "sta_id": rec["station_id"], "evt_time": "1979-08-06T17:05:22",
        "evt_lat": rec["hypo_lat"], "evt_lon": rec["hypo_lon"], "evt_depth": rec["hypo_depth"],
        "magnitude": rec["mag"], "rake": rec["rake"], "dip": rec["dip"],
        "rupture_top_depth": rec["ztor"].where(finite).round(2), "rupture_width": rec["width"].where(finite).round(2),
        "sta_lat": rec["lat"], "sta_lon": rec["lon"], "vs30": rec["vs30"], "vs30measured": True,
        "z1": np.nan, "repi": rec["repi"].round(2), "rhypo": rec["rhypo"].round(2),
        "rrup": rec["rrup"].where(finite).round(3), "rjb": rec["rjb"].where(finite).round(3),
        "rx": rec["rx"].where(finite).round(3),
        "PGA": np.exp(rec["PGA"]).round(7), "PGV": np.exp(rec["PGV"]).round(5),
        "SA(0.2)": np.exp(rec["SA(0.2)"]).round(7), "SA(1.0)": np.exp(rec["SA(1.0)"]).round(7),
        "backarc": False,
    })
    return out


def ngawest1(rec: pd.DataFrame) -> pd.DataFrame:
    mech = rec["rake"].map(lambda r: {"SS": 0, "NF": 1, "TF": 2}[_fm_code(r)])
    out = pd.DataFrame({
        "Record Sequence Number": np.arange(1, len(rec) + 1), "EQID": rec["event_id"],
        "Earthquake Name": "Event " + rec["event_id"], "Station Sequence Number": rec["station_id"],
        "Earthquake Magnitude": rec["mag"], "Dip (deg)": rec["dip"], "Rake Angle (deg)": -999,
        "Mechanism Based on Rake Angle": mech,
        "Hypocenter Latitude (deg)": rec["hypo_lat"], "Hypocenter Longitude (deg)": rec["hypo_lon"],
        "Hypocenter Depth (km)": rec["hypo_depth"], "Depth to Top Of Fault Rupture Model": rec["ztor"].round(2),
        "Fault Rupture Width (km)": rec["width"].round(2), "Station Latitude": rec["lat"],
        "Station Longitude": rec["lon"], "Preferred Vs30 (m/s)": rec["vs30"], "Z1 (m)": -999,
        "EpiD (km)": rec["repi"].round(2), "HypD (km)": rec["rhypo"].round(2),
        "Joyner-Boore Dist. (km)": rec["rjb"].round(3), "Campbell R Dist. (km)": (rec["rrup"] + 1).round(3),
        "ClstD (km)": rec["rrup"].round(3), "PGA (g)": np.exp(rec["PGA"]).round(7),
        "PGV (cm/sec)": np.exp(rec["PGV"]).round(5), "T0.200S": np.exp(rec["SA(0.2)"]).round(7),
        "T1.000S": np.exp(rec["SA(1.0)"]).round(7),
    })
    return out


def main() -> None:
    rec = _records()
    OUT.mkdir(parents=True, exist_ok=True)
    esm(rec).to_csv(OUT / "esm2018_layout.csv", sep=";", index=False)
    egsim(rec).to_csv(OUT / "egsim_layout.csv", index=False)
    ngawest1(rec).to_csv(OUT / "ngawest1_layout.csv", index=False)
    print(f"wrote {len(rec)} records x 3 layouts to {OUT}")


if __name__ == "__main__":
    main()
