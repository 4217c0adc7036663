"""Figures of generated and recorded waveforms: traces and response spectra (Agg canvas, atomic PNGs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_traces", "plot_spectra"]

_COLORS = {"cgan": "tab:red", "diffusion": "tab:blue", "stochastic": "tab:green", "real": "black"}


def _figure(width: float, height: float):  # noqa: ANN202
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:  # noqa: ANN001
    from gmlearn.store.atomic import atomic_write_with

    return atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", bbox_inches="tight"))


def plot_traces(sets: dict[str, np.ndarray], dt: float, path: str | Path, title: str = "") -> Path:
    """One column per set (name -> acceleration (n, 3, n_t) in g), rows H1, H2, V of the first record."""
    fig = _figure(4.2 * len(sets), 5.5)
    axes = fig.subplots(3, len(sets), sharex=True, squeeze=False)
    for j, (name, acc) in enumerate(sets.items()):
        t = np.arange(acc.shape[-1]) * dt
        lim = float(np.max(np.abs(acc[0]))) or 1.0
        for i, comp in enumerate(("H1", "H2", "V")):
            ax = axes[i, j]
            ax.plot(t, acc[0, i], lw=0.6, color=_COLORS.get(name, "tab:gray"))
            ax.set_ylim(-1.05 * lim, 1.05 * lim)
            ax.set_ylabel(f"{comp} (g)" if j == 0 else "")
            if i == 0:
                ax.set_title(name)
        axes[-1, j].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    return _save(fig, Path(path))


def plot_spectra(periods: np.ndarray, sets: dict[str, np.ndarray], path: str | Path, *,
                 gmpe: tuple[np.ndarray, np.ndarray] | None = None, gmpe_label: str = "BSSA14",
                 title: str = "") -> Path:
    """RotD50 PSA (g) of each set (name -> (n, n_periods)): median and 16-84 % band, with the GMPE median ± sigma."""
    fig = _figure(6.5, 4.5)
    ax = fig.subplots()
    if gmpe is not None:
        mean, sigma = gmpe
        ax.plot(periods, np.exp(mean), "k-", lw=2, label=f"{gmpe_label} median")
        ax.fill_between(periods, np.exp(mean - sigma), np.exp(mean + sigma), color="0.85", label=f"{gmpe_label} ± σ")
    for name, spec in sets.items():
        color = _COLORS.get(name, None)
        ln = np.log(spec)
        ax.plot(periods, np.exp(np.median(ln, axis=0)), color=color, lw=1.5, label=f"{name} median (n={len(spec)})")
        lo, hi = np.percentile(ln, [16, 84], axis=0)
        ax.plot(periods, np.exp(lo), color=color, lw=0.8, ls="--")
        ax.plot(periods, np.exp(hi), color=color, lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("period (s)")
    ax.set_ylabel("PSA RotD50 (g), 5 % damping")
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return _save(fig, Path(path))
