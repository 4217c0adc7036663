"""Figures of ground-motion residuals: trends against predictors and model comparisons.

matplotlib is imported inside the functions and drawn on an Agg canvas
(no pyplot state); files are written atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gmlearn.evaluation.scoring import residual_table
from gmlearn.exceptions import MissingColumnError
from gmlearn.gmpe.mixed_effects import fit_mixed_effects
from gmlearn.gmpe.prediction import Prediction
from gmlearn.schema import imt_string, is_imt, sort_imts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["binned_stats", "plot_model_comparison", "plot_residual_trends"]

#: Predictors of the three panels of a row: (column, residual kind, log x axis, label).
_PANELS: tuple[tuple[str, str, bool, str], ...] = (
    ("mag", "between", False, "Magnitude Mw"),
    ("rrup", "within", True, "Rrup (km)"),
    ("vs30", "within", True, "Vs30 (m/s)"),
)


def binned_stats(x: Any, y: Any, n_bins: int = 10, *, log: bool = False, min_count: int = 3) -> pd.DataFrame:
    """Mean and standard deviation of ``y`` in equal-width bins of ``x``.

    Parameters
    ----------
    x, y
        Predictor and residual, shape (n,); non-finite pairs (and ``x <= 0``
        when ``log``) are ignored.
    n_bins
        Number of bins spanning the range of ``x``.
    log
        Bins of equal width in ``log10(x)``.
    min_count
        Bins with fewer points are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``x`` (bin centre, geometric when ``log``), ``mean``, ``std``
        and ``count``.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys) & ((xs > 0) if log else True)
    xs, ys = xs[ok], ys[ok]
    columns = ["x", "mean", "std", "count"]
    if xs.size == 0:
        return pd.DataFrame(columns=columns, dtype=float)
    t = np.log10(xs) if log else xs
    lo, hi = float(t.min()), float(t.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
    which = np.clip(np.digitize(t, edges) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    total = np.bincount(which, weights=ys, minlength=n_bins)
    square = np.bincount(which, weights=ys**2, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        std = np.sqrt(np.maximum(square / count - mean**2, 0.0) * count / np.maximum(count - 1, 1))
    centre = 0.5 * (edges[:-1] + edges[1:])
    keep = count >= min_count
    out = pd.DataFrame({"x": 10**centre if log else centre, "mean": mean, "std": std, "count": count})
    return out[keep].reset_index(drop=True)[columns]


def _save_atomic(fig: Figure, path: str | os.PathLike[str], dpi: int) -> Path:
    """Write ``fig`` as PNG via a temporary file in the target folder, then rename."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="png", dpi=dpi)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _draw_panel(ax: Axes, x: np.ndarray, y: np.ndarray, log: bool, n_bins: int) -> None:
    """Scatter, binned mean +- std and a zero line on one axis."""
    ax.scatter(x, y, s=6, alpha=0.35, color="0.45", linewidths=0)
    stats = binned_stats(x, y, n_bins, log=log)
    ax.errorbar(stats["x"], stats["mean"], yerr=stats["std"], fmt="o-", color="C3", ms=4, capsize=3, lw=1.2)
    ax.axhline(0.0, color="k", lw=0.8)
    if log:
        _log_axis(ax, x)
    ax.grid(True, which="both", alpha=0.25)


def _log_axis(ax: Axes, x: np.ndarray) -> None:
    """Log x axis labelled at 1, 2, 5 x 10^k inside the data range, in plain numbers."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    xs = np.asarray(x, dtype=float)
    xs = xs[np.isfinite(xs) & (xs > 0)]
    if xs.size == 0:
        return
    lo, hi = float(xs.min()), float(xs.max())
    decades = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
    ticks = [m * 10.0**k for k in decades for m in (1, 2, 5) if lo <= m * 10.0**k <= hi]
    if len(ticks) >= 2:
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())


def _imt_components(long: pd.DataFrame, table: pd.DataFrame, station_terms: bool) -> dict[str, Any]:
    """Event terms with event magnitudes and within-event residuals with their rows."""
    stations = long["station_id"].to_numpy() if (station_terms and "station_id" in long) else None
    fit = fit_mixed_effects(long["residual"].to_numpy(), long["event_id"].to_numpy(), stations)
    rows = long["row"].to_numpy()
    # within-event residual dW = dS2S + dWS (site term kept: the vs30 trend lives there)
    within = long["residual"].to_numpy() - fit.bias - fit.between(long["event_id"].to_numpy())
    mag = table["mag"].groupby(table["event_id"].to_numpy()).first()
    return {
        "fit": fit,
        "between": (mag.reindex(fit.event_terms.index).to_numpy(dtype=float), fit.event_terms.to_numpy()),
        "within": {c: (table[c].to_numpy(dtype=float)[rows], within) for c in ("rrup", "vs30")},
    }


def plot_residual_trends(
    table: pd.DataFrame,
    prediction: Prediction,
    imts: Sequence[str] | None,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    station_terms: bool = True,
    obs_columns: Mapping[str, str] | None = None,
    n_bins: int = 10,
    dpi: int = 110,
) -> Path:
    """Plot residual trends against magnitude, distance and Vs30; write a PNG.

    For each IMT (one row of panels) the residuals ``obs - mean`` are split by
    :func:`~gmlearn.gmpe.mixed_effects.fit_mixed_effects`; the figure shows
    the between-event terms ``dB`` against ``mag`` and the within-event
    residuals ``dW = r - c - dB`` against ``rrup`` and ``vs30`` (log axes),
    each with binned means +- one standard deviation and a zero line.

    Parameters
    ----------
    table
        Records with ``event_id``, ``mag``, ``rrup`` (km), ``vs30`` (m/s),
        optionally ``station_id``, and one column of ln observations per IMT.
    prediction
        Prediction for the rows of ``table``, in the same order.
    imts
        IMTs to plot; None for all of ``prediction.imts``.
    path
        Output PNG file; its folder is created if needed.
    title
        Figure title.
    station_terms
        Fit station terms in the decomposition (if ``station_id`` is present).
    obs_columns
        Mapping IMT -> observation column, see
        :func:`~gmlearn.evaluation.scoring.residual_table`.
    n_bins
        Bins of the binned statistics.
    dpi
        Resolution of the PNG.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from matplotlib.figure import Figure


    missing = [c for c in ("event_id", "mag", "rrup", "vs30") if c not in table.columns]
    if missing:
        msg = f"plot_residual_trends needs column(s) {missing}; the table has {list(map(str, table.columns))}."
        raise MissingColumnError(msg)
    long = residual_table(table, prediction, imts, obs_columns=obs_columns)
    counts = long["imt"].value_counts()
    names = [i for i in dict.fromkeys(long["imt"]) if counts[i] >= 3]
    if not names:
        msg = "plot_residual_trends needs at least 3 records with observation and prediction for some IMT; got none."
        raise ValueError(msg)
    fig = Figure(figsize=(13.0, 3.2 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 3, squeeze=False)
    for i, imt in enumerate(names):
        parts = _imt_components(long[long["imt"] == imt], table, station_terms)
        for j, (col, kind, log, label) in enumerate(_PANELS):
            x, y = parts["between"] if kind == "between" else parts["within"][col]
            _draw_panel(axes[i, j], x, y, log, n_bins)
            axes[i, j].set_xlabel(label)
        fit = parts["fit"]
        axes[i, 0].set_ylabel(f"{imt}: dB (ln units)")
        axes[i, 1].set_ylabel(f"{imt}: dW (ln units)")
        axes[i, 0].set_title(f"{imt}: tau = {fit.tau:.3f}, bias = {fit.bias:+.3f}", fontsize=9)
        axes[i, 1].set_title(f"phi = {fit.phi:.3f} (phi_S2S = {fit.phi_s2s:.3f})", fontsize=9)
        axes[i, 2].set_title(f"phi_SS = {fit.phi_ss:.3f}", fontsize=9)
    if title:
        fig.suptitle(title)
    return _save_atomic(fig, path, dpi)


def plot_model_comparison(
    scores: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    metric: str = "rms",
    title: str | None = None,
    dpi: int = 110,
) -> Path:
    """Grouped bar chart of one score per IMT, one bar per model; write a PNG.

    Parameters
    ----------
    scores
        Long frame with columns ``model``, ``imt`` and ``metric``, e.g. the
        concatenated :func:`~gmlearn.evaluation.scoring.score` frames of several
        models with a ``model`` column added.
    path
        Output PNG file; its folder is created if needed.
    metric
        Column to plot (``"rms"``, ``"llh"``, ``"edr"``, ``"tau"``, ...).
    title
        Figure title; default names the metric.
    dpi
        Resolution of the PNG.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from matplotlib.figure import Figure

    missing = [c for c in ("model", "imt", metric) if c not in scores.columns]
    if missing:
        msg = f"plot_model_comparison needs column(s) {missing}; scores has {list(map(str, scores.columns))}."
        raise MissingColumnError(msg)
    table = scores.pivot_table(index="imt", columns="model", values=metric, aggfunc="mean", sort=False)
    imts = list(table.index)
    if all(isinstance(i, str) and is_imt(i) for i in imts):
        rank = {name: k for k, name in enumerate(sort_imts(imts))}
        imts = sorted(imts, key=lambda i: rank[imt_string(i)])
    table = table.reindex(imts)
    models = list(table.columns)
    width = 0.8 / max(len(models), 1)
    fig = Figure(figsize=(min(20.0, max(6.0, 2.0 + 0.4 * len(imts) * len(models))), 4.0), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(imts))
    for k, model in enumerate(models):
        ax.bar(x + (k - (len(models) - 1) / 2) * width, table[model].to_numpy(dtype=float), width, label=str(model))
    ax.set_xticks(x, [str(i) for i in imts], rotation=45 if len(imts) > 6 else 0)
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0:  # zoom on the differences; the axis does not start at zero
        span = finite.max() - finite.min()
        ax.set_ylim(max(0.0, finite.min() - 0.5 * span - 0.02), finite.max() + 0.25 * span + 0.02)
    ax.set_ylabel(metric)
    ax.set_title(title if title is not None else f"{metric} per IMT (lower is better)" if metric in ("rms", "llh", "edr") else f"{metric} per IMT")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save_atomic(fig, path, dpi)
