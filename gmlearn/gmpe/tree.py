"""``tree``: XGBoost fixed effects with event and station random effects.

The number of boosting rounds is the median of early-stopped counts on three
disjoint event-grouped validation sets; the learner is then refitted on all
events, and the random effects give tau, phi, phi_SS (from the held-out
events) and the event and station terms (see :mod:`gmlearn.gmpe.mixed`).
"""

from __future__ import annotations

from gmlearn.gmpe.mixed import DEFAULT_FEATURES, MixedEffectsBoostedModel

__all__ = ["TreeGMM", "DEFAULT_FEATURES"]


class TreeGMM(MixedEffectsBoostedModel):
    """Mixed-effects gradient-boosted trees (no constraints).

    See :class:`~gmlearn.gmpe.mixed.MixedEffectsBoostedModel` for the
    parameters. Defaults (depth-2 trees, ``min_child_weight=20``, learning
    rate 0.05, early stopping on 20 % of events, one EM iteration) were
    chosen by event-grouped 5-fold CV on NZSMD crustal records.

    Examples
    --------
    >>> from gmlearn.gmpe.tree import TreeGMM
    >>> model = TreeGMM(random_state=0).fit(table, ["PGA", "SA(1.0)"])  # doctest: +SKIP
    >>> pred = model.predict(new_table, station_terms="known")  # doctest: +SKIP
    """
