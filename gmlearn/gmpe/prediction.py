"""The one prediction type every ground-motion model returns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas
    import xarray

__all__ = ["Prediction", "QUANTITIES"]

#: The arrays of a prediction, each shaped (n_imts, n_rows).
QUANTITIES: tuple[str, ...] = ("mean", "tau", "phi", "sigma")


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
    index
        Optional labels of the rows, length n_rows: the index of the table
        that was predicted (every model's ``predict`` keeps it).
        :meth:`to_frame` and :meth:`to_xarray` label the rows with it; None
        numbers them 0..n_rows-1.

    Notes
    -----
    ``numpy.asarray(prediction)`` is the mean transposed to (n_rows, n_imts),
    the shape of a scikit-learn ``y`` with one column per IMT, so
    scikit-learn's regression metrics and scorers accept a prediction.
    """

    imts: tuple[str, ...]
    mean: np.ndarray
    tau: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray
    index: Any = None

    def __post_init__(self) -> None:
        shape = (len(self.imts), np.shape(self.mean)[-1] if np.ndim(self.mean) else 0)
        for name in QUANTITIES:
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != shape:
                msg = f"Prediction.{name} must have shape (n_imts, n_rows) = {shape}. Got {arr.shape} instead."
                raise ValueError(msg)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "imts", tuple(self.imts))
        if self.index is not None:
            import pandas as pd

            index = self.index if isinstance(self.index, pd.Index) else pd.Index(self.index)
            if len(index) != shape[1]:
                msg = f"Prediction.index must have one label per row ({shape[1]}). Got {len(index)} instead."
                raise ValueError(msg)
            object.__setattr__(self, "index", index)

    @property
    def n_rows(self) -> int:
        """Number of predicted rows."""
        return int(self.mean.shape[1])

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:  # noqa: ARG002 - numpy protocol
        """The mean, shape (n_rows, n_imts): what scikit-learn's metrics compare with ``y``."""
        return np.asarray(self.mean.T, dtype=dtype)

    def with_index(self, index: Any) -> Prediction:
        """The same prediction with row labels ``index`` (length n_rows)."""
        return replace(self, index=index)

    def row_index(self) -> pandas.Index:
        """The row labels: :attr:`index`, or a RangeIndex named ``row`` when there is none."""
        import pandas as pd

        return self.index if self.index is not None else pd.RangeIndex(self.n_rows, name="row")

    def index_of(self, imt: str) -> int:
        """Position of ``imt`` in :attr:`imts` (``"SA(1)"`` finds ``"SA(1.0)"``)."""
        from gmlearn.schema import imt_string

        key = imt_string(imt)
        try:
            return self.imts.index(key)
        except ValueError:
            msg = f"IMT {imt!r} is not in this prediction; it has {list(self.imts)}."
            raise KeyError(msg) from None

    def for_imt(self, imt: str) -> dict[str, np.ndarray]:
        """Return ``{"mean", "tau", "phi", "sigma"}`` for one IMT, each shape (n_rows,)."""
        i = self.index_of(imt)
        return {name: getattr(self, name)[i] for name in QUANTITIES}

    def to_frame(self, quantity: str | None = None) -> pandas.DataFrame:
        """The prediction as a pandas DataFrame, rows labelled by :attr:`index`.

        Parameters
        ----------
        quantity
            None (default): long table, one row per (IMT, input row), columns
            ``imt, row, mean, tau, phi, sigma`` (``row`` is the 0-based
            position) and the input index repeated per IMT. ``"mean"``,
            ``"tau"``, ``"phi"`` or ``"sigma"``: wide table of that quantity,
            one row per input row and one column per IMT (the layout of a
            scikit-learn ``y``).
        """
        import pandas as pd

        labels = self.row_index()
        if quantity is not None:
            if quantity not in QUANTITIES:
                msg = f"The 'quantity' parameter of Prediction.to_frame must be one of {list(QUANTITIES)} or None. Got {quantity!r} instead."
                raise ValueError(msg)
            return pd.DataFrame(getattr(self, quantity).T, index=labels, columns=list(self.imts))
        n_imts, n = self.mean.shape
        frame = pd.DataFrame(
            {
                "imt": np.repeat(np.asarray(self.imts, dtype=object), n),
                "row": np.tile(np.arange(n), n_imts),
                **{name: getattr(self, name).ravel() for name in QUANTITIES},
            },
            index=labels.take(np.tile(np.arange(n), n_imts)),
        )
        return frame

    def to_xarray(self) -> xarray.Dataset:
        """An ``xarray.Dataset`` with variables mean, tau, phi and sigma on dims (``imt``, ``row``).

        The ``row`` coordinate holds :attr:`index` (a MultiIndex becomes its
        tuples); units follow the schema: ``mean`` in ln(g) for PGA and SA
        and ln(cm/s) for PGV, standard deviations in natural-log units.
        """
        import xarray as xr

        labels = self.row_index()
        row = labels.to_flat_index() if labels.nlevels > 1 else labels
        attrs = {
            "mean": {"long_name": "mean of the natural log of the intensity measure",
                     "units": "1", "description": "ln(g) for PGA and SA, ln(cm/s) for PGV"},
            "tau": {"long_name": "between-event standard deviation of ln(IM)", "units": "1"},
            "phi": {"long_name": "within-event standard deviation of ln(IM)", "units": "1"},
            "sigma": {"long_name": "total standard deviation of ln(IM)", "units": "1"},
        }
        data = {name: (("imt", "row"), getattr(self, name), attrs[name]) for name in QUANTITIES}
        return xr.Dataset(data, coords={"imt": list(self.imts), "row": np.asarray(row, dtype=object if row.dtype == object else None)})
