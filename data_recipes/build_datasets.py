"""Build the bundled datasets in gmlearn/datasets/data/ from ../shared/data.

Run from the repository root::

    python data_recipes/build_datasets.py [--shared ../shared/data]

Each dataset is read with gmlearn's own reader, completed with
gmlearn.store.derived.add_derived, and written as zstd-compressed Parquet;
registry.json records rows, SHA-256, citation, license and provenance.
This script is never imported by the package.
"""

from __future__ import annotations

import argparse
import hashlib
import warnings
from pathlib import Path

import pandas as pd

from gmlearn.store.atomic import atomic_write_json, atomic_write_with
from gmlearn.store.derived import add_derived
from gmlearn.store.readers.ngawest2 import read_ngawest2
from gmlearn.store.readers.nzsmd import read_nzsmd

OUT = Path(__file__).resolve().parents[1] / "gmlearn" / "datasets" / "data"

DATASETS = {
    "nzsmd": {
        "file": "nzsmd.parquet",
        "description": (
            "GeoNet New Zealand Strong Motion Database flatfile, RotD50 5%-damped PSA (22 periods 0.01-10 s), "
            "PGA and PGV; 4284 records of 277 events (1968-2016, Mw 3.5-7.8) at 415 stations; crustal, "
            "interface and slab events."
        ),
        "citation": (
            "Van Houtte, C., Bannister, S., Holden, C., Bourguignon, S. and McVerry, G. (2017). The New Zealand "
            "Strong Motion Database. Bull. NZ Soc. Earthq. Eng. 50(1), 1-20. Kaiser, A. et al. (2017). Site "
            "characterisation of GeoNet stations for the New Zealand Strong Motion Database. Bull. NZ Soc. "
            "Earthq. Eng. 50(1), 39-49. We acknowledge the New Zealand GeoNet project and its sponsors EQC, "
            "GNS Science and LINZ, for providing data used here."
        ),
        "license": "GeoNet data policy: free use with acknowledgement of GeoNet and its sponsors EQC, GNS Science and LINZ",
        "provenance": (
            "GeoNet/data repository, nzsmd-flatfiles/NZdatabase_flatfile_PSA_05pc.csv at commit "
            "de25c45975439aeab55b9bf3bf8e9a90a0f27fbb; read with gmlearn.store.readers.read_nzsmd "
            "(component RotD50, PGV m/s -> cm/s, -99999 -> missing, Tsite '>2' -> 2, station WDFS Tsite 70 s -> missing, "
            "Vs30 quality Q1 -> vs30measured), then add_derived (z2pt5 from vs30; rx where missing and ry0 from a "
            "planar rupture; flags *_estimated)."
        ),
    },
    "ngawest2_subset": {
        "file": "ngawest2_subset.parquet",
        "description": (
            "PEER NGA-West2 RotD50 subset: 996 records (RSN 1-2490) of 104 shallow crustal events, M 5.5-7.9, "
            "Rrup <= 80 km (4 of the 1000 records, RSN 463 and 465-467, lack Vs30 and a station and are dropped); PGA, PGV and 111 PSA periods 0.01-20 s. Ztor, width, z1pt0 and z2pt5 are derived "
            "(flagged), since this layout lacks them."
        ),
        "citation": (
            "Ancheta, T.D. et al. (2014). NGA-West2 Database. Earthquake Spectra 30(3), 989-1005; PEER Report 2013/03."
        ),
        "license": "PEER NGA-West2 terms of use; subset file from NHERI-SimCenter/GroundMotionUtilities (BSD-style license)",
        "provenance": (
            "NHERI-SimCenter/GroundMotionUtilities, SelectRecord/examples/NGAWest2-1000.csv at commit "
            "5dfaf5bc46276fcf94a83ad36b080fc41db29924; read with gmlearn.store.readers.read_ngawest2 "
            "(records without Vs30 dropped with a warning), then add_derived."
        ),
        "source_file": "ngawest2_flatfile_subsets/simcenter_NGAWest2-1000.csv.gz",
    },
}


def _write(df: pd.DataFrame, file: Path) -> str:
    atomic_write_with(file, lambda tmp: df.to_parquet(tmp, index=False, compression="zstd"))
    return hashlib.sha256(file.read_bytes()).hexdigest()


def build(shared: Path) -> dict:
    """Build every dataset and return the registry."""
    tables = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nz = read_nzsmd(shared / "nzsmd_flatfile" / "NZdatabase_flatfile_PSA_05pc.csv.gz")
        tables["nzsmd"] = add_derived(nz)
        ngaw = read_ngawest2(shared / DATASETS["ngawest2_subset"]["source_file"])
        tables["ngawest2_subset"] = add_derived(ngaw)
    for w in caught:
        print(f"warning: {w.message}")
    registry = {}
    for name, df in tables.items():
        meta = {k: v for k, v in DATASETS[name].items() if k != "source_file"}
        df = df.reset_index(drop=True)
        df.attrs = {}
        sha = _write(df, OUT / meta["file"])
        registry[name] = {**meta, "rows": int(len(df)), "events": int(df["event_id"].nunique()),
                          "stations": int(df["station_id"].nunique()), "sha256": sha}
        print(f"{name}: {len(df)} rows, {(OUT / meta['file']).stat().st_size / 1e6:.2f} MB")
    atomic_write_json(OUT / "registry.json", {"format_version": 1, "datasets": registry})
    return registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    build(args.shared)


if __name__ == "__main__":
    main()
