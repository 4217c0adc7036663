import numpy as np
import pandas as pd
import pytest

from gmlearn.exceptions import MissingColumnError, ModelError
from gmlearn.site.amplification import SiteAmplificationModel, station_terms
from gmlearn.site.evaluate import station_cv_phi
from gmlearn.site.sh1d import Profile, amplification_at_periods
from gmlearn.site.term import DataDrivenSiteTerm, LinearSHSiteTerm


@pytest.fixture(scope="module")
def fitted(crustal, bradley):
    return SiteAmplificationModel(bradley).fit(crustal, ["SA(1.0)"])


def test_fit_predicts_station_terms(fitted, crustal):
    eff = fitted.effects_["SA(1.0)"]
    stations = crustal.drop_duplicates("station_id").set_index("station_id")
    amp, sd = fitted.predict_terms(stations.reset_index(), "SA(1.0)")
    target = eff.station_terms.reindex(stations.index).to_numpy()
    ok = np.isfinite(target)
    assert amp.shape == sd.shape == (1, len(stations))
    assert np.corrcoef(amp[0, ok], target[ok])[0, 1] > 0.3  # the features explain part of dS2S
    assert 0 < fitted.sd_["SA(1.0)"] <= fitted.phi_s2s_["SA(1.0)"] * 1.05  # held-out error at most the raw spread
    soft = stations.reset_index().iloc[:1].assign(vs30=180.0, site_class="D", tsite=np.nan)
    with pytest.raises(ModelError, match="no term for"):
        fitted.predict_terms(soft, "PGA")


def test_station_grouped_cv_reduces_phi(crustal, bradley):
    table = station_cv_phi(crustal, bradley, ["SA(1.0)"], n_splits=4)
    phi = table.set_index("site_term")["phi"]
    assert phi["all"] < phi["none"]
    assert phi["all"] < phi["vs30"]
    assert table["n_records"].nunique() == 1


def test_data_driven_site_term_as_model(fitted, crustal):
    rows = crustal.iloc[:50]
    model = DataDrivenSiteTerm(fitted)
    base = fitted.base.predict(rows, ["SA(1.0)"])
    pred = model.predict(rows, ["SA(1.0)"])
    amp, sd = fitted.predict_terms(rows, ["SA(1.0)"])
    np.testing.assert_allclose(pred.mean, base.mean + amp)
    np.testing.assert_allclose(pred.phi, np.sqrt(fitted.phi_ss_["SA(1.0)"] ** 2 + sd**2))
    # phi is the data's: below the within-event phi of the base model's residuals on the same records
    assert (pred.phi < np.hypot(fitted.phi_ss_["SA(1.0)"], fitted.phi_s2s_["SA(1.0)"])).all()
    known = DataDrivenSiteTerm(fitted, known_stations=True).predict(rows, ["SA(1.0)"])
    own = fitted.effects_["SA(1.0)"].station_terms.reindex(rows["station_id"].astype(str)).to_numpy()
    seen = np.isfinite(own)  # stations with SA(1.0) records; the others fall back to the feature prediction
    assert seen.sum() > 20
    np.testing.assert_allclose(known.mean[0, seen], base.mean[0, seen] + own[seen])
    np.testing.assert_allclose(known.mean[0, ~seen], pred.mean[0, ~seen])


def test_missing_columns(crustal, bradley):
    with pytest.raises(MissingColumnError, match="SA\\(2.0\\)"):
        SiteAmplificationModel(bradley).fit(crustal.drop(columns=["SA(2.0)"]), ["SA(2.0)"])
    with pytest.raises(ModelError, match="'features'"):
        SiteAmplificationModel(bradley, features="geology").fit(crustal, ["PGA"])


def test_linear_sh_site_term(crustal, bradley):
    profile = Profile([30.0, 0.0], [200.0, 760.0], [1800.0, 2200.0], [0.05, 0.01])
    rows = crustal.iloc[:20]
    model = LinearSHSiteTerm(bradley, profile)
    pred = model.predict(rows, ["PGA", "SA(1.0)"])
    rock = bradley.predict(rows.assign(vs30=760.0, z1pt0=pd.Series(np.nan, index=rows.index)).pipe(
        lambda t: t.assign(z1pt0=__import__("gmlearn.store.derived", fromlist=["z"]).z1pt0_from_vs30(t["vs30"]))),
        ["PGA", "SA(1.0)"])
    np.testing.assert_allclose(pred.mean - rock.mean, amplification_at_periods(profile, [0.0, 1.0])[:, None] *
                               np.ones((1, 20)))
    np.testing.assert_allclose(pred.phi, rock.phi)


def test_station_terms_split(crustal, bradley):
    terms = station_terms(crustal, bradley, ["PGA"])
    assert terms["PGA"].phi_s2s > 0 and terms["PGA"].tau > 0


def test_cli_fit(tmp_path):
    from typer.testing import CliRunner

    from gmlearn.cli import app

    res = CliRunner().invoke(app, ["site", "fit", "--imts", "SA(1.0)", "--folds", "3", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    cv = pd.read_csv(tmp_path / "s" / "cv_phi.csv")
    assert set(cv["site_term"]) == {"none", "vs30", "all"}
    terms = pd.read_csv(tmp_path / "s" / "station_terms.csv")
    assert "station_id" in terms and terms["SA(1.0)"].notna().sum() > 100
    res = CliRunner().invoke(app, ["site", "fit", "--model", "NoSuchGMPE", "--out", str(tmp_path / "bad")])
    assert res.exit_code == 2 and "NoSuchGMPE" in res.output and not (tmp_path / "bad").exists()


def test_hvsr_peak_frequency_is_used_when_given(crustal, bradley):
    table = crustal.assign(hvsr_f0=1.0 / crustal["tsite"].where(crustal["tsite"] > 0))  # stand-in f0 = 1 / Tsite
    model = SiteAmplificationModel(bradley).fit(table, ["SA(1.0)"], terms=station_terms(table, bradley, ["SA(1.0)"]))
    assert "hvsr_f0" in model.design_.used_ and "tsite" in model.design_.used_
    without = SiteAmplificationModel(bradley).fit(crustal, ["SA(1.0)"])
    assert "hvsr_f0" not in without.design_.used_
    assert model.coef_["SA(1.0)"].size == without.coef_["SA(1.0)"].size + 2  # log value + missing indicator
