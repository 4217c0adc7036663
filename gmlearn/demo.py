"""``gmlearn demo``: the end-to-end job on the bundled data, as a list of stages.

Stages, in order (:data:`STAGES`):

1. ``store`` — feature store from the bundled datasets;
2. ``train`` — a ``TreeGMM`` and a ``HybridGMM`` (BSSA14 base) on NZSMD crustal records, saved as folders;
3. ``evaluation`` — event-grouped cross-validation of both against OpenQuake GMPEs and a plain XGBoost;
4. ``shakemap`` — the 2016 Kaikoura shakemap, from :mod:`gmlearn.shakemap.demo` when that module exists;
5. ``hazard`` — classical PSHA on OpenQuake's demo area source with the demo's tree model as a logic-tree branch;
6. ``explain`` — the SHAP report of the hybrid model;
7. ``waveforms`` — generated waveforms, from :mod:`gmlearn.waveform.demo` when that module exists.

A stage whose product is not built yet (its module is missing) is absent
from ``index.html``, never faked. ``index.html`` links every product with a
paragraph on each; ``demo.json`` records the stages that ran and their times.
A stage whose optional dependency is not installed (``explain`` without
``gmlearn[explain]``) is skipped, and ``demo.json`` names the extra under
``skipped``. The hazard stage's job comes from :mod:`gmlearn.hazard.examples`
(package data in a wheel), so an installed gmlearn runs the demo anywhere.
"""

from __future__ import annotations

import base64
import html
import importlib
import resource
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from gmlearn._version import __version__
from gmlearn.extras import missing_extra_message
from gmlearn.store.atomic import atomic_write_bytes, atomic_write_json

__all__ = ["run_demo", "DEMO_IMTS", "DEMO_GMPES", "STAGES", "Product"]

DEMO_IMTS = ["PGA", "PGV", "SA(0.2)", "SA(1.0)", "SA(3.0)"]
DEMO_GMPES = ["ASK14", "BSSA14", "CB14", "CY14", "Bradley2013"]
#: Names of the stages, in the order they run.
STAGES: tuple[str, ...] = ("store", "train", "evaluation", "shakemap", "hazard", "explain", "waveforms")
#: Modules of the products built by other packages: ``run(out, ...) -> dict``.
EXTERNAL: dict[str, str] = {"shakemap": "gmlearn.shakemap.demo", "waveforms": "gmlearn.waveform.demo"}

Progress = Callable[[int, int, str], None]


@dataclass
class Product:
    """One product of the demo, as ``index.html`` shows it.

    Attributes
    ----------
    stage
        Stage name.
    title
        Heading.
    paragraph
        One paragraph (plain text) on what the product is and how it was made.
    files
        Paths relative to the demo folder.
    image
        A PNG (relative path) shown in the index, or None.
    html
        Extra HTML (tables) of built-in stages.
    """

    stage: str
    title: str
    paragraph: str
    files: list[str] = field(default_factory=list)
    image: str | None = None
    html: str = ""


@dataclass
class _Context:
    out: Path
    quick: bool
    n_splits: int
    random_state: int
    tick: Callable[[str], None]
    summary: dict[str, Any] | None = None
    table: pd.DataFrame | None = None
    models: dict[str, Any] = field(default_factory=dict)

    def records(self) -> pd.DataFrame:
        """NZSMD crustal records (from the store when built, else from the bundled dataset)."""
        if self.table is None:
            from gmlearn import datasets

            nz = datasets.load("nzsmd")
            self.table = nz[nz["tectonic_region"] == "crustal"].reset_index(drop=True)
        return self.table

    def model(self, kind: str) -> Any:
        if kind not in self.models:
            self.models[kind] = _fit(kind, self.records(), self.quick, self.random_state)
        return self.models[kind]


def _factory(kind: str, quick: bool, random_state: int) -> Any:
    from gmlearn.gmpe.hybrid import HybridGMM
    from gmlearn.gmpe.tree import TreeGMM

    fast = {"n_estimators": 80, "learning_rate": 0.2, "validation_fraction": 0.0, "n_jobs": 1} if quick else {
        "learning_rate": 0.1}
    if kind == "hybrid":
        return HybridGMM("BooreEtAl2014", random_state=random_state, **fast)
    return TreeGMM(random_state=random_state, **fast)


def _fit(kind: str, table: pd.DataFrame, quick: bool, random_state: int) -> Any:
    imts = DEMO_IMTS[:2] + ["SA(1.0)"] if quick else DEMO_IMTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _factory(kind, quick, random_state).fit(table, imts)


# -- stages -----------------------------------------------------------------------------------
def _stage_store(ctx: _Context) -> Product:
    from gmlearn import datasets
    from gmlearn.store import FeatureStore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = FeatureStore.create(ctx.out / "store", overwrite=True)
        for name in ["nzsmd"] if ctx.quick else datasets.available():
            ctx.tick(f"loading {name}")
            store.append(datasets.load(name), source=f"gmlearn.datasets:{name}")
    s = ctx.summary = store.describe()
    table = store.to_frame(imts=DEMO_IMTS, dropna=False, tectonic_region="crustal")
    ctx.table = table[table["record_id"].isin(datasets.load("nzsmd")["record_id"])].reset_index(drop=True)
    sources = "".join(f"<li>{html.escape(x['source'])}: {x['rows']} records</li>" for x in s["sources"])
    return Product("store", "Feature store", (
        f"The bundled datasets were validated and loaded into a feature store: Parquet tables of {s['events']} events, "
        f"{s['stations']} stations and {s['records']} records with ln intensity measures, queried with DuckDB. Missing "
        "features (z1pt0, z2pt5, ztor, width, rx, ry0) were derived and flagged *_estimated. Content hash "
        f"{s['content_hash'][:16]}."), ["store/manifest.json"], html=f"<ul>{sources}</ul>")


def _stage_train(ctx: _Context) -> Product:
    from gmlearn.gmpe.persistence import save_model

    table = ctx.records()
    files = []
    for kind in ("tree", "hybrid"):
        ctx.tick(f"training {kind}")
        model = ctx.model(kind)
        save_model(model, ctx.out / "models" / kind, training_hash=(ctx.summary or {}).get("content_hash"), overwrite=True)
        files.append(f"models/{kind}/metadata.json")
    rows = {k: {f"tau {i}": m.effects_[i]["tau"] for i in m.imts_} | {f"phi {i}": m.effects_[i]["phi"] for i in m.imts_}
            for k, m in ctx.models.items()}
    tab = pd.DataFrame(rows).T
    return Product("train", "Trained models: tree and hybrid", (
        f"Two mixed-effects regressors were trained on NZSMD crustal records ({len(table)} records, "
        f"{table['event_id'].nunique()} events) for {', '.join(ctx.models['tree'].imts_)}: TreeGMM (gradient-boosted "
        "trees with event and station random effects) and HybridGMM (OpenQuake's BooreEtAl2014 plus a learned residual "
        "correction that fades outside the training range). Each is saved as a folder of data: metadata.json with "
        "features, training ranges and variance components, one XGBoost booster per IMT, and the random-effect terms."
    ), files, html=_table_html(tab))


def _stage_evaluation(ctx: _Context) -> Product:
    from gmlearn.evaluation.compare import compare_models, default_models
    from gmlearn.evaluation.plots import plot_model_comparison, plot_residual_trends
    from gmlearn.evaluation.yardstick import resolve_gmpes
    from gmlearn.gmpe.persistence import save_model
    from gmlearn.store.atomic import atomic_write_with

    table = ctx.records()
    imts = ctx.models["tree"].imts_ if "tree" in ctx.models else DEMO_IMTS
    gmpes = ["BSSA14", "Bradley2013"] if ctx.quick else DEMO_GMPES
    models = default_models(resolve_gmpes(gmpes), xgboost=not ctx.quick, random_state=ctx.random_state)
    for kind, label in (("tree", "TreeGMM"), ("hybrid", "HybridGMM")):
        models[label] = lambda k=kind: _factory(k, ctx.quick, ctx.random_state)
    with warnings.catch_warnings():  # out-of-range folds are expected in cross-validation
        warnings.simplefilter("ignore")
        result = compare_models(table, imts, models, n_splits=ctx.n_splits, random_state=ctx.random_state,
                                progress=lambda i, n, m: ctx.tick(f"{m} ({i + 1}/{n})"))
    out = ctx.out / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_with(out / "scores.csv", lambda tmp: result.scores.to_csv(tmp, index=False, float_format="%.4f"))
    plot_model_comparison(result.scores, out / "rms.png")
    files = ["evaluation/scores.csv", "evaluation/rms.png"]
    if "hybrid" in ctx.models:
        plot_residual_trends(table, result.predictions["HybridGMM"], imts, out / "residuals_HybridGMM.png",
                             title="HybridGMM (out-of-fold): residual trends")
        files.append("evaluation/residuals_HybridGMM.png")
    rms = result.pivot("rms")
    for kind, label in (("tree", "TreeGMM"), ("hybrid", "HybridGMM")):  # keep the CV scores with the saved models
        if kind in ctx.models and (ctx.out / "models" / kind).is_dir():
            metrics = {"cv_rms": {i: float(rms.loc[label, i]) for i in rms.columns}, "cv_folds": ctx.n_splits}
            save_model(ctx.models[kind], ctx.out / "models" / kind, training_hash=(ctx.summary or {}).get("content_hash"),
                       metrics=metrics, overwrite=True)
    return Product("evaluation", "Evaluation: learned models against OpenQuake GMPEs", (
        f"NZSMD crustal records ({len(table)} records, {table['event_id'].nunique()} events; RotD50). Published GMPEs "
        "from OpenQuake hazardlib are scored on every record; the learned models (TreeGMM, HybridGMM"
        f"{'' if ctx.quick else ', plain XGBoost'}) on out-of-fold predictions of event-grouped {ctx.n_splits}-fold "
        "cross-validation, so no event is in both training and test. The table gives the total RMS of ln residuals "
        "(lower is better; '-' where a GMPE does not define the IMT); scores.csv adds bias, tau, phi, LLH, EDR and "
        "coverage."), files, image="evaluation/rms.png", html=_table_html(rms))


def _stage_hazard(ctx: _Context) -> Product:
    import tempfile

    from gmlearn import hazard
    from gmlearn.hazard.examples import example_dir

    src = example_dir("hazard_classical")  # package data in a wheel, docs/examples in a checkout
    job = ctx.out / "hazard" / "job"
    shutil.rmtree(job, ignore_errors=True)
    job.mkdir(parents=True)
    for name in ("job.ini", "source_model.xml", "source_model_logic_tree.xml"):
        shutil.copy2(src / name, job / name)
    from gmlearn.gmpe.persistence import save_model

    save_model(ctx.model("tree"), job / "models" / "tree", overwrite=True)
    atomic_write_bytes(job / "gmpe_logic_tree.xml", _LOGIC_TREE.encode())
    params = {"region_grid_spacing": "40.0" if ctx.quick else "20.0"}
    ctx.tick("running OpenQuake (classical PSHA)")
    with tempfile.TemporaryDirectory() as data, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = hazard.run(job / "job.ini", export_dir=ctx.out / "hazard", data_dir=data, params=params,
                            progress=lambda m: ctx.tick(m[:60]))
    files = sorted(p.relative_to(ctx.out).as_posix() for p in result.exported)
    image = next((f for f in files if f.endswith("hazard_curves.png")), None)
    return Product("hazard", "Classical PSHA with the tree model in OpenQuake", (
        f"OpenQuake's demo AreaSourceClassicalPSHA source model (one area source, Mw 5-6.5, Active Shallow Crust) on "
        f"{len(result.sites)} sites, 50 years, PGA and SA(1.0), run in process through gmlearn's adapter "
        "(gmlearn.hazard.run). The GMPE logic tree has two branches of weight 0.5: OpenQuake's native BooreEtAl2014 "
        "and the demo's TreeGMM as [GMLearnGSIM] (hazard/job/gmpe_logic_tree.xml). Hazard curves, maps at 10 % and 2 % "
        f"in 50 years and uniform hazard spectra are exported as CSV and PNG; the run took {result.timings['wall']:.1f} s."
    ), files, image=image)


_LOGIC_TREE = """<?xml version="1.0" encoding="UTF-8"?>
<nrml xmlns:gml="http://www.opengis.net/gml" xmlns="http://openquake.org/xmlns/nrml/0.4">
  <logicTree logicTreeID="lt1">
    <logicTreeBranchSet uncertaintyType="gmpeModel" branchSetID="bs1"
                        applyToTectonicRegionType="Active Shallow Crust">
      <logicTreeBranch branchID="native">
        <uncertaintyModel>BooreEtAl2014</uncertaintyModel>
        <uncertaintyWeight>0.5</uncertaintyWeight>
      </logicTreeBranch>
      <logicTreeBranch branchID="gmlearn_tree">
        <uncertaintyModel>[GMLearnGSIM]
          model_file = "models/tree/metadata.json"</uncertaintyModel>
        <uncertaintyWeight>0.5</uncertaintyWeight>
      </logicTreeBranch>
    </logicTreeBranchSet>
  </logicTree>
</nrml>
"""


def _stage_explain(ctx: _Context) -> Product:
    from gmlearn.explain.figures import beeswarm_png
    from gmlearn.explain.report import write_report

    table = ctx.records()
    model = ctx.model("hybrid")
    report = write_report(model, table, ctx.out / "explain" / "report.html", imt="PGA",
                          data_label=f"NZSMD crustal records of the demo store ({len(table)} records)",
                          max_rows=100 if ctx.quick else 400, random_state=ctx.random_state,
                          command="gmlearn demo", progress=lambda i, n, m: ctx.tick(m))
    atomic_write_bytes(ctx.out / "explain" / "beeswarm.png", beeswarm_png(report.explanations["PGA"]))
    warned = f" The report lists {len(report.warnings)} warning(s) at its top." if report.warnings else ""
    return Product("explain", "Why the hybrid model predicts what it does (SHAP report)", (
        "A self-contained HTML report (images embedded, no network) explaining HybridGMM with exact Tree SHAP values of "
        "its residual learner on top of the BooreEtAl2014 base term, in ln units on features in physical units: global "
        "importance, a beeswarm, dependence on magnitude, distance and vs30 with BSSA14's scaling drawn beside them, "
        "interactions, waterfalls answering 'why is PGA at this station this value?', residual plots and the model "
        f"card (training data, ranges, cross-validation RMS). Data: {len(report.explanations['PGA'].data)} NZSMD "
        f"crustal records. Command: gmlearn explain models/hybrid --data nzsmd -o report.html.{warned}"
    ), ["explain/report.html"], image="explain/beeswarm.png")


def _stage_external(name: str) -> Callable[[_Context], Product | None]:
    def stage(ctx: _Context) -> Product | None:
        module = EXTERNAL[name]
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # the product is not built yet: the stage is absent
            if exc.name is not None and module.startswith(exc.name):
                return None
            raise

        def progress(*args: Any) -> None:
            ctx.tick(str(args[-1]) if args else "")

        folder = ctx.out / name
        kwargs: dict[str, Any] = {"progress": progress}
        if name == "shakemap":
            kwargs["model"] = ctx.model("hybrid")
        got = mod.run(folder, **kwargs)
        return _external_product(name, folder, got)

    return stage


def _external_product(name: str, folder: Path, got: Any) -> Product:
    missing = [k for k in ("title", "paragraph", "files") if not isinstance(got, dict) or k not in got]
    if missing:
        msg = f"{EXTERNAL[name]}.run returned {type(got).__name__} without {missing}; it must return a dict with title, paragraph, files and image."
        raise ValueError(msg)
    rel = folder.name
    files = [f"{rel}/{Path(f).as_posix()}" for f in got["files"]]
    image = f"{rel}/{Path(got['image']).as_posix()}" if got.get("image") else None
    absent = [f for f in [*files, *([image] if image else [])] if not (folder.parent / f).is_file()]
    if absent:
        msg = f"{EXTERNAL[name]}.run listed file(s) {absent} that it did not write."
        raise ValueError(msg)
    return Product(name, str(got["title"]), str(got["paragraph"]), files, image)


_RUNNERS: dict[str, Callable[[_Context], Product | None]] = {
    "store": _stage_store, "train": _stage_train, "evaluation": _stage_evaluation, "shakemap": _stage_external("shakemap"),
    "hazard": _stage_hazard, "explain": _stage_explain, "waveforms": _stage_external("waveforms"),
}


def run_demo(
    out: str | Path = "gmlearn-demo",
    *,
    n_splits: int = 5,
    random_state: int = 0,
    quick: bool = False,
    stages: list[str] | tuple[str, ...] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Run the demo and return the path of ``index.html``.

    Parameters
    ----------
    out
        Output folder (created; earlier products inside are replaced).
    n_splits, random_state
        Cross-validation folds and seed of the models.
    quick
        Small settings (fewer trees, two GMPEs, no plain XGBoost, three IMTs, a coarse hazard grid): for tests.
    stages
        Stages to run (default: all of :data:`STAGES`); a stage that needs a model trains it.
    progress
        Optional ``callable(step, total, message)``; ``step`` counts stages.

    Returns
    -------
    pathlib.Path
        ``index.html``.
    """
    names = list(STAGES if stages is None else stages)
    unknown = [s for s in names if s not in STAGES]
    if unknown:
        msg = f"The 'stages' parameter of run_demo must hold names from {list(STAGES)}. Got {unknown} instead."
        raise ValueError(msg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    total = len(names)
    current = [0, ""]

    def tick(message: str) -> None:
        if progress:
            progress(current[0], total, f"{current[1]}: {message}" if message else current[1])

    ctx = _Context(out, quick, n_splits, random_state, tick)
    products: list[Product] = []
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for k, name in enumerate(names):
        current[:] = [k, name]
        tick("")
        t0 = time.perf_counter()
        try:
            product = _RUNNERS[name](ctx)
        except ImportError as exc:  # an optional dependency of this stage is not installed: name its extra
            reason = missing_extra_message(exc, f"the {name} stage")
            if reason is None:
                raise
            product, skipped[name] = None, reason
        timings[name] = round(time.perf_counter() - t0, 2)
        if product is not None:
            products.append(product)
    if progress:
        progress(total, total, "writing index.html")
    index = _write_index(out, products)
    ran = [p.stage for p in products]
    atomic_write_json(out / "demo.json", {
        "gmlearn_version": __version__, "stages": ran, "absent": [n for n in names if n not in ran], "skipped": skipped,
        "stage_seconds": timings, "quick": quick, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    })
    if progress:
        progress(total, total, "done")
    return index


# -- index.html -----------------------------------------------------------------------------
def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(float_format=lambda v: f"{v:.3f}", na_rep="-", border=0, classes="scores")


def _section(k: int, p: Product, out: Path) -> str:
    esc = html.escape
    img = ""
    if p.image:
        data = base64.b64encode((out / p.image).read_bytes()).decode()
        target = p.files[0] if p.files else p.image
        img = f'<a href="{esc(target)}"><img src="data:image/png;base64,{data}" alt="{esc(p.title)}"></a>'
    links = "".join(f'<li><a href="{esc(f)}">{esc(f)}</a></li>' for f in p.files)
    return (f'<section id="{esc(p.stage)}"><h2>{k}. {esc(p.title)}</h2><p>{esc(p.paragraph)}</p>{p.html}'
            f"{img}<ul class=\"files\">{links}</ul></section>")


def _write_index(out: Path, products: list[Product]) -> Path:
    toc = "".join(f'<li><a href="#{html.escape(p.stage)}">{html.escape(p.title)}</a></li>' for p in products)
    body = "".join(_section(k, p, out) for k, p in enumerate(products, start=1))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gmlearn demo</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}}
table.scores{{border-collapse:collapse;margin:1em 0}} table.scores td,table.scores th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}
img{{max-width:100%;border:1px solid #eee;margin:.5em 0}} code{{background:#f4f4f4;padding:1px 4px}}
section{{margin-bottom:2.5em}} ul.files{{font-size:.9em}}
</style></head><body>
<h1>gmlearn {html.escape(__version__)} demo</h1>
<p>Produced by <code>gmlearn demo</code> (<code>make demo</code>) on the data bundled with gmlearn. Each section is one
product, with what it is, the data it used and links to its files. Products of parts of gmlearn that are not built
yet are absent.</p>
<ol>{toc}</ol>
{body}
</body></html>
"""
    return atomic_write_bytes(out / "index.html", page.encode())
