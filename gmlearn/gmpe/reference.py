"""Any OpenQuake hazardlib GSIM as a gmlearn :class:`GroundMotionModel`.

The reference models are the yardstick every learned model is measured
against. Prediction builds one context array holding only what the GSIM
declares (``REQUIRES_*``) and makes a single vectorised call to
:func:`openquake.hazardlib.contexts.get_mean_stds`, which evaluates all
magnitudes at once (``split_by_mag=False``).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.base import GroundMotionModel, as_imts, check_features
from gmlearn.gmpe.prediction import Prediction

__all__ = ["OpenQuakeGMPE", "available_gsims", "GSIM_LABELS", "resolve_gsim"]

#: Short labels accepted wherever a GMPE is named, in the API and the CLI alike.
GSIM_LABELS: dict[str, str] = {
    "ASK14": "AbrahamsonEtAl2014",
    "BSSA14": "BooreEtAl2014",
    "CB14": "CampbellBozorgnia2014",
    "CY14": "ChiouYoungs2014",
    "Bradley2013": "Bradley2013",
    "BCHydro-interface": "AbrahamsonEtAl2015SInter",
    "BCHydro-slab": "AbrahamsonEtAl2015SSlab",
}


def resolve_gsim(name: str) -> str:
    """OpenQuake class name of a label (``"CB14"``) or of a class name (returned as is)."""
    key = str(name).strip()
    return GSIM_LABELS.get(key, key)


def available_gsims() -> list[str]:
    """Names of every GSIM class in OpenQuake's registry."""
    from openquake.hazardlib.gsim import get_available_gsims

    return sorted(get_available_gsims())


def _build(gsim: str, kwargs: dict[str, Any]):  # noqa: ANN202 - OpenQuake GSIM instance
    from openquake.hazardlib.gsim import get_available_gsims

    registry = get_available_gsims()
    gsim = resolve_gsim(gsim)
    if gsim not in registry:
        import difflib

        close = difflib.get_close_matches(gsim, list(registry), n=5)
        msg = f"Unknown OpenQuake GSIM {gsim!r}; did you mean one of {close}? See gmlearn.gmpe.reference.available_gsims()."
        raise ModelError(msg)
    try:
        return registry[gsim](**kwargs)
    except Exception as exc:  # OpenQuake raises many types for bad arguments
        msg = f"OpenQuake GSIM {gsim!r} rejected the arguments {kwargs}: {exc}"
        raise ModelError(msg) from exc


class OpenQuakeGMPE(GroundMotionModel):
    """A published GMPE from OpenQuake hazardlib.

    Parameters
    ----------
    gsim
        Class name in OpenQuake's registry, e.g. ``"BooreEtAl2014"``, or a
        label of :data:`GSIM_LABELS` (``"CB14"``).
    **gsim_kwargs
        Arguments of that GSIM (e.g. ``region="CHN"``).

    Notes
    -----
    As every scikit-learn estimator, the constructor only stores its
    arguments: the GSIM is built (and an unknown name or a bad argument
    raises :class:`~gmlearn.exceptions.ModelError`) on first use, by
    ``fit``, ``predict`` or ``required_features``. A published model needs no
    fit: ``fit`` records the IMTs that ``predict(X)`` then predicts.

    Examples
    --------
    >>> model = OpenQuakeGMPE("BooreEtAl2014")  # doctest: +SKIP
    >>> pred = model.predict(table, ["PGA", "SA(1.0)"])  # doctest: +SKIP
    >>> pred.mean.shape  # doctest: +SKIP
    (2, 4284)
    """

    def __init__(self, gsim: str = "BooreEtAl2014", **gsim_kwargs: Any) -> None:
        self.gsim = resolve_gsim(gsim)
        self.gsim_kwargs = gsim_kwargs

    @property
    def _gsim(self):  # noqa: ANN202 - OpenQuake GSIM instance
        """The OpenQuake GSIM, built on first use (and again after :meth:`set_params`)."""
        key = (self.gsim, repr(sorted(self.gsim_kwargs.items())))
        cache = self.__dict__.get("_gsim_cache")
        if cache is None or cache[0] != key:
            cache = (key, _build(self.gsim, dict(self.gsim_kwargs)))
            self.__dict__["_gsim_cache"] = cache
        return cache[1]

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002
        """Constructor arguments: ``gsim`` and the GSIM's own keyword arguments."""
        return {"gsim": self.gsim, **self.gsim_kwargs}

    def _needs_fit(self) -> bool:
        """A published GMPE predicts without being fitted."""
        return False

    def set_params(self, **params: Any) -> "OpenQuakeGMPE":
        """Set ``gsim`` or any GSIM argument (a new name becomes a GSIM argument); return ``self``."""
        if "gsim" in params:
            self.gsim = params.pop("gsim")
        self.gsim_kwargs = {**self.gsim_kwargs, **params}
        self.__dict__.pop("_gsim_cache", None)
        return self

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """Context columns the GSIM needs (distances, sites, rupture)."""
        g = self._gsim
        return tuple(sorted(set(g.REQUIRES_RUPTURE_PARAMETERS) | set(g.REQUIRES_DISTANCES) | set(g.REQUIRES_SITES_PARAMETERS)))

    @property
    def supported_imts(self) -> list[str]:
        """IMT families the GSIM is defined for (``PGA``, ``PGV``, ``SA``)."""
        return sorted(i.__name__ for i in self._gsim.DEFINED_FOR_INTENSITY_MEASURE_TYPES)

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str]) -> "OpenQuakeGMPE":
        """Published models are not refitted: checks the GSIM name, records ``imts_`` (what ``predict(X)`` predicts), returns ``self``."""
        self._gsim  # noqa: B018 - builds the GSIM: an unknown name or a bad argument raises ModelError here
        self.imts_ = as_imts(imts)
        self.n_features_in_ = len(self.required_features)
        return self

    def _check_imts(self, names: list[str]) -> None:
        families = set(self.supported_imts)
        unsupported = [i for i in names if i.split("(")[0] not in families]
        if unsupported:
            msg = f"{self.gsim} is not defined for {unsupported}; it supports {sorted(families)}."
            raise ModelError(msg)

    def context(self, table: pd.DataFrame) -> np.recarray:
        """Build the OpenQuake context array for ``table`` (the input is not modified)."""
        required = self.required_features
        flags = ("vs30measured", "backarc")  # boolean site parameters
        check_features(table, [r for r in required if r != "backarc"], model=f"OpenQuakeGMPE({self.gsim!r})")
        if "backarc" in required and "backarc" not in table:
            msg = f"OpenQuakeGMPE({self.gsim!r}) requires column(s) ['backarc']; the table has {list(map(str, table.columns))}."
            raise MissingColumnError(msg)
        n = len(table)
        dtype = [(name, bool if name in flags else float) for name in required]
        for extra in ("occurrence_rate", "sids"):
            if extra not in required:
                dtype.append((extra, np.uint32 if extra == "sids" else float))
        ctx = np.recarray(n, dtype=dtype)
        for name in required:
            values = table[name]
            if name in flags:
                ctx[name] = values.astype(bool).to_numpy()
            else:
                ctx[name] = pd.to_numeric(values).to_numpy(dtype=float)
        ctx["occurrence_rate"] = 0.0
        ctx["sids"] = np.arange(n, dtype=np.uint32)
        return ctx

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str]) -> Prediction:
        """ln mean, tau, phi and sigma, each shaped (n_imts, n_rows).

        Raises
        ------
        MissingColumnError
            If ``table`` lacks a column the GSIM requires.
        ModelError
            If the GSIM is not defined for an IMT or period.
        """
        from openquake.hazardlib import imt as oq_imt
        from openquake.hazardlib.contexts import get_mean_stds

        names = as_imts(imts)
        self._check_imts(names)
        if len(table) == 0:
            empty = np.zeros((len(names), 0))
            return Prediction(tuple(names), empty, empty, empty, empty)
        ctx = self.context(table)
        try:
            out = get_mean_stds(self._gsim, ctx, [oq_imt.from_string(i) for i in names])
        except KeyError as exc:
            msg = f"{self.gsim} has no coefficients for {names} ({exc}); check its period range."
            raise ModelError(msg) from exc
        mean, sig, tau, phi = (np.asarray(out[k], dtype=float) for k in range(4))
        return Prediction(tuple(names), mean, tau, phi, sig)
