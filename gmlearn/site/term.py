"""Site terms attached to any ground-motion model.

- :class:`DataDrivenSiteTerm` adds the ln amplification of a fitted
  :class:`SiteAmplificationModel` (or the station's own dS2S for stations
  seen in fitting) and replaces ``phi`` by ``sqrt(phi_SS^2 + sd^2)``.
- :class:`LinearSHSiteTerm` evaluates the model at the profile's reference
  (half-space) vs30 and adds the ln amplification of the linear 1-D SH
  transfer function at each period.

Both are models themselves (``predict(table, imts) -> Prediction``), so they
plug into :func:`gmlearn.shakemap.compute_shakemap` and everything else.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from gmlearn.gmpe.base import GroundMotionModel, as_imts
from gmlearn.gmpe.prediction import Prediction
from gmlearn.schema import parse_imt
from gmlearn.site.amplification import SiteAmplificationModel
from gmlearn.site.sh1d import Profile, amplification_at_periods

__all__ = ["DataDrivenSiteTerm", "LinearSHSiteTerm"]


class DataDrivenSiteTerm(GroundMotionModel):
    """``model`` plus the data-driven site term.

    Parameters
    ----------
    site_model
        A fitted :class:`SiteAmplificationModel`; its ``base`` is the model
        the term is added to.
    known_stations
        For rows whose ``station_id`` was in the fitting data, add that
        station's own dS2S (a non-ergodic site term) instead of the feature
        prediction, with zero term uncertainty.
    """

    def __init__(self, site_model: SiteAmplificationModel, *, known_stations: bool = False) -> None:
        self.site_model = site_model
        self.known_stations = known_stations

    @property
    def required_features(self) -> tuple[str, ...]:  # type: ignore[override]
        """The base model's features and vs30."""
        return tuple(sorted(set(getattr(self.site_model.base, "required_features", ())) | {"vs30"}))

    def fit(self, table: pd.DataFrame, imts: str | Iterable[str]) -> "DataDrivenSiteTerm":
        """Fit the site model on ``table``; returns ``self``."""
        self.site_model.fit(table, imts)
        return self

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str]) -> Prediction:
        """Base prediction + ln amplification; ``phi = sqrt(phi_SS^2 + sd_term^2)``."""
        names = as_imts(imts)
        base = self.site_model.base.predict(table, names)
        amp, sd = self.site_model.predict_terms(table, names)
        if self.known_stations and "station_id" in table:
            ids = table["station_id"].astype(str).to_numpy()
            for i, imt in enumerate(names):
                known = self.site_model.effects_[imt].station_terms.reindex(ids).to_numpy(float)
                ok = np.isfinite(known)
                amp[i, ok] = known[ok]
                sd[i, ok] = 0.0
        phi_ss = np.array([self.site_model.phi_ss_[i] for i in names])[:, None]
        phi = np.sqrt(phi_ss**2 + sd**2)
        extra = np.maximum(base.sigma**2 - base.tau**2 - base.phi**2, 0.0)
        return Prediction(base.imts, base.mean + amp, base.tau, phi, np.sqrt(base.tau**2 + phi**2 + extra))


class LinearSHSiteTerm(GroundMotionModel):
    """``model`` at the reference rock vs30 plus the linear 1-D SH amplification of ``profile``.

    Parameters
    ----------
    model
        Any model with ``predict(table, imts)``.
    profile
        The soil profile (:class:`Profile`); the same profile applies to every row.
    reference_vs30
        vs30 (m/s) at which the model is evaluated (the rock the transfer
        function starts from); default: the half-space Vs of the profile.
    """

    def __init__(self, model: Any, profile: Profile, *, reference_vs30: float | None = None) -> None:
        self.model = model
        self.profile = profile
        self.reference_vs30 = reference_vs30

    def predict(self, table: pd.DataFrame, imts: str | Iterable[str]) -> Prediction:
        """Model at the reference vs30, plus ln|H| (Konno-Ohmachi smoothed) at f = 1/T per IMT."""
        names = as_imts(imts)
        ref = float(self.reference_vs30 or self.profile.vs[-1])
        rock = table.copy()
        rock["vs30"] = ref
        if "z1pt0" in rock:
            from gmlearn.store.derived import z1pt0_from_vs30

            rock["z1pt0"] = z1pt0_from_vs30(rock["vs30"].to_numpy(float))
        base = self.model.predict(rock, names)
        periods = [float(getattr(parse_imt(i), "period", None) or 0.0) for i in names]
        amp = amplification_at_periods(self.profile, periods)[:, None]
        return Prediction(base.imts, base.mean + amp, base.tau, base.phi, base.sigma)
