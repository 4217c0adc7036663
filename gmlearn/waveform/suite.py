"""Hazard-consistent record suites: records matched to a target spectrum in mean and spread.

A target is a mean spectrum (a uniform hazard spectrum, a conditional mean spectrum or
a design spectrum) with an optional ln standard deviation per period. The suite draws
one spectrum per record around the target with the Baker and Jayaram (2008) correlation,
moment-matched so the set's ln mean and ln standard deviation equal the target's
(:func:`gmlearn.waveform.target._normal_scores`), generates records with a generator
(time structure from the realism layer) and matches each record to its spectrum
(``generate(..., target={"periods", "ln_psa"})``: band gains with re-fitted durations, then
:func:`gmlearn.waveform.target.spectral_match`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gmlearn.waveform.errors import RecordFormatError

__all__ = ["TargetSpectrum", "read_target_spectrum", "draw_around", "build_suite"]


@dataclass
class TargetSpectrum:
    """Periods (s, increasing), PSA (g) and ln standard deviation per period (0: every record on the mean)."""

    periods: np.ndarray
    psa: np.ndarray
    sigma: np.ndarray


def read_target_spectrum(path: str | Path) -> TargetSpectrum:
    """Read a CSV with columns ``period_s``, ``psa_g`` and optionally ``sigma_ln``.

    Raises
    ------
    RecordFormatError
        For a missing column, non-positive or non-increasing periods, non-positive PSA
        or negative sigma.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise RecordFormatError("target spectrum CSV not found", file=str(path))
    table = pd.read_csv(path)
    missing = [c for c in ("period_s", "psa_g") if c not in table.columns]
    if missing:
        raise RecordFormatError(f"the target spectrum lacks the columns {missing}; it has {list(table.columns)} and "
                                "needs period_s, psa_g (optional: sigma_ln)", file=str(path))
    periods = pd.to_numeric(table["period_s"], errors="coerce").to_numpy(float)
    psa = pd.to_numeric(table["psa_g"], errors="coerce").to_numpy(float)
    sigma = (pd.to_numeric(table["sigma_ln"], errors="coerce").to_numpy(float) if "sigma_ln" in table
             else np.zeros_like(psa))
    for name, values, ok in (("period_s", periods, periods > 0), ("psa_g", psa, psa > 0),
                             ("sigma_ln", sigma, sigma >= 0)):
        bad = ~np.isfinite(values) | ~ok
        if bad.any():
            raise RecordFormatError(f"column {name!r} must hold finite {'non-negative' if name == 'sigma_ln' else 'positive'} "
                                    "numbers", file=str(path), row=int(np.argmax(bad)) + 2, value=values[bad][0])
    if np.any(np.diff(periods) <= 0):
        raise RecordFormatError("period_s must increase from row to row", file=str(path))
    return TargetSpectrum(periods, psa, sigma)


def draw_around(spectrum: TargetSpectrum, n: int, random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """``n`` ln spectra (n, T) whose ln mean and standard deviation equal the target's (for n >= 3)."""
    from gmlearn.waveform.target import _normal_scores, bj08_matrix

    rng = np.random.default_rng(random_state)
    chol = np.linalg.cholesky(bj08_matrix(spectrum.periods) + 1e-9 * np.eye(len(spectrum.periods)))
    z = rng.standard_normal((n, len(spectrum.periods))) @ chol.T
    z = _normal_scores(z) if n >= 3 else np.zeros_like(z)
    z = z - z.mean(axis=0, keepdims=True) if n >= 3 else z
    return np.log(spectrum.psa)[None, :] + spectrum.sigma[None, :] * z


def _densify(spectrum: TargetSpectrum) -> TargetSpectrum:
    """The target on its own periods plus the matching grid from its shortest to 1.5 x its longest period.

    ln PSA and sigma are interpolated linearly in ln T; beyond the longest period ln PSA
    continues with the slope of the last two points, so the long-period end is matched
    as well as the middle.
    """
    from gmlearn.waveform.target import MATCH_PERIODS

    t = spectrum.periods
    extra = MATCH_PERIODS[(MATCH_PERIODS > t[0]) & (MATCH_PERIODS < 1.5 * t[-1])]
    periods = np.unique(np.concatenate([t, extra]))
    lt, lp = np.log(t), np.log(spectrum.psa)
    ln_psa = np.interp(np.log(periods), lt, lp)
    if len(t) > 1:
        slope = (lp[-1] - lp[-2]) / (lt[-1] - lt[-2])
        beyond = periods > t[-1]
        ln_psa[beyond] = lp[-1] + slope * (np.log(periods[beyond]) - lt[-1])
    return TargetSpectrum(periods, np.exp(ln_psa), np.interp(np.log(periods), lt, spectrum.sigma))


def build_suite(spectrum: TargetSpectrum, *, n: int = 11, mag: float = 6.5, rrup: float = 20.0, vs30: float = 400.0,
                rake: float = 0.0, model: Any = "cgan", seed: int = 0, out: str | Path | None = None) -> dict:
    """Generate ``n`` records matched to ``spectrum`` in mean and spread; optionally write them to ``out``.

    Returns ``{"acc", "dt", "length_s", "ln_targets", "ln_psa", "rows", "ln_mean_error", "files"}``;
    ``out`` receives AT2 files (``suite_<i>_<H1|H2|V>.AT2``), ``suite.npz`` and ``suite_spectra.csv``.
    """
    from gmlearn.waveform import load
    from gmlearn.waveform.metrics import rotd

    rng = np.random.default_rng(seed)
    gen = load(model) if isinstance(model, (str, Path)) else model
    dense = _densify(spectrum)
    ln_targets = draw_around(dense, n, rng)
    acc, info = gen.generate(mag, rrup, vs30, n=n, random_state=rng, rake=rake, return_info=True,
                             target={"periods": dense.periods, "ln_psa": ln_targets})
    ln_psa = np.log(rotd(acc[:, 0], acc[:, 1], gen.dt, spectrum.periods, n_angles=36))
    keep = np.isin(dense.periods, spectrum.periods)
    ln_targets = ln_targets[:, keep]
    sd = ln_psa.std(axis=0, ddof=1) if n > 1 else np.zeros(len(spectrum.periods))
    rows = [{"period_s": float(t), "target_psa_g": float(p), "suite_mean_psa_g": float(np.exp(m)),
             "target_sigma_ln": float(s), "suite_sigma_ln": float(d)}
            for t, p, m, s, d in zip(spectrum.periods, spectrum.psa, ln_psa.mean(axis=0), spectrum.sigma, sd)]
    files: list[Path] = []
    if out is not None:
        files = _write(Path(out), acc, gen.dt, info["length_s"], rows, ln_psa, {"mag": mag, "rrup": rrup,
                                                                                 "vs30": vs30, "rake": rake})
    return {"acc": acc, "dt": gen.dt, "length_s": info["length_s"], "ln_targets": ln_targets, "ln_psa": ln_psa,
            "rows": rows, "ln_mean_error": ln_psa.mean(axis=0) - np.log(spectrum.psa), "files": files}


def _write(out: Path, acc: np.ndarray, dt: float, lengths: np.ndarray, rows: list, ln_psa: np.ndarray,
           conditions: dict) -> list[Path]:
    import io

    import pandas as pd

    from gmlearn.store.atomic import atomic_write_bytes
    from gmlearn.waveform.export import write_records

    files = write_records(acc, dt, out, name="suite", formats=("npz", "at2"), conditions=conditions, lengths=lengths)
    table = pd.DataFrame(rows)
    for i in range(ln_psa.shape[0]):
        table[f"record_{i:03d}_psa_g"] = np.exp(ln_psa[i])
    buf = io.StringIO()
    table.to_csv(buf, index=False, float_format="%.6g")
    files.append(atomic_write_bytes(out / "suite_spectra.csv", buf.getvalue().encode()))
    return files
