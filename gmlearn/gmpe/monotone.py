"""``monotone``: the tree model with physical monotone constraints.

ln IM is constrained to increase with magnitude and to decrease with every
distance feature (XGBoost ``monotone_constraints``), so no prediction ever
falls with magnitude or rises with distance, whatever the data say.
"""

from __future__ import annotations

from gmlearn.gmpe.mixed import DEFAULT_FEATURES, MixedEffectsBoostedModel

__all__ = ["MonotoneGMM", "MONOTONE"]

#: Constraint per feature: +1 increasing, -1 decreasing.
MONOTONE: dict[str, int] = {"mag": 1, "rrup": -1, "rjb": -1, "repi": -1, "rhypo": -1}


class MonotoneGMM(MixedEffectsBoostedModel):
    """Mixed-effects boosted trees, increasing in magnitude and decreasing in distance.

    Parameters are those of :class:`~gmlearn.gmpe.mixed.MixedEffectsBoostedModel`;
    the constraints apply to whichever of ``mag, rrup, rjb, repi, rhypo`` are
    among ``features``.
    """

    @property
    def monotone(self) -> dict[str, int]:  # type: ignore[override]
        """Constraints of the features in use."""
        return {f: MONOTONE[f] for f in self.features if f in MONOTONE}


__all__ += ["DEFAULT_FEATURES"]
