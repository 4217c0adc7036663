"""Virtual-rupture distances against finite-fault distances (bundled NGA-West2 subset).

Run from the repository root::

    python benchmarks/virtual_rupture.py

Data: the bundled NGA-West2 1000-record subset (996 records with PEER's
finite-fault rrup, rjb and rx). Each case removes the finite-fault
information a flatfile like ESM's often lacks, lets
:func:`gmlearn.store.derived.add_derived` rebuild the distances from a virtual
rupture (Kaklamanos, Baise & Boore 2011; OpenQuake ``PlanarSurface``), and
compares with PEER's values. Reference: the point-source stand-ins some
tools use (rjb = repi, rrup = rhypo). Records whose PEER rx is itself
estimated are left out of the rx rows. Prints a table and writes
benchmarks/results/virtual_rupture.json.
"""

from __future__ import annotations

import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gmlearn import datasets
from gmlearn.store.derived import add_derived

RESULTS = Path(__file__).resolve().parent / "results"
FINITE = ["rrup", "rjb", "rx", "ry0", "ztor", "width", "length"]

#: Case -> columns removed besides the finite-fault ones.
CASES: dict[str, list[str]] = {
    "strike, dip, rake, coordinates": [],
    "rake, coordinates (no strike, no dip)": ["strike", "dip"],
    "repi, rhypo only (no coordinates, strike, dip)": ["strike", "dip", "lon", "lat", "hypo_lon", "hypo_lat"],
}


def _machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _errors(est: np.ndarray, true: np.ndarray) -> dict[str, float]:
    err = np.abs(est - true)
    err = err[np.isfinite(err)]
    return {"n": int(err.size), "median_abs_km": float(np.median(err)), "p90_abs_km": float(np.percentile(err, 90))}


def main() -> int:
    table = datasets.load("ngawest2_subset")
    truth = table[["rrup", "rjb", "rx"]].to_numpy(dtype=float)
    rx_ok = ~table["rx_estimated"].to_numpy(dtype=bool)
    base = table.drop(columns=[c for c in table.columns if c in FINITE or c.endswith("_estimated")])
    rows: list[dict] = []
    for name, ref in (("rjb = repi", "repi"), ("rrup = rhypo", "rhypo")):
        target = "rjb" if name.startswith("rjb") else "rrup"
        rows.append({"case": "point source (reference)", "distance": target,
                     **_errors(table[ref].to_numpy(float), table[target].to_numpy(float))})
    timings = {}
    for case, extra in CASES.items():
        stripped = base.drop(columns=[c for c in extra if c in base.columns])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = add_derived(stripped)
        timings[case] = time.perf_counter() - t0
        for j, dist in enumerate(("rrup", "rjb", "rx")):
            keep = rx_ok if dist == "rx" else np.ones(len(out), bool)
            assert out[f"{dist}_estimated"].all()
            rows.append({"case": case, "distance": dist, **_errors(out[dist].to_numpy(float)[keep], truth[keep, j])})
    frame = pd.DataFrame(rows)
    print(f"NGA-West2 subset: {len(table)} records, {table['event_id'].nunique()} events")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    for case, sec in timings.items():
        print(f"  {case}: {sec:.1f} s")
    summary = {
        f"{r['case']} | {r['distance']}": {"median_abs_km": round(r["median_abs_km"], 3), "p90_abs_km": round(r["p90_abs_km"], 3)}
        for r in rows
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "virtual_rupture.json").write_text(json.dumps({
        "benchmark": "virtual_rupture",
        "command": "python benchmarks/virtual_rupture.py",
        "data": "gmlearn.datasets.load('ngawest2_subset'): 996 NGA-West2 records with PEER finite-fault distances",
        "machine": _machine(),
        "rows": rows,
        "summary": summary,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
