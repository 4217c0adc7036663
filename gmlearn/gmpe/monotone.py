"""``monotone``: the data-driven tree model with physical monotone constraints.

ln IM is constrained to increase with magnitude and hypocentral depth and to
decrease with every distance feature (XGBoost ``monotone_constraints``), so no
prediction falls with magnitude or rises with distance, whatever the data say.
The model learns from the data alone (no physics base in its mean); the base
(``"auto"`` by default) takes over where the data end (:mod:`gmlearn.gmpe.anchor`).
"""

from __future__ import annotations

from gmlearn.gmpe.mixed import DEFAULT_FEATURES, PHYSICAL_SCALING, MixedEffectsBoostedModel

__all__ = ["MonotoneGMM", "MONOTONE", "DEFAULT_FEATURES"]

#: Constraint per feature: +1 increasing, -1 decreasing.
MONOTONE: dict[str, int] = dict(PHYSICAL_SCALING)


class MonotoneGMM(MixedEffectsBoostedModel):
    """Mixed-effects boosted trees, increasing in magnitude and decreasing in distance.

    Parameters are those of :class:`~gmlearn.gmpe.mixed.MixedEffectsBoostedModel`;
    ``scaling`` must stay ``"physical"``. The constraints apply to whichever of
    ``mag, hypo_depth, rrup, rjb, repi, rhypo`` are among ``features``.
    """

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.scaling != "physical":
            msg = f"MonotoneGMM is constrained by definition: 'scaling' must be 'physical'. Got {self.scaling!r} instead; use TreeGMM(scaling='free')."
            raise ValueError(msg)
