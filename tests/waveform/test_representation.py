"""Multi-band log envelope: shapes and the encode -> decode round trip on real records."""

from __future__ import annotations

import numpy as np
import pytest

from gmlearn.waveform.metrics import summary
from gmlearn.waveform.processing import prepare
from gmlearn.waveform.representation import N_BANDS, N_FRAMES, decode, encode


def test_round_trip_keeps_spectra(peer_records):
    acc, _ = prepare(peer_records)
    env = encode(acc)
    assert env.shape == (3, 3 * N_BANDS, N_FRAMES)
    periods = np.array([0.1, 0.3, 1.0, 3.0])
    rebuilt = decode(np.repeat(env, 8, axis=0), random_state=0)
    a = summary(acc, 0.02, periods, n_angles=18)
    b = summary(rebuilt, 0.02, periods, n_angles=18)
    ln_b = np.log(b["psa"]).reshape(3, 8, -1).mean(axis=1)
    assert np.max(np.abs(np.median(ln_b - np.log(a["psa"]), axis=0))) < 0.3
    ratio = np.median(b["arias"].reshape(3, 8), axis=1) / a["arias"]
    assert np.all((ratio > 0.7) & (ratio < 1.4))


def test_encode_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(n, 3, 2000\)"):
        encode(np.zeros((2, 3, 1000)))
