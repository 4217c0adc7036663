"""Figures of SHAP explanations, drawn on matplotlib ``Figure`` objects (no pyplot state).

Every function returns PNG bytes, ready to be embedded in a report or written
to a file. Values are in ln units; feature axes in physical units (distances
and vs30 on log axes).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gmlearn.explain.values import Explanation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "importance_png", "beeswarm_png", "dependence_png", "interaction_png", "waterfall_png", "feature_label",
    "scenario_title", "strongest_interaction", "top_interactions", "LOG_FEATURES",
]

#: Features drawn on a log axis.
LOG_FEATURES: frozenset[str] = frozenset({"rrup", "rjb", "repi", "rhypo", "vs30", "z1pt0", "z2pt5"})


def feature_label(name: str) -> str:
    """``"rrup (km)"``: the feature name with its schema unit."""
    from gmlearn.schema import COLUMNS

    col = COLUMNS.get(name)
    return f"{name} ({col.unit})" if col is not None and col.unit else name


def _png(fig: Figure, dpi: int = 100) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _unit(imt: str) -> str:
    return "cm/s" if imt == "PGV" else "g"


def importance_png(expl: Explanation, *, max_display: int = 12) -> bytes:
    """Bar chart of mean |SHAP| per feature (global importance)."""
    imp = expl.importance().iloc[:max_display][::-1]
    fig = _figure(6.5, 0.45 * len(imp) + 1.2)
    ax = fig.subplots()
    ax.barh([feature_label(f) for f in imp.index], imp.to_numpy(), color="C0")
    ax.set_xlabel(f"mean |SHAP| (ln {_unit(expl.imt)})")
    ax.set_title(f"{expl.model}, {expl.imt}: global importance ({len(expl.data)} rows)", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    return _png(fig)


def _colour_scale(values: np.ndarray) -> np.ndarray:
    """Feature values mapped to [0, 1] by rank percentiles 5-95 (robust to outliers)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    out = np.full(v.shape, 0.5)
    if ok.sum() < 2:
        return out
    lo, hi = np.nanpercentile(v[ok], [5, 95])
    if hi <= lo:
        return out
    out[ok] = np.clip((v[ok] - lo) / (hi - lo), 0.0, 1.0)
    return out


def beeswarm_png(expl: Explanation, *, max_display: int = 12, random_state: int = 0) -> bytes:
    """Beeswarm: one row per feature, a dot per record at its SHAP value, coloured by the feature value."""
    order = list(expl.importance().index[:max_display])[::-1]
    fig = _figure(7.5, 0.5 * len(order) + 1.4)
    ax = fig.subplots()
    rng = np.random.default_rng(random_state)
    sc = None
    for k, name in enumerate(order):
        j = expl.features.index(name)
        vals = expl.values[:, j]
        # spread dots vertically by local density (a simple swarm)
        hist, edges = np.histogram(vals, bins=40)
        which = np.clip(np.digitize(vals, edges) - 1, 0, len(hist) - 1)
        width = 0.4 * hist[which] / max(hist.max(), 1)
        y = k + rng.uniform(-1.0, 1.0, len(vals)) * width
        sc = ax.scatter(vals, y, c=_colour_scale(expl.data[name].to_numpy()), cmap="coolwarm", s=7, vmin=0, vmax=1,
                        linewidths=0, alpha=0.8)
    ax.set_yticks(range(len(order)), [feature_label(f) for f in order])
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel(f"SHAP value (ln {_unit(expl.imt)}): effect on ln {expl.imt}")
    ax.set_title(f"{expl.model}, {expl.imt}: SHAP values per record", fontsize=10)
    if sc is not None:
        bar = fig.colorbar(sc, ax=ax, ticks=[0, 1], aspect=30)
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("feature value")
    return _png(fig)


def strongest_interaction(expl: Explanation, feature: str) -> str | None:
    """Feature interacting most with ``feature`` (by mean |interaction|, or |corr| of SHAP without them)."""
    j = expl.features.index(feature)
    if len(expl.features) < 2:
        return None
    if expl.interactions is not None:
        strength = np.abs(expl.interactions[:, j, :]).mean(axis=0)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            strength = np.array([abs(np.corrcoef(expl.values[:, j], expl.data[f].to_numpy())[0, 1]) if f != feature
                                 else 0.0 for f in expl.features])
    strength = np.nan_to_num(strength)
    strength[j] = -1.0
    return expl.features[int(np.argmax(strength))]


def dependence_png(expl: Explanation, feature: str, *, gmpe: tuple[str, np.ndarray, np.ndarray] | None = None) -> bytes:
    """SHAP dependence of one feature, with an OpenQuake GMPE's centred scaling drawn over it.

    Parameters
    ----------
    expl
        The explanation.
    feature
        A feature of ``expl``.
    gmpe
        ``(label, grid, centred_ln_curve)`` from
        :func:`gmlearn.explain.scaling.gmpe_scaling`, or None.
    """
    j = expl.features.index(feature)
    other = strongest_interaction(expl, feature)
    fig = _figure(6.2, 4.0)
    ax = fig.subplots()
    x = expl.data[feature].to_numpy()
    colour = _colour_scale(expl.data[other].to_numpy()) if other else np.full(len(x), 0.5)
    sc = ax.scatter(x, expl.values[:, j], c=colour, cmap="coolwarm", s=9, vmin=0, vmax=1, linewidths=0, alpha=0.8,
                    label="SHAP value per record")
    if gmpe is not None:
        label, grid, curve = gmpe
        ax.plot(grid, curve, color="k", lw=2, label=f"{label} scaling (centred)")
    if feature in LOG_FEATURES and np.all(x[np.isfinite(x)] > 0):
        ax.set_xscale("log")
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel(feature_label(feature))
    ax.set_ylabel(f"SHAP value of {feature} (ln {_unit(expl.imt)})")
    ax.set_title(f"{expl.imt}: dependence on {feature}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(True, which="both", alpha=0.25)
    if other:
        bar = fig.colorbar(sc, ax=ax, ticks=[0, 1], aspect=30)
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label(f"{feature_label(other)}")
    return _png(fig)


def interaction_png(expl: Explanation) -> bytes | None:
    """Heat map of mean |SHAP interaction| between feature pairs (None without interaction values)."""
    if expl.interactions is None:
        return None
    strength = np.abs(expl.interactions).mean(axis=0)
    strength = strength + strength.T - np.diag(np.diag(strength))  # both halves of a pair
    np.fill_diagonal(strength, np.nan)
    names = list(expl.features)
    fig = _figure(6.5, 5.4)
    ax = fig.subplots()
    im = ax.imshow(strength, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for a in range(len(names)):
        for b in range(len(names)):
            if a != b and np.isfinite(strength[a, b]):
                ax.text(b, a, f"{strength[a, b]:.2f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, label=f"mean |interaction| (ln {_unit(expl.imt)})")
    ax.set_title(f"{expl.imt}: SHAP interaction strength between feature pairs", fontsize=10)
    return _png(fig)


def top_interactions(expl: Explanation, n: int = 3) -> list[tuple[str, str, float]]:
    """The ``n`` strongest feature pairs ``(a, b, mean |interaction| of both halves)``."""
    if expl.interactions is None:
        return []
    strength = np.abs(expl.interactions).mean(axis=0)
    pairs = []
    for a in range(len(expl.features)):
        for b in range(a + 1, len(expl.features)):
            pairs.append((expl.features[a], expl.features[b], float(strength[a, b] + strength[b, a])))
    return sorted(pairs, key=lambda p: -p[2])[:n]


def scenario_title(expl: Explanation, row: int, meta: pd.Series | None = None) -> str:
    """``"Why is PGA at station X from event Y 0.31 g?"``."""
    value = float(np.exp(expl.prediction[row]))
    where = ""
    if meta is not None:
        parts = []
        if "station_id" in meta and pd.notna(meta["station_id"]):
            parts.append(f"station {meta['station_id']}")
        if "event_name" in meta and pd.notna(meta["event_name"]):
            parts.append(f"in the {meta['event_name']} earthquake")
        elif "event_id" in meta and pd.notna(meta["event_id"]):
            parts.append(f"from event {meta['event_id']}")
        where = " at " + " ".join(parts) if parts else ""
    return f"Why is {expl.imt}{where} {value:.3g} {_unit(expl.imt)}?"


def waterfall_png(expl: Explanation, row: int, *, title: str | None = None, max_display: int = 8) -> bytes:
    """Waterfall of one record: from the base value to the prediction, one bar per feature (ln units)."""
    vals = expl.values[row]
    order = np.argsort(-np.abs(vals))
    shown, rest = order[:max_display], order[max_display:]
    items: list[tuple[str, float]] = []
    base_term = float(expl.base_term[row])
    start = float(expl.base_values[row]) - base_term
    if expl.base_label:
        items.append((expl.base_label, base_term))
    for j in shown:
        name = expl.features[j]
        items.append((f"{name} = {_fmt(expl.data.iloc[row][name])}", float(vals[j])))
    if len(rest):
        items.append((f"{len(rest)} other features", float(vals[rest].sum())))
    fig = _figure(7.5, 0.42 * len(items) + 1.8)
    ax = fig.subplots()
    pos = start
    for k, (_label, delta) in enumerate(items):
        colour = "#d62728" if delta > 0 else "#1f77b4"
        ax.barh(len(items) - 1 - k, delta, left=pos, color=colour, height=0.6)
        ax.text(pos + delta, len(items) - 1 - k, f" {delta:+.2f}", va="center",
                ha="left" if delta >= 0 else "right", fontsize=8)
        pos += delta
    ax.set_yticks(range(len(items)), [lab for lab, _ in items][::-1], fontsize=8)
    ax.axvline(start, color="0.5", lw=0.8, ls=":")
    ax.axvline(pos, color="k", lw=1.0)
    ax.set_xlabel(f"ln {expl.imt} (ln {_unit(expl.imt)}); start {start:.2f}, prediction {pos:.2f}")
    ax.set_title(title or scenario_title(expl, row), fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    return _png(fig)


def _fmt(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{v:.3g}"
