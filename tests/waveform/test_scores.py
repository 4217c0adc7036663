"""Goodness-of-fit scores."""

from __future__ import annotations

import numpy as np
import pytest

from gmlearn.waveform.scores import anderson_score, frechet_distance, median_bias, sigma_ratio


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    b = rng.standard_normal((4000, 3))
    assert frechet_distance(a, b) < 0.02
    assert frechet_distance(a, b + np.array([1.0, 0.0, 2.0])) == pytest.approx(5.0, abs=0.1)
    with pytest.raises(ValueError, match="same number of columns"):
        frechet_distance(a, b[:, :2])


def test_bias_sigma_anderson():
    x = np.log(np.array([[1.0, 2.0], [2.0, 4.0], [4.0, 8.0]]))
    np.testing.assert_allclose(median_bias(x, np.log([2.0, 2.0])), [0.0, np.log(2.0)])
    np.testing.assert_allclose(sigma_ratio(x, np.array([np.log(2.0), 2 * np.log(2.0)])), [1.0, 0.5])
    assert anderson_score(1.0, 1.0) == pytest.approx(10.0)
    assert anderson_score(1.0, 2.0) < 4.0
