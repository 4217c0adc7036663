"""Processing chain: baseline, resampling, alignment, windows, errors."""

from __future__ import annotations

import numpy as np
import pytest

from gmlearn.waveform import processing as P
from gmlearn.waveform.errors import RecordFormatError
from gmlearn.waveform.metrics import husid
from gmlearn.waveform.records import Record


def test_baseline_correct_removes_trend():
    t = np.arange(1000) * 0.01
    acc = 0.3 + 0.02 * t + 0.01 * np.sin(2 * np.pi * t)
    out = P.baseline_correct(acc, 0.01)
    assert abs(out.mean()) < 1e-3
    assert np.polyfit(t, out, 1)[0] == pytest.approx(0.0, abs=1e-3)


def test_resample_and_window_lengths():
    acc = np.random.default_rng(0).standard_normal((2, 3000))
    out = P.resample(acc, 0.005, 50.0)
    assert out.shape == (2, 750)
    assert P.window(out, 0.02, 40.0).shape == (2, 2000)
    assert P.window(np.ones((1, 5000)), 0.02, 40.0).shape == (1, 2000)


def test_bandpass_rejects_bad_corners():
    with pytest.raises(ValueError, match="low=30"):
        P.bandpass(np.zeros(100), 0.02, low=30.0, high=40.0)


def test_prepare_aligns_on_onset(peer_records):
    acc, present = P.prepare(peer_records)
    assert acc.shape == (3, 3, 2000) and present.all()
    h = husid(acc[:, :2], 0.02).sum(axis=1)
    h /= h[:, -1:]
    t5 = np.argmax(h >= 0.05, axis=-1) * 0.02
    assert np.allclose(t5, P.ONSET, atol=0.05)


def test_prepare_rejects_non_finite():
    acc = np.zeros((3, 500))
    acc[0, 10] = np.nan
    acc[2] = np.nan
    rec = Record(acc, 0.01, "x", meta={"files": ["x.AT2"]})
    rec.acc[0, 10] = np.inf
    with pytest.raises(RecordFormatError, match="finite"):
        P.prepare([rec])
