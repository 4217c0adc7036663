import numpy as np
import pytest

from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.gmpe.baseline import XGBoostBaseline


@pytest.fixture(scope="module")
def crustal(nzsmd_table):
    return nzsmd_table[nzsmd_table["tectonic_region"] == "crustal"].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(crustal):
    return XGBoostBaseline(n_estimators=300, random_state=1).fit(crustal, ["PGA", "SA(1.0)"])


def test_fit_predict_shapes_and_sigma(fitted, nzsmd_crustal):
    pred = fitted.predict(nzsmd_crustal.iloc[:50], ["PGA", "SA(1.0)"])
    assert pred.mean.shape == (2, 50)
    # tau and phi are estimated on the ~27 held-back events, out of sample
    assert np.all((pred.tau > 0.2) & (pred.tau < 0.8)) and np.all((pred.phi > 0.4) & (pred.phi < 0.9))
    np.testing.assert_allclose(pred.sigma, np.hypot(pred.tau, pred.phi))
    resid = nzsmd_crustal["PGA"].to_numpy()[:50] - pred.mean[0]
    assert np.sqrt(np.mean(resid**2)) < 1.0


def test_deterministic(crustal, nzsmd_crustal, fitted):
    again = XGBoostBaseline(n_estimators=300, random_state=1).fit(crustal, ["PGA", "SA(1.0)"])
    np.testing.assert_array_equal(again.predict(nzsmd_crustal).mean, fitted.predict(nzsmd_crustal).mean)


def test_magnitude_scaling_is_learned(fitted, nzsmd_crustal):
    row = nzsmd_crustal.iloc[[0]]
    small = fitted.predict(row.assign(mag=4.0, rrup=20.0, rjb=20.0), "PGA").mean[0, 0]
    large = fitted.predict(row.assign(mag=7.0, rrup=20.0, rjb=20.0), "PGA").mean[0, 0]
    assert large > small + 0.5


def test_errors(nzsmd_crustal, fitted):
    with pytest.raises(ModelError, match="not fitted"):
        XGBoostBaseline().predict(nzsmd_crustal, "PGA")
    with pytest.raises(ModelError, match="SA\\(3.0\\)"):
        fitted.predict(nzsmd_crustal, "SA(3.0)")
    with pytest.raises(MissingColumnError, match="vs30"):
        fitted.predict(nzsmd_crustal.drop(columns="vs30"), "PGA")
    with pytest.raises(ValueError, match="'mag'"):
        fitted.predict(nzsmd_crustal.assign(mag=np.nan), "PGA")
    assert "n_estimators=300" in repr(fitted)
