import json
import shutil

import numpy as np
import pytest

from gmlearn.exceptions import ModelError
from gmlearn.gmpe.hybrid import HybridGMM
from gmlearn.gmpe.monotone import MonotoneGMM
from gmlearn.gmpe.persistence import load_model, save_model
from gmlearn.gmpe.tree import TreeGMM


@pytest.fixture(scope="module")
def small(nzsmd_crustal):
    return nzsmd_crustal


@pytest.mark.parametrize("cls", [TreeGMM, MonotoneGMM, HybridGMM])
def test_save_load_bit_for_bit(cls, small, tmp_path):
    model = cls(n_estimators=100, learning_rate=0.1).fit(small, ["PGA", "SA(1.0)"])
    path = save_model(model, tmp_path / "m", training_hash="abc", metrics={"rms": {"PGA": 0.7}})
    loaded = load_model(path)
    assert type(loaded) is cls and loaded.get_params() == {k: (list(v) if isinstance(v, tuple) else v) for k, v in model.get_params().items()}
    for mode in ("ergodic", "known"):
        a, b = model.predict(small, station_terms=mode), loaded.predict(small, station_terms=mode)
        for k in ("mean", "tau", "phi", "sigma"):
            np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["format"] == "gmlearn-model" and meta["format_version"] == 1 and meta["training"]["content_hash"] == "abc"
    assert not list(path.glob("*.pkl")) and not list(path.glob("*.joblib"))


def test_bad_folders(small, tmp_path):
    model = TreeGMM(n_estimators=50).fit(small, "PGA")
    path = save_model(model, tmp_path / "m")
    with pytest.raises(FileExistsError):
        save_model(model, path)
    save_model(model, path, overwrite=True)
    with pytest.raises(ModelError, match="no metadata.json"):
        load_model(tmp_path)
    corrupt = tmp_path / "corrupt"
    shutil.copytree(path, corrupt)
    data = bytearray((corrupt / "booster_0.ubj").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (corrupt / "booster_0.ubj").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(corrupt)
    foreign = tmp_path / "foreign"
    shutil.copytree(path, foreign)
    meta = json.loads((foreign / "metadata.json").read_text())
    (foreign / "metadata.json").write_text(json.dumps({**meta, "class": "os.system"}))
    with pytest.raises(ModelError, match="unknown model class 'os.system'"):
        load_model(foreign)
    (foreign / "metadata.json").write_text(json.dumps({**meta, "format": "pickle"}))
    with pytest.raises(ModelError, match="not gmlearn model metadata"):
        load_model(foreign)
    (foreign / "metadata.json").write_text(json.dumps({**meta, "sha256": {**meta["sha256"], "../x": "0"}}))
    with pytest.raises(ModelError, match="missing"):
        load_model(foreign)


def test_reference_gmpe_roundtrip(small, tmp_path):
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    model = OpenQuakeGMPE("BooreEtAl2014")
    path = save_model(model, tmp_path / "bssa")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(small, "PGA").mean, model.predict(small, "PGA").mean)
    assert json.loads((path / "metadata.json").read_text())["params"] == {"gsim": "BooreEtAl2014"}


def test_unlisted_files_are_refused(small, tmp_path):
    path = save_model(TreeGMM(n_estimators=30).fit(small, "PGA"), tmp_path / "m")
    meta = json.loads((path / "metadata.json").read_text())
    from gmlearn.gmpe.integrity import stamp

    (path / "metadata.json").write_text(json.dumps(stamp({**meta, "sha256": {}})))
    with pytest.raises(ModelError, match="no SHA-256"):
        load_model(path)
