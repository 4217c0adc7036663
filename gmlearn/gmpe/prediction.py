"""The one prediction type every ground-motion model returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Prediction"]


@dataclass(frozen=True)
class Prediction:
    """Natural-log ground-motion prediction with its standard deviations.

    Every array has shape (n_imts, n_rows); row ``i`` of ``mean`` is the
    prediction for ``imts[i]``.

    Attributes
    ----------
    imts
        Canonical IMT strings, length n_imts.
    mean
        Mean of ln(IM): ln(g) for PGA and SA, ln(cm/s) for PGV.
    tau
        Between-event standard deviation (ln units).
    phi
        Within-event standard deviation (ln units).
    sigma
        Total standard deviation, ``sqrt(tau**2 + phi**2)`` unless the model
        adds other terms (e.g. epistemic).
    """

    imts: tuple[str, ...]
    mean: np.ndarray
    tau: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray

    def __post_init__(self) -> None:
        shape = (len(self.imts), np.shape(self.mean)[-1] if np.ndim(self.mean) else 0)
        for name in ("mean", "tau", "phi", "sigma"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != shape:
                msg = f"Prediction.{name} must have shape (n_imts, n_rows) = {shape}. Got {arr.shape} instead."
                raise ValueError(msg)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "imts", tuple(self.imts))

    @property
    def n_rows(self) -> int:
        """Number of predicted rows."""
        return int(self.mean.shape[1])

    def index(self, imt: str) -> int:
        """Row of ``imt`` in the arrays (``"SA(1)"`` finds ``"SA(1.0)"``)."""
        from gmlearn.schema import imt_string

        key = imt_string(imt)
        try:
            return self.imts.index(key)
        except ValueError:
            msg = f"IMT {imt!r} is not in this prediction; it has {list(self.imts)}."
            raise KeyError(msg) from None

    def for_imt(self, imt: str) -> dict[str, np.ndarray]:
        """Return ``{"mean", "tau", "phi", "sigma"}`` for one IMT, each shape (n_rows,)."""
        i = self.index(imt)
        return {"mean": self.mean[i], "tau": self.tau[i], "phi": self.phi[i], "sigma": self.sigma[i]}

    def to_frame(self) -> "pandas.DataFrame":  # noqa: F821
        """Long table with columns imt, row, mean, tau, phi, sigma."""
        import pandas as pd

        n_imts, n = self.mean.shape
        return pd.DataFrame(
            {
                "imt": np.repeat(np.asarray(self.imts, dtype=object), n),
                "row": np.tile(np.arange(n), n_imts),
                "mean": self.mean.ravel(),
                "tau": self.tau.ravel(),
                "phi": self.phi.ravel(),
                "sigma": self.sigma.ravel(),
            }
        )
