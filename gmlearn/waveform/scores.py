"""Goodness-of-fit scores of generated versus reference ground motions.

All inputs are natural logs of intensity measures; rows are records, columns are
periods (or any other measures).
"""

from __future__ import annotations

import numpy as np

__all__ = ["median_bias", "sigma_ratio", "frechet_distance", "anderson_score", "gof_table"]


def median_bias(ln_generated: np.ndarray, ln_reference: np.ndarray) -> np.ndarray:
    """Median of ln(generated) minus median (or value) of ln(reference), per column.

    ``ln_reference`` may be a vector of GMPE medians (one per column) or a sample.
    """
    ref = np.asarray(ln_reference, dtype=float)
    ref = np.median(ref, axis=0) if ref.ndim == 2 else ref
    return np.median(np.asarray(ln_generated, dtype=float), axis=0) - ref


def sigma_ratio(ln_generated: np.ndarray, sigma_reference: np.ndarray) -> np.ndarray:
    """Standard deviation of ln(generated) over the samples divided by a reference sigma, per column."""
    return np.std(np.asarray(ln_generated, dtype=float), axis=0, ddof=1) / np.asarray(sigma_reference, dtype=float)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two sets of vectors (rows), e.g. log-PSA spectra.

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` (the statistic behind FID).
    """
    from scipy.linalg import sqrtm

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        msg = f"frechet_distance needs two 2-D arrays with the same number of columns and >= 2 rows. Got {a.shape} and {b.shape} instead."
        raise ValueError(msg)
    mu = a.mean(axis=0) - b.mean(axis=0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = sqrtm(sa @ sb)
    root = root.real if np.iscomplexobj(root) else root
    return float(mu @ mu + np.trace(sa + sb - 2.0 * root))


def anderson_score(x_reference: np.ndarray, x_generated: np.ndarray) -> np.ndarray:
    """Anderson (2004) score 0-10 of positive measures (10 = identical): ``10 exp(-((x1 - x2) / min(x1, x2))^2)``."""
    x1, x2 = np.asarray(x_reference, dtype=float), np.asarray(x_generated, dtype=float)
    return 10.0 * np.exp(-(((x1 - x2) / np.minimum(x1, x2)) ** 2))


def gof_table(ln_generated: np.ndarray, ln_reference: np.ndarray, names: list[str]) -> list[dict]:
    """Rows ``{measure, median_bias, std_generated, std_reference}`` for two samples of ln measures."""
    g, r = np.asarray(ln_generated, dtype=float), np.asarray(ln_reference, dtype=float)
    bias = median_bias(g, r)
    return [{"measure": n, "median_bias": float(bias[i]), "std_generated": float(np.std(g[:, i], ddof=1)),
             "std_reference": float(np.std(r[:, i], ddof=1))} for i, n in enumerate(names)]
