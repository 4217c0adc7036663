"""Physics where data end: a learned model's correction withdrawn towards a physics base.

Every learned gmlearn model is anchored to a *physics base*: an OpenQuake
GSIM, or an equal-weight set of them, chosen by the user or by the tectonic
region of the training data (:func:`default_base`). Write ``A(x)`` for the
base's ln mean and ``L(x)`` for the learned model's. Inside the training box
of magnitude and distance the model predicts ``L``; outside it predicts

.. math::

    F(x) = A(x) + \\delta^+(\\bar x)\\,w^+(x) + \\delta^-(\\bar x)\\,w^-(x),
    \\qquad \\delta = \\mathrm{clip}(L - A, \\pm c_{max}),

with ``x̄`` the input clamped to the box and ``δ⁺ = max(δ, 0)``,
``δ⁻ = min(δ, 0)``. ``w⁺`` tapers (cosine, over ``margins``) to zero below the
smallest training magnitude and beyond the largest training distance, ``w⁻``
above the largest magnitude and inside the smallest distance. In words: the
learned correction is withdrawn wherever withdrawing it lowers ground motion
towards smaller magnitudes and larger distances, or raises it towards larger
magnitudes and shorter distances, and is frozen at its edge value elsewhere.
Both moves keep the scaling physical: if ``A`` and the in-box ``L`` rise with
magnitude and fall with distance, so does ``F`` (``δ⁺w⁺`` and ``δ⁻w⁻`` are
then each monotone in the right sense). Far outside the box the prediction is
the base plus at most the edge correction, and never more than ``c_max`` ln
units from the base.

The policy ``extrapolation`` decides what a model does outside its domain:
``"base"`` (the default) applies the rule above; ``"warn"`` returns the raw
learned prediction with an :class:`~gmlearn.exceptions.OutOfRangeWarning`;
``"raise"`` refuses with :class:`~gmlearn.exceptions.ExtrapolationError`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from gmlearn.exceptions import ExtrapolationError, OutOfRangeWarning
from gmlearn.gmpe.reference import GSIM_LABELS, resolve_gsim

__all__ = [
    "EXTRAPOLATION_POLICIES", "GSIM_LABELS", "DEFAULT_BASES", "DEFAULT_MARGINS", "MAX_CORRECTION",
    "resolve_gsim", "default_base", "check_policy", "PhysicsAnchor", "BaseEnsemble", "taper",
    "magnitude_allowance", "allowance_at", "apply_policy", "anchor_means",
]

#: Allowed values of every model's ``extrapolation`` parameter.
EXTRAPOLATION_POLICIES: tuple[str, ...] = ("base", "warn", "raise")

#: Physics base by OpenQuake tectonic region type when ``base="auto"``. The
#: crustal set is the three NGA-West2 models whose magnitude and distance
#: scaling stays physical on :func:`gmlearn.evaluation.consistency.consistent_scenarios`
#: (ASK14 dips by up to 0.03 ln units with magnitude near large ruptures).
DEFAULT_BASES: dict[str, tuple[str, ...]] = {
    "Active Shallow Crust": ("BooreEtAl2014", "CampbellBozorgnia2014", "ChiouYoungs2014"),
    "Stable Shallow Crust": ("BooreEtAl2014", "CampbellBozorgnia2014", "ChiouYoungs2014"),
    "Volcanic": ("BooreEtAl2014", "CampbellBozorgnia2014", "ChiouYoungs2014"),
    "Subduction Interface": ("AbrahamsonEtAl2015SInter",),
    "Subduction IntraSlab": ("AbrahamsonEtAl2015SSlab",),
}

#: Taper widths outside the training box: magnitude units; log10 units for distance.
DEFAULT_MARGINS: dict[str, float] = {"mag": 0.5, "distance": 0.3}

#: Largest allowed |learned - base| in ln units (a factor of 20).
MAX_CORRECTION: float = 3.0


def _names(base: str | Sequence[str]) -> tuple[str, ...]:
    items = base.split("+") if isinstance(base, str) else list(base)
    names = tuple(resolve_gsim(b) for b in items if str(b).strip())
    if not names:
        msg = f"The 'base' parameter must name at least one OpenQuake GSIM or label ({sorted(GSIM_LABELS)}). Got {base!r} instead."
        raise ValueError(msg)
    return names


def default_base(tectonic_region_type: str | None) -> tuple[str, ...]:
    """Physics base for a tectonic region type (Active Shallow Crust when unknown)."""
    return DEFAULT_BASES.get(tectonic_region_type or "Active Shallow Crust", DEFAULT_BASES["Active Shallow Crust"])


def check_policy(policy: str, owner: str) -> None:
    """Raise ValueError unless ``policy`` is one of :data:`EXTRAPOLATION_POLICIES`."""
    if policy not in EXTRAPOLATION_POLICIES:
        msg = f"The 'extrapolation' parameter of {owner} must be one of {list(EXTRAPOLATION_POLICIES)}. Got {policy!r} instead."
        raise ValueError(msg)


def taper(values: np.ndarray, lo: float, hi: float, margin: float, *, below: bool) -> np.ndarray:
    """Cosine taper: 1 on the kept side, 0 beyond ``margin`` past ``lo`` (``below``) or ``hi``.

    ``below=True`` tapers values under ``lo`` and keeps everything above it;
    ``below=False`` tapers values over ``hi``.
    """
    v = np.asarray(values, dtype=float)
    outside = np.maximum(lo - v, 0.0) if below else np.maximum(v - hi, 0.0)
    frac = np.clip(outside / margin, 0.0, 1.0) if margin > 0 else (outside > 0).astype(float)
    return 0.5 * (1.0 + np.cos(np.pi * frac))


def _with_site_defaults(table: pd.DataFrame, required: Sequence[str]) -> pd.DataFrame:
    """``table`` plus the context columns a base needs and a record table may lack.

    ``backarc`` False, ``vs30measured`` False, ``z1pt0``/``z2pt5`` from vs30
    (:mod:`gmlearn.store.derived`), as OpenQuake's own site defaults do.
    """
    missing = [c for c in required if c not in table]
    if not missing:
        return table
    out = table.copy()
    for name in missing:
        if name in ("backarc", "vs30measured"):
            out[name] = False
        elif name in ("z1pt0", "z2pt5") and "vs30" in out:
            from gmlearn.store import derived

            fn = derived.z1pt0_from_vs30 if name == "z1pt0" else derived.z2pt5_from_vs30
            out[name] = fn(pd.to_numeric(out["vs30"]).to_numpy(dtype=float))
    return out


class BaseEnsemble:
    """Equal-weight mean of one or more OpenQuake GSIMs (ln mean; mean tau and phi)."""

    def __init__(self, names: Sequence[str]) -> None:
        from gmlearn.gmpe.reference import OpenQuakeGMPE

        self.names = tuple(names)
        self.models = [OpenQuakeGMPE(n) for n in self.names]

    @property
    def required_features(self) -> tuple[str, ...]:
        """Columns any member needs."""
        return tuple(sorted({c for m in self.models for c in m.required_features}))

    def predict(self, table: pd.DataFrame, imts: Sequence[str]):  # noqa: ANN201 - Prediction
        """Average of the members' ln means and standard deviations."""
        from gmlearn.gmpe.prediction import Prediction

        table = _with_site_defaults(table, self.required_features)
        preds = [m.predict(table, list(imts)) for m in self.models]
        mean = np.mean([p.mean for p in preds], axis=0)
        tau = np.mean([p.tau for p in preds], axis=0)
        phi = np.mean([p.phi for p in preds], axis=0)
        return Prediction(tuple(preds[0].imts), mean, tau, phi, np.sqrt(tau**2 + phi**2))


@dataclass
class PhysicsAnchor:
    """The rule of the module docstring for one fitted model.

    Attributes
    ----------
    base
        OpenQuake GSIM class names of the physics base (equal weights).
    box
        ``{"mag": [lo, hi], "distance": [lo, hi]}`` of the training data (km).
    distance
        The distance column that defines the box (``rjb`` or ``rrup``).
    margins
        Taper widths (``mag`` in magnitude units, ``distance`` in log10 units).
    max_correction
        ``c_max``, ln units.
    regions
        Region labels (the ``region`` column) of the training rows, or None
        when the training table had no such column. Rows labelled with another
        region are a new region: the learned correction, fitted where the
        region's own level, attenuation and site response are mixed into it,
        is not carried there, and they get the base (see
        :mod:`gmlearn.gmpe.adapt` for using a few of the new region's records).
    """

    base: tuple[str, ...]
    box: dict[str, list[float]]
    distance: str = "rjb"
    margins: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MARGINS))
    max_correction: float = MAX_CORRECTION
    regions: tuple[str, ...] | None = None
    _ensemble: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_training(cls, table: pd.DataFrame, base: str | Sequence[str] | None, region_type: str | None, *,
                      distance: str = "rjb", margins: Mapping[str, float] | None = None,
                      max_correction: float = MAX_CORRECTION) -> PhysicsAnchor:
        """Box of the training rows (their magnitude and distance ranges) and the resolved base."""
        names = default_base(region_type) if base in (None, "auto") else _names(base)  # type: ignore[arg-type]
        dist = distance if distance in table else "rrup"
        box = {}
        for key, col in (("mag", "mag"), ("distance", dist)):
            values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            box[key] = [float(values.min()), float(values.max())]
        regions = tuple(sorted(set(table["region"].dropna().astype(str)))) if "region" in table else None
        return cls(tuple(names), box, dist, {**DEFAULT_MARGINS, **dict(margins or {})}, float(max_correction),
                   regions or None)

    # -- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        out = {"base": list(self.base), "box": self.box, "distance": self.distance,
               "margins": self.margins, "max_correction": self.max_correction}
        if self.regions:
            out["regions"] = list(self.regions)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhysicsAnchor:
        """Inverse of :meth:`to_dict`, with the values checked."""
        try:
            box = {k: [float(v[0]), float(v[1])] for k, v in dict(data["box"]).items()}
            out = cls(tuple(str(b) for b in data["base"]), box, str(data.get("distance", "rjb")),
                      {k: float(v) for k, v in dict(data.get("margins", DEFAULT_MARGINS)).items()},
                      float(data.get("max_correction", MAX_CORRECTION)),
                      tuple(str(r) for r in data["regions"]) if data.get("regions") else None)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            msg = f"Model metadata 'anchor' is malformed ({exc}); expected base, box, distance, margins, max_correction."
            raise ValueError(msg) from None
        vals = [v for pair in out.box.values() for v in pair] + [out.max_correction, *out.margins.values()]
        if set(out.box) != {"mag", "distance"} or not all(np.isfinite(vals)) or out.max_correction <= 0:
            msg = f"Model metadata 'anchor' has impossible values: {dict(data)}."
            raise ValueError(msg)
        return out

    # -- evaluation ------------------------------------------------------------------
    @property
    def ensemble(self) -> BaseEnsemble:
        """The base GSIMs (built once)."""
        if self._ensemble is None:
            self._ensemble = BaseEnsemble(self.base)
        return self._ensemble

    @property
    def required_features(self) -> tuple[str, ...]:
        """Columns the base and the box need."""
        return tuple(dict.fromkeys([*self.ensemble.required_features, "mag", self.distance]))

    def _values(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        mag = pd.to_numeric(table["mag"]).to_numpy(dtype=float)
        dist = pd.to_numeric(table[self.distance]).to_numpy(dtype=float)
        return mag, dist

    def outside(self, table: pd.DataFrame) -> np.ndarray:
        """Rows outside the training box, shape (n_rows,)."""
        mag, dist = self._values(table)
        (m0, m1), (d0, d1) = self.box["mag"], self.box["distance"]
        return (mag < m0) | (mag > m1) | (dist < d0) | (dist > d1)

    def foreign(self, table: pd.DataFrame) -> np.ndarray:
        """Rows labelled with a region the model was not trained on, shape (n_rows,)."""
        if not self.regions or "region" not in table:
            return np.zeros(len(table), dtype=bool)
        labels = table["region"].astype(str).to_numpy()
        return ~np.isin(labels, np.asarray(self.regions, dtype=object)) & table["region"].notna().to_numpy()

    def clamp(self, table: pd.DataFrame) -> pd.DataFrame:
        """Copy of ``table`` with magnitude and distance moved into the box.

        The box distance is clipped; the other distances follow so the
        rupture-site geometry stays self-consistent: ``rrup`` and ``rjb``
        keep their depth offset ``rrup**2 - rjb**2``, ``repi`` moves by the
        same amount as ``rjb`` and ``rhypo`` keeps its depth offset.
        """
        out = table.copy()
        num = {c: pd.to_numeric(out[c]).to_numpy(dtype=float) for c in ("rrup", "rjb", "repi", "rhypo") if c in out}
        out["mag"] = np.clip(pd.to_numeric(out["mag"]).to_numpy(dtype=float), *self.box["mag"])
        lo, hi = self.box["distance"]
        old = num[self.distance]
        new = np.clip(old, lo, hi)
        out[self.distance] = new
        other = "rrup" if self.distance == "rjb" else "rjb"
        if other in num:
            h2 = np.maximum(num["rrup"] ** 2 - num["rjb"] ** 2, 0.0)
            out[other] = np.sqrt(new**2 + h2) if other == "rrup" else np.sqrt(np.maximum(new**2 - h2, 0.0))
        if "repi" in num:
            shift = (out["rjb"].to_numpy(dtype=float) - num["rjb"]) if "rjb" in num else (new - old)
            repi = np.maximum(num["repi"] + shift, 0.0)
            out["repi"] = repi
            if "rhypo" in num:
                out["rhypo"] = np.sqrt(np.maximum(num["rhypo"] ** 2 - num["repi"] ** 2, 0.0) + repi**2)
        return out

    def weights(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(w_plus, w_minus)``: how much of a positive / negative correction is kept, each (n_rows,)."""
        mag, dist = self._values(table)
        (m0, m1), (d0, d1) = self.box["mag"], self.box["distance"]
        logd = np.log10(np.maximum(dist, 0.1))
        ld0, ld1 = np.log10(max(d0, 0.1)), np.log10(max(d1, 0.1))
        mm, dm = self.margins["mag"], self.margins["distance"]
        w_plus = taper(mag, m0, m1, mm, below=True) * taper(logd, ld0, ld1, dm, below=False)
        w_minus = taper(mag, m0, m1, mm, below=False) * taper(logd, ld0, ld1, dm, below=True)
        return w_plus, w_minus

    def combine(self, base_mean: np.ndarray, delta: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        """``A + δ⁺w⁺ + δ⁻w⁻`` for base means ``A`` and edge corrections ``δ``, each (n_imts, n_rows)."""
        d = np.clip(delta, -self.max_correction, self.max_correction)
        w_plus, w_minus = self.weights(table)
        return base_mean + np.maximum(d, 0.0) * w_plus + np.minimum(d, 0.0) * w_minus


#: Share of the base's smallest magnitude slope a learned correction may take back.
ALLOWANCE_SHARE = 0.9
#: Largest magnitude slope a correction may take back (ln units per magnitude unit): a larger
#: allowance leaves the trees a steep function of magnitude to fit, which costs accuracy.
ALLOWANCE_MAX_SLOPE = 0.5


def magnitude_allowance(ensemble: BaseEnsemble, imts: Sequence[str], *, share: float = ALLOWANCE_SHARE,
                        max_slope: float | None = None) -> dict[str, list[list[float]]]:
    """How far a correction on top of the base may fall with magnitude without reversing the base's scaling.

    The base is evaluated on consistent scenarios
    (:func:`gmlearn.store.derived.scenario_table`: magnitudes 3-8.5, 30
    distances 0.1-500 km, five vs30, three styles of faulting); ``s(M)`` is
    its smallest magnitude slope over all of them, clipped at zero. The
    allowance ``K(M) = integral of min(share * s, max_slope)`` is returned per IMT as
    ``[magnitudes, K]``. A learner that fits ``residual + K(mag)`` under an
    increasing-in-magnitude constraint gives a correction
    ``h(x) - K(mag)`` whose magnitude slope is at least ``-share * s(M)``, so
    base plus correction still rises with magnitude on every such scenario
    while the correction can flatten the base's scaling where a region's data
    say so.
    """
    from gmlearn.store.derived import scenario_table

    mags = np.round(np.arange(3.0, 8.5001, 0.1), 2)
    dist = np.geomspace(0.1, 500.0, 30)
    vs30 = np.array([150.0, 270.0, 400.0, 760.0, 1500.0])
    rake = np.array([0.0, 90.0, -90.0])
    r, v, m, d = (a.ravel() for a in np.meshgrid(rake, vs30, mags, dist, indexing="ij"))
    mean = ensemble.predict(scenario_table(m, d, v, r), list(imts)).mean
    out = {}
    for k, imt in enumerate(imts):
        grid = mean[k].reshape(len(rake), len(vs30), len(mags), len(dist))
        slope = np.diff(grid, axis=2) / np.diff(mags)[None, None, :, None]
        cap = ALLOWANCE_MAX_SLOPE if max_slope is None else max_slope
        smin = np.minimum(share * np.clip(slope.min(axis=(0, 1, 3)), 0.0, None), cap)
        allowance = np.concatenate([[0.0], np.cumsum(smin * np.diff(mags))])
        out[imt] = [mags.tolist(), np.round(allowance, 6).tolist()]
    return out


def allowance_at(allowance: Sequence[Sequence[float]], mag: np.ndarray) -> np.ndarray:
    """``K(mag)`` from a :func:`magnitude_allowance` table (constant beyond its ends)."""
    m, k = np.asarray(allowance[0], dtype=float), np.asarray(allowance[1], dtype=float)
    return np.interp(np.asarray(mag, dtype=float), m, k)


def apply_policy(policy: str, anchor: PhysicsAnchor | None, table: pd.DataFrame, owner: str,
                 ranges: Mapping[str, Sequence[float]] | None = None, *, stacklevel: int = 3
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Check ``table`` against the model's domain under ``policy``; return the (outside, foreign) masks.

    ``outside``: rows outside the training box; ``foreign``: rows of a region
    the model was not trained on. ``"raise"`` raises :class:`ExtrapolationError`
    naming the first such row; ``"warn"`` warns per feature outside its fitted
    range (the raw learned prediction follows); ``"base"`` warns with the
    number of rows that fall back towards the physics base, so no
    extrapolation passes silently.
    """
    from gmlearn.gmpe.base import caller_stacklevel, warn_out_of_range

    none = np.zeros(len(table), dtype=bool)
    outside = anchor.outside(table) if anchor is not None else none
    foreign = anchor.foreign(table) if anchor is not None else none
    if foreign.any() and policy != "warn":
        i = int(np.flatnonzero(foreign)[0])
        text = (f"{owner}: {int(foreign.sum())} of {len(table)} row(s) are from a region the model was not trained on "
                f"(first at row {i}: region {table['region'].iloc[i]!r}; trained on {list(anchor.regions)})")  # type: ignore[union-attr]
        if policy == "raise":
            raise ExtrapolationError(text + ". Adapt the model with model.adapt(records_of_that_region), or use extrapolation='base'.")
        warnings.warn(text + f"; they get the physics base {'+'.join(anchor.base)} (model.adapt() learns the new region).",  # type: ignore[union-attr]
                      OutOfRangeWarning, stacklevel=caller_stacklevel(stacklevel + 1))
    if policy == "raise" and outside.any():
        i = int(np.flatnonzero(outside)[0])
        mag, dist = anchor._values(table)  # type: ignore[union-attr]
        msg = (f"{owner}: {int(outside.sum())} row(s) lie outside the training domain "
               f"(mag {anchor.box['mag']}, {anchor.distance} {anchor.box['distance']} km); first at row {i}: "  # type: ignore[union-attr]
               f"mag={mag[i]:g}, {anchor.distance}={dist[i]:g}. Use extrapolation='base' to fall back on "  # type: ignore[union-attr]
               f"{'+'.join(anchor.base)} there, or 'warn' to extrapolate the learned model.")  # type: ignore[union-attr]
        raise ExtrapolationError(msg)
    if policy == "warn" and ranges:
        warn_out_of_range(table, ranges, owner, stacklevel=stacklevel + 1)
    elif policy == "base" and ranges:  # features the box does not cover (vs30, depth...): the learner extrapolates
        boxed = {"mag", "rrup", "rjb", "repi", "rhypo"}
        warn_out_of_range(table, {k: v for k, v in ranges.items() if k not in boxed}, owner, stacklevel=stacklevel + 1)
    if policy == "base" and outside.any():
        warnings.warn(
            f"{owner}: {int(outside.sum())} of {len(table)} row(s) lie outside the training domain "
            f"(mag {anchor.box['mag']}, {anchor.distance} {anchor.box['distance']} km); "  # type: ignore[union-attr]
            f"their predictions move towards the physics base {'+'.join(anchor.base)}.",  # type: ignore[union-attr]
            OutOfRangeWarning,
            stacklevel=caller_stacklevel(stacklevel + 1),
        )
    return outside, foreign


def anchor_means(anchor: PhysicsAnchor, table: pd.DataFrame, names: Sequence[str], mean: np.ndarray,
                 outside: np.ndarray, foreign: np.ndarray, learned: Any) -> Any:
    """Apply ``extrapolation="base"`` to a model's ln means, in place; return the base prediction of new-region rows.

    Rows ``outside`` the box (and not ``foreign``) get the withdraw-or-freeze
    rule of this module, with ``learned(rows)`` the model's ln mean (bias
    included, shape (n_imts, n_rows)) at other rows; ``foreign`` rows (a region
    the model was not trained on) get the base mean. Returns the base
    :class:`~gmlearn.gmpe.prediction.Prediction` of the foreign rows, whose
    tau and phi the caller uses there, or None when there are none.
    """
    names = list(names)
    boxed = np.flatnonzero(outside & ~foreign)
    if boxed.size:
        rows = table.iloc[boxed]
        clamped = anchor.clamp(rows)
        delta = learned(clamped) - anchor.ensemble.predict(clamped, names).mean
        mean[:, boxed] = anchor.combine(anchor.ensemble.predict(rows, names).mean, delta, rows)
    if not foreign.any():
        return None
    base = anchor.ensemble.predict(table.iloc[np.flatnonzero(foreign)], names)
    mean[:, foreign] = base.mean
    return base
