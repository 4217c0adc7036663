"""Waveforms: accelerogram I/O and processing, intensity measures, stochastic simulation and generators.

Submodules (imported on demand; torch is only loaded by the neural generators):

- :mod:`~gmlearn.waveform.records` — PEER AT2 and FEMA P695 readers joined with NGA-West2;
- :mod:`~gmlearn.waveform.processing` — baseline, taper, band-pass, resampling, alignment, windows;
- :mod:`~gmlearn.waveform.metrics` — PSA, RotD50, FAS, Arias intensity, durations, PGA, PGV;
- :mod:`~gmlearn.waveform.scores` — goodness of fit and the Fréchet distance of log-PSA vectors;
- :mod:`~gmlearn.waveform.stochastic` — Boore (2003) point-source simulation;
- :mod:`~gmlearn.waveform.timing` — arrivals, Afshari and Stewart (2016) durations, record length, kappa;
- :mod:`~gmlearn.waveform.realism` — the realism layer every generator passes through (P/S, coda, kappa, baseline);
- :mod:`~gmlearn.waveform.target` — spectra drawn from a ground-motion model and spectral matching;
- :mod:`~gmlearn.waveform.pulse` — near-fault velocity pulses (Mavroeidis-Papageorgiou, Shahi-Baker 2014);
- :mod:`~gmlearn.waveform.generators` — the conditional WGAN-GP and diffusion models;
- :mod:`~gmlearn.waveform.persistence` — safetensors + JSON sidecar.

>>> from gmlearn import waveform
>>> model = waveform.load("cgan")  # doctest: +SKIP
>>> acc = model.generate(6.5, 20.0, 400.0, n=10, random_state=0, rake=90.0)  # (10, 3, n_t) g, 100 Hz  # doctest: +SKIP
>>> acc = model.generate(6.5, 20.0, 400.0, n=10, target="BooreEtAl2014")  # spectra from BSSA14  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["load", "MODELS"]

MODELS = ("cgan", "diffusion", "stochastic")


def load(name: str = "cgan") -> Any:
    """Load a waveform generator (``"cgan"``, ``"diffusion"``, ``"stochastic"`` or a saved path).

    See :func:`gmlearn.waveform.persistence.load`.
    """
    from gmlearn.waveform.persistence import load as _load

    return _load(name)
