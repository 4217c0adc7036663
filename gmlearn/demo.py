"""``gmlearn demo``: the end-to-end job on the bundled data.

Stages built so far: feature store from the bundled datasets, and the
yardstick evaluation (OpenQuake GMPEs vs a plain XGBoost on NZSMD crustal
records). Stages of products not built yet are absent, not faked.
Writes ``index.html`` linking every output with a paragraph on each.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path
from typing import Callable

import pandas as pd

from gmlearn._version import __version__
from gmlearn.store.atomic import atomic_write_bytes

__all__ = ["run_demo", "DEMO_IMTS", "DEMO_GMPES"]

DEMO_IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
DEMO_GMPES = ["ASK14", "BSSA14", "CB14", "CY14", "Bradley2013"]


def run_demo(
    out: str | Path = "gmlearn-demo",
    *,
    n_splits: int = 5,
    random_state: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Run the demo and return the path of ``index.html``.

    Parameters
    ----------
    out
        Output folder (created; an existing store inside is replaced).
    n_splits, random_state
        Cross-validation folds and seed of the XGBoost baseline.
    progress
        Optional ``callable(step, total, message)``.
    """
    from gmlearn import datasets
    from gmlearn.gmpe.yardstick import run_evaluation
    from gmlearn.store import FeatureStore

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    total = 3
    step = (lambda i, msg: progress(i, total, msg)) if progress else (lambda i, msg: None)

    step(0, "building the feature store")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = FeatureStore.create(out / "store", overwrite=True)
        for name in datasets.available():
            store.append(datasets.load(name), source=f"gmlearn.datasets:{name}")
    summary = store.describe()

    step(1, "evaluating GMPEs and XGBoost on NZSMD crustal records")
    table = store.to_frame(imts=DEMO_IMTS, dropna=False, tectonic_region="crustal")
    table = table[table["record_id"].isin(datasets.load("nzsmd")["record_id"])].reset_index(drop=True)

    def _inner(i: int, n: int, msg: str) -> None:
        if progress:
            progress(1, total, f"evaluating: {msg} ({i}/{n})")

    result = run_evaluation(table, DEMO_IMTS, DEMO_GMPES, out=out / "evaluation", n_splits=n_splits,
                            random_state=random_state, progress=_inner)
    step(2, "writing index.html")
    index = _write_index(out, summary, result.pivot("rms"), result.scores, len(table), table["event_id"].nunique(), n_splits)
    step(3, "done")
    return index


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(float_format=lambda v: f"{v:.3f}", na_rep="-", border=0, classes="scores")


def _write_index(out: Path, summary: dict, pivot: pd.DataFrame, scores: pd.DataFrame, n_rec: int, n_ev: int,
                 n_splits: int) -> Path:
    esc = html.escape
    sources = "".join(f"<li>{esc(s['source'])}: {s['rows']} records</li>" for s in summary["sources"])
    llh = scores.pivot(index="model", columns="imt", values="llh")[pivot.columns]
    plots = sorted(p.name for p in (out / "evaluation").glob("*.png"))
    imgs = "".join(f'<figure><img src="evaluation/{esc(p)}" alt="{esc(p)}"><figcaption>{esc(p)}</figcaption></figure>' for p in plots)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gmlearn demo</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}
table.scores{{border-collapse:collapse;margin:1em 0}} table.scores td,table.scores th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}
figure{{margin:1em 0}} img{{max-width:100%;border:1px solid #eee}} code{{background:#f4f4f4;padding:1px 4px}}
</style></head><body>
<h1>gmlearn {esc(__version__)} demo</h1>
<p>Produced by <code>gmlearn demo</code> (<code>make demo</code>) on the data bundled with gmlearn.</p>

<h2>1. Feature store</h2>
<p>The bundled datasets were validated and loaded into a feature store (<code>store/</code>): Parquet tables of
{summary['events']} events, {summary['stations']} stations and {summary['records']} records with ln intensity measures,
queried with DuckDB. Missing features (z1pt0, z2pt5, ztor, width, rx, ry0) were derived and flagged
<code>*_estimated</code>. Content hash <code>{esc(summary['content_hash'][:16])}</code>.</p>
<ul>{sources}</ul>

<h2>2. Yardstick: OpenQuake GMPEs vs a plain XGBoost</h2>
<p>Data: NZSMD crustal records ({n_rec} records, {n_ev} events; RotD50). Published GMPEs from OpenQuake hazardlib
are scored on every record; the plain XGBoost is scored on out-of-fold predictions from event-grouped {n_splits}-fold
cross-validation (no event is in both training and test). Total RMS of ln residuals (lower is better;
'-' where a GMPE does not define the IMT):</p>
{_table_html(pivot)}
<p>Average negative log-likelihood LLH (Scherbaum et al. 2009; lower is better):</p>
{_table_html(llh)}
<p>The full score table (bias, tau, phi, phi_S2S, phi_SS from a crossed random-effects fit of the residuals, RMS, LLH, EDR,
68/95 % coverage) is in <a href="evaluation/scores.csv">evaluation/scores.csv</a>. Residual-trend plots show the
between-event terms against magnitude and the within-event residuals against distance and vs30.</p>
{imgs}
</body></html>
"""
    return atomic_write_bytes(out / "index.html", page.encode())
