"""One self-contained HTML report explaining a model: SHAP figures, model card, residuals.

Every image is embedded as a base64 PNG and the page loads nothing from the
network, so the file can be mailed, archived or opened offline. Problems met
on the way (an empty table, rows outside the training range, a figure that
cannot be drawn) are listed in a *Warnings* box at the top of the report
instead of silently dropping content.
"""

from __future__ import annotations

import base64
import html
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from gmlearn._version import __version__
from gmlearn.exceptions import ModelError
from gmlearn.explain.values import Explanation, explain, model_features
from gmlearn.store.atomic import atomic_write_bytes

__all__ = ["Report", "write_report", "model_card"]

#: Features that get a dependence plot (the first distance found is used).
DEPENDENCE: tuple[tuple[str, ...], ...] = (("mag",), ("rrup", "rjb", "repi", "rhypo"), ("vs30",))

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} td,th{padding:3px 9px;border-bottom:1px solid #e4e4e4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0;display:inline-block;vertical-align:top;max-width:100%} img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555;max-width:640px}
.warn{background:#fff7e0;border:1px solid #e6c35c;padding:.6em 1em;border-radius:4px}
.warn li{margin:.2em 0} code{background:#f4f4f4;padding:1px 4px}
.grid{display:flex;flex-wrap:wrap;gap:1em} .grid figure{max-width:560px}
@media print{figure{page-break-inside:avoid}}
"""


@dataclass
class Report:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    path
        The HTML file.
    warnings
        Messages shown in the report's Warnings box.
    explanations
        IMT -> :class:`~gmlearn.explain.values.Explanation` (empty when none could be computed).
    figures
        Titles of the embedded figures, in order.
    """

    path: Path
    warnings: list[str] = field(default_factory=list)
    explanations: dict[str, Explanation] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)


def model_card(model: Any) -> dict[str, Any]:
    """Facts about a model: class, arguments, IMTs, features, training ranges, data hash, metrics, sigma.

    Read from the saved ``metadata.json`` when the model was loaded from a
    folder, otherwise from the fitted model's attributes.
    """
    meta = dict(getattr(model, "metadata_", None) or {})
    effects = meta.get("effects") or {
        imt: {k: v for k, v in eff.items() if not k.endswith("_terms")}
        for imt, eff in (getattr(model, "effects_", None) or {}).items()
    }
    return {
        "class": meta.get("class", type(model).__name__),
        "gmlearn_version": meta.get("gmlearn_version", __version__),
        "params": meta.get("params") or model.get_params(),
        "imts": list(meta.get("imts") or getattr(model, "imts_", []) or []),
        "features": list(meta.get("features") or meta.get("required_features") or model_features(model)),
        "ranges": dict(meta.get("ranges") or getattr(model, "ranges_", {}) or {}),
        "training": dict(meta.get("training") or {}),
        "metrics": dict(meta.get("metrics") or {}),
        "effects": effects,
    }


def _img(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
            f"<figcaption>{caption}</figcaption></figure>")


def _kv_table(rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _frame_html(df: pd.DataFrame) -> str:
    return df.to_html(float_format=lambda v: f"{v:.3f}", na_rep="-", border=0)


def _card_html(card: dict[str, Any]) -> str:
    from gmlearn.explain.figures import feature_label

    params = ", ".join(f"{k}={v!r}" for k, v in card["params"].items())
    rows = [("class", card["class"]), ("gmlearn version", card["gmlearn_version"]), ("arguments", params),
            ("IMTs", ", ".join(card["imts"]) or "-"), ("features", ", ".join(card["features"])),
            ("training data", card["training"].get("content_hash") or "not recorded")]
    ranges = pd.DataFrame(
        [(feature_label(f), lo, hi) for f, (lo, hi) in card["ranges"].items()], columns=["feature", "min", "max"]
    )
    parts = ["<h3>Identity and training data</h3>", _kv_table(rows)]
    if len(ranges):
        parts += ["<h3>Training ranges (physical units)</h3>", _frame_html(ranges.set_index("feature"))]
    if card["effects"]:
        keys = [k for k in ("bias", "tau", "phi", "phi_ss", "phi_s2s", "rounds", "sigma_from") if
                any(k in e for e in card["effects"].values())]
        eff = pd.DataFrame({imt: {k: e.get(k) for k in keys} for imt, e in card["effects"].items()}).T
        parts += ["<h3>Variance components per IMT (ln units)</h3>", _frame_html(eff)]
    if card["metrics"]:
        metrics = card["metrics"]
        try:
            parts += ["<h3>Metrics</h3>", _frame_html(pd.DataFrame(metrics))]
        except ValueError:
            parts += ["<h3>Metrics</h3>", _kv_table(list(metrics.items()))]
    else:
        parts.append("<p>No metrics were saved with this model (pass <code>metrics=</code> to <code>save_model</code>).</p>")
    return "".join(parts)


def _range_summary(table: pd.DataFrame, ranges: dict[str, Sequence[float]]) -> pd.DataFrame:
    rows = []
    for name, (lo, hi) in ranges.items():
        if name not in table:
            continue
        v = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
        out = np.isfinite(v) & ((v < lo) | (v > hi))
        if out.any():
            rows.append({"feature": name, "rows outside": int(out.sum()), "training min": lo, "training max": hi,
                         "data min": float(np.nanmin(v)), "data max": float(np.nanmax(v))})
    return pd.DataFrame(rows)


def _explain_recording(model: Any, table: pd.DataFrame, imt: str, sink: list[str], **kwargs: Any) -> Explanation:
    """:func:`explain`, with its warnings recorded into ``sink`` (deduplicated)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expl = explain(model, table, imt, **kwargs)
    for w in caught:
        if not issubclass(w.category, UserWarning):  # library deprecations are not about the model or data
            continue
        text = f"{w.category.__name__}: {w.message}"
        if text not in sink:
            sink.append(text)
    return expl


def _pick_scenarios(expl: Explanation, scenarios: Sequence[int] | None, n_rows: int, notes: list[str]) -> list[int]:
    """Positions in the full table of the records to explain one by one."""
    if scenarios:
        bad = [s for s in scenarios if not 0 <= int(s) < n_rows]
        if bad:
            notes.append(f"Scenario row(s) {bad} are outside the table (rows 0-{n_rows - 1}); they were skipped.")
        return [int(s) for s in scenarios if 0 <= int(s) < n_rows]
    order = np.argsort(expl.prediction)
    picks = [order[-1], order[len(order) // 2], order[0]]
    return list(dict.fromkeys(int(expl.index[p]) for p in picks))


def _gmpe_for(model: Any, gmpe: str | None) -> str | None:
    if gmpe:
        return gmpe
    if type(model).__name__ == "HybridGMM":
        return str(model.base)
    if type(model).__name__ == "OpenQuakeGMPE":
        return None
    return "BooreEtAl2014"


def _residual_png(model: Any, table: pd.DataFrame, imts: list[str], notes: list[str]) -> bytes | None:
    import tempfile

    from gmlearn.evaluation.plots import plot_residual_trends

    observed = [i for i in imts if i in table and pd.to_numeric(table[i], errors="coerce").notna().sum() >= 3]
    needed = [c for c in ("event_id", "mag", "rrup", "vs30") if c not in table]
    if not observed or needed:
        why = f"columns {needed} are missing" if needed else f"the table has no observed ln values of {imts}"
        notes.append(f"Residual plots were left out: {why}.")
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = model.predict(table, observed)
            with tempfile.TemporaryDirectory() as tmp:
                path = plot_residual_trends(table, pred, observed, Path(tmp) / "residuals.png",
                                            title=f"{type(model).__name__}: residual trends")
                return path.read_bytes()
    except (ValueError, KeyError) as exc:
        notes.append(f"Residual plots were left out: {exc}")
        return None


def write_report(
    model: Any,
    table: pd.DataFrame,
    path: str | Path,
    *,
    imt: str | None = None,
    imts: Sequence[str] | None = None,
    data_label: str = "the given table",
    gmpe: str | None = None,
    scenarios: Sequence[int] | None = None,
    max_rows: int | None = 500,
    method: str = "auto",
    random_state: int = 0,
    command: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Explain ``model`` on ``table`` and write one self-contained HTML report.

    Parameters
    ----------
    model
        A fitted gmlearn model (loaded with
        :func:`~gmlearn.explain.values.load_explainable` to get its saved model card).
    table
        Records with the model's features (physical units); ln observations of
        the IMTs, ``event_id`` and ``station_id`` add residual plots.
    path
        Output HTML file (written atomically).
    imt
        IMT of the figures (default: the model's first).
    imts
        IMTs of the importance table (default: every IMT of a tree model; only
        ``imt`` for kernel-explained models, whose SHAP values cost more).
    data_label
        Where the records come from (shown in the report).
    gmpe
        OpenQuake GSIM whose scaling is drawn beside the dependence plots
        (default: a hybrid's base, else ``BooreEtAl2014``).
    scenarios
        Row positions in ``table`` explained one by one (waterfalls); default:
        the records with the highest, median and lowest prediction.
    max_rows, method, random_state
        As :func:`~gmlearn.explain.values.explain`.
    command
        The command that made the report (shown in it).
    progress
        Optional ``callable(step, total, message)``.

    Returns
    -------
    Report
    """
    from gmlearn.explain import figures as fig

    total = 6
    step = (lambda i, msg: progress(i, total, msg)) if progress else (lambda i, msg: None)
    notes: list[str] = []
    report = Report(Path(path))
    card = model_card(model)
    body: list[str] = []
    table = table.reset_index(drop=True) if isinstance(table, pd.DataFrame) else table
    primary = imt or (card["imts"][0] if card["imts"] else None)
    step(0, f"explaining {primary}")
    expl = None
    try:
        expl = _explain_recording(model, table, primary, notes, method=method, max_rows=max_rows,
                                  random_state=random_state)
    except ModelError as exc:
        notes.append(str(exc))
    if expl is not None:
        report.explanations[expl.imt] = expl
        out = _range_summary(table, card["ranges"])
        body.append(_data_html(expl, table, data_label, out))
        step(1, "global importance")
        body.append(_importance_html(model, table, expl, imts, card, notes, report, max_rows, method, random_state))
        step(2, "dependence plots")
        body.append("<h2>3. Dependence on magnitude, distance and vs30</h2>")
        body.append(_dependence_html(expl, table, model, gmpe, notes, report.figures))
        step(3, "interactions")
        body.append(_interaction_html(expl, fig, report.figures))
        step(4, "scenarios")
        body.append(_scenario_html(model, table, expl, scenarios, notes, report, method, random_state))
        step(5, "residuals")
        png = _residual_png(model, table, [expl.imt], notes)
        if png is not None:
            report.figures.append("residual trends")
            body.append("<h2>6. Residuals</h2><p>Observed minus predicted ln values on the records of the table, "
                        "split into between-event terms (against magnitude) and within-event residuals (against "
                        "rrup and vs30), with binned means and standard deviations.</p>"
                        + _img(png, "residual trends", "Residual trends of the model on the table's records."))
    page = _page(card, expl, body, notes, command)
    report.path = atomic_write_bytes(report.path, page.encode())
    report.warnings = notes
    step(6, "done")
    return report


def _data_html(expl: Explanation, table: pd.DataFrame, label: str, outside: pd.DataFrame) -> str:
    method = {"tree": "exact Tree SHAP (shap.TreeExplainer) on the XGBoost booster",
              "kernel": "Kernel SHAP (shap.KernelExplainer) on the model's ln mean",
              "sampling": "Shapley sampling (shap.SamplingExplainer) on the model's ln mean"}[expl.method]
    rows = [("data", label), ("records explained", f"{len(expl.data)} of {len(table)}"), ("IMT", expl.imt),
            ("method", method), ("mean base value", f"{expl.expected_value:.3f} ln units"),
            ("additivity |base + sum(SHAP) - prediction| max", f"{expl.additivity_error():.2e} ln units")]
    text = ("<h2>1. Data and method</h2><p>SHAP values split each record's predicted ln "
            f"{html.escape(expl.imt)} into a base value plus one additive contribution per feature. Values are in "
            "natural-log units of the IMT (ln g, ln cm/s for PGV): +0.69 doubles the motion, −0.69 halves it. "
            "Features are in physical units.</p>")
    if expl.base_label:
        text += (f"<p>This is a hybrid model: its prediction is the {html.escape(expl.base_label)} plus a learned "
                 "correction. SHAP values explain the correction (scaled by the fade weight outside the training "
                 "range); the base term enters every waterfall as its own bar.</p>")
    text += _kv_table(rows)
    if len(outside):
        text += "<p><b>Records outside the training range</b> (predictions there extrapolate):</p>" + _frame_html(outside.set_index("feature"))
    return text


def _importance_html(model: Any, table: pd.DataFrame, expl: Explanation, imts: Sequence[str] | None,
                     card: dict[str, Any], notes: list[str], report: Report, max_rows: int | None, method: str,
                     random_state: int) -> str:
    from gmlearn.explain.figures import beeswarm_png, importance_png

    names = list(imts) if imts is not None else (card["imts"] if expl.method == "tree" else [expl.imt])
    cols = {expl.imt: expl.importance()}
    for name in names:
        if name == expl.imt or name in cols:
            continue
        try:
            other = _explain_recording(model, table, name, [], method=method, max_rows=max_rows,
                                       random_state=random_state, interactions=False)
        except ModelError as exc:
            notes.append(str(exc))
            continue
        report.explanations[other.imt] = other
        cols[other.imt] = other.importance()
    imp = pd.DataFrame(cols).loc[expl.importance().index]
    report.figures += ["global importance", "beeswarm"]
    return ("<h2>2. Global importance</h2><p>Mean absolute SHAP value of each feature over the explained records "
            "(ln units): how far, on average, the feature moves a prediction from the base value.</p>"
            + _frame_html(imp)
            + '<div class="grid">'
            + _img(importance_png(expl), "global importance", f"Mean |SHAP| per feature, {html.escape(expl.imt)}.")
            + _img(beeswarm_png(expl), "beeswarm", "One dot per record at its SHAP value; colour: the feature's value "
                   "(blue low, red high). A red tail to the right means high values raise the motion.")
            + "</div>")


def _dependence_html(expl: Explanation, table: pd.DataFrame, model: Any, gmpe: str | None, notes: list[str],
                     figures: list[str]) -> str:
    from gmlearn.explain.figures import LOG_FEATURES, dependence_png
    from gmlearn.explain.scaling import gmpe_scaling

    label = _gmpe_for(model, gmpe)
    rows = table.iloc[expl.index].reset_index(drop=True)
    parts = []
    for group in DEPENDENCE:
        feature = next((f for f in group if f in expl.features), None)
        if feature is None:
            notes.append(f"No dependence plot for {'/'.join(group)}: the model has no such feature.")
            continue
        curve = None
        if label:
            try:
                got = gmpe_scaling(label, rows, feature, expl.imt, log=feature in LOG_FEATURES)
            except ModelError as exc:
                notes.append(f"The {label} scaling along {feature} was not drawn: {exc}")
                got = None
            if got is None:
                notes.append(f"The {label} scaling along {feature} was not drawn: the GMPE does not use it or lacks an input.")
            curve = (label, *got) if got is not None else None
        figures.append(f"dependence on {feature}")
        beside = (f" Black line: {html.escape(label)} along <code>{feature}</code>, its other inputs at the records' "
                  "medians, centred on the records." if curve else "")
        parts.append(_img(dependence_png(expl, feature, gmpe=curve), f"dependence {feature}",
                          f"SHAP value of <code>{feature}</code> per record, coloured by its strongest interaction "
                          f"partner.{beside}"))
    return '<div class="grid">' + "".join(parts) + "</div>"


def _interaction_html(expl: Explanation, fig: Any, figures: list[str]) -> str:
    png = fig.interaction_png(expl)
    if png is None:
        return ("<h2>4. Interactions</h2><p>SHAP interaction values need a tree model; for this model the "
                "dependence plots are coloured by the feature whose values correlate most with the SHAP values.</p>")
    figures.append("interactions")
    pairs = "".join(f"<li><code>{a}</code> × <code>{b}</code>: {s:.3f}</li>" for a, b, s in fig.top_interactions(expl))
    return ("<h2>4. Interactions</h2><p>Mean |SHAP interaction value| of each feature pair (exact, from Tree SHAP): "
            f"how much of the prediction depends on the two features jointly. Strongest pairs:</p><ul>{pairs}</ul>"
            + _img(png, "interactions", "Interaction strength between feature pairs (ln units)."))


def _scenario_html(model: Any, table: pd.DataFrame, expl: Explanation, scenarios: Sequence[int] | None,
                   notes: list[str], report: Report, method: str, random_state: int) -> str:
    from gmlearn.explain.figures import scenario_title, waterfall_png

    picks = _pick_scenarios(expl, scenarios, len(table), notes)
    if not picks:
        return ""
    rows = table.iloc[picks]
    one = _explain_recording(model, rows, expl.imt, [], method=method, max_rows=None, random_state=random_state,
                             interactions=False)
    parts = []
    for k, pos in enumerate(picks):
        meta = table.iloc[pos]
        title = scenario_title(one, k, meta)
        report.figures.append(title)
        parts.append(_img(waterfall_png(one, k, title=title), f"waterfall row {pos}",
                          f"Row {pos} of the table. Bars: contributions in ln units from the base value (dotted) "
                          f"to the prediction (solid), ln {html.escape(expl.imt)} = {one.prediction[k]:.3f}."))
    how = "given with <code>--scenario</code>" if scenarios else "with the highest, median and lowest prediction"
    return (f"<h2>5. Scenarios: why this value?</h2><p>Single records ({how}), each predicted value taken apart "
            "into its base value and feature contributions.</p>" + '<div class="grid">' + "".join(parts) + "</div>")


def _page(card: dict[str, Any], expl: Explanation | None, body: list[str], notes: list[str], command: str | None) -> str:
    title = f"Why does {card['class']} predict what it does?"
    warn = ""
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        warn = f'<div class="warn" id="warnings"><b>Warnings</b><ul>{items}</ul></div>'
    cmd = f"<p>Made with <code>{html.escape(command)}</code>.</p>" if command else ""
    sub = f" — {html.escape(expl.imt)}" if expl is not None else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}{sub}</h1>
<p>gmlearn {html.escape(__version__)} explanation report: SHAP values of a ground-motion model, its model card and
its residuals.</p>{cmd}
{warn}
{"".join(body)}
<h2>7. Model card</h2>
{_card_html(card)}
</body></html>
"""
