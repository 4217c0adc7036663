"""Exceptions of the waveform package; each subclasses a gmlearn exception and a built-in."""

from __future__ import annotations

from gmlearn.exceptions import FlatfileError, ModelError

__all__ = ["RecordFormatError", "WaveformModelError"]


class RecordFormatError(FlatfileError):
    """An accelerogram file (PEER AT2 or CSV) is malformed; the message names the file, line and what is allowed."""


class WaveformModelError(ModelError):
    """A waveform generator was asked for something it cannot do (unknown model, bad condition, damaged weights)."""
