"""Neural generators: training reduces the loss, save/load round trip, hash check, shipped weights."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from gmlearn.exceptions import OutOfRangeWarning
from gmlearn.waveform.errors import WaveformModelError


@pytest.fixture(scope="module")
def sim_data():
    from gmlearn.waveform.dataset import simulation_set
    from gmlearn.waveform.generators import normalise_conditions

    env, raw = simulation_set(96, seed=3, chunk=96)
    return env, normalise_conditions(*raw.T)


def test_diffusion_loss_decreases(sim_data):
    from gmlearn.waveform.generators import Diffusion

    env, cond = sim_data
    model = Diffusion(channels=16, timesteps=50, sample_steps=4)
    model.set_normalisation(env)
    model.fit(env, cond, steps=60, batch=32, lr=3e-3, seed=0)
    first, last = np.mean(model.history[:10]), np.mean(model.history[-10:])
    assert last < 0.8 * first
    out = model.generate(6.5, 20.0, 400.0, n=2, random_state=0, realism=False)
    assert out.shape == (2, 3, 2000) and np.all(np.isfinite(out))


def test_cgan_critic_loss_decreases_and_generator_learns(sim_data):
    from gmlearn.waveform.generators import CGAN

    env, cond = sim_data
    model = CGAN(latent=8, channels=16, critic_channels=16)
    model.set_normalisation(env)
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    model.fit(env, cond, steps=30, batch=32, n_critic=2, lr=1e-3, seed=0)
    assert len(model.history) == 30 and np.all(np.isfinite(model.history))
    # the critic's loss (negative Wasserstein estimate + gradient penalty) falls as it learns to separate
    assert np.mean(model.history[-10:]) < np.mean(model.history[:5])
    assert any(not np.allclose(before[k].numpy(), v.numpy()) for k, v in model.net.state_dict().items())


def test_save_load_round_trip_and_hash(tmp_path, sim_data):
    from gmlearn.waveform import load
    from gmlearn.waveform.generators import CGAN
    from gmlearn.waveform.persistence import save

    env, _ = sim_data
    model = CGAN(latent=8, channels=16, critic_channels=16)
    model.set_normalisation(env)
    path = save(model, tmp_path / "tiny")
    meta = json.loads(path.read_text())
    assert meta["format_version"] == 1 and meta["architecture"]["channels"] == 16 and len(meta["weights_sha256"]) == 64
    again = load(tmp_path / "tiny")
    np.testing.assert_array_equal(model.generate(6.0, 10.0, 500.0, n=2, random_state=1),
                                  again.generate(6.0, 10.0, 500.0, n=2, random_state=1))
    weights = tmp_path / "tiny.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(WaveformModelError, match="SHA-256"):
        load(tmp_path / "tiny")


def test_unknown_model():
    from gmlearn.waveform import load

    with pytest.raises(WaveformModelError, match="cgan"):
        load("vae")


@pytest.mark.parametrize("name", ["cgan", "diffusion"])
def test_shipped_weights_generate(name):
    from gmlearn.waveform import load

    model = load(name)
    assert model.n_parameters() < 400_000
    acc = model.generate(6.5, 20.0, 400.0, n=3, random_state=0)
    assert acc.shape[:2] == (3, 3) and acc.shape[-1] > 2000 and np.all(np.isfinite(acc))
    assert 1e-3 < np.max(np.abs(acc)) < 5.0  # g
    np.testing.assert_array_equal(acc, model.generate(6.5, 20.0, 400.0, n=3, random_state=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.generate(9.0, 20.0, 400.0, n=1, random_state=0)
    assert any(issubclass(w.category, OutOfRangeWarning) for w in caught)
    with pytest.raises(WaveformModelError, match="'vs30'"):
        model.generate(6.0, 20.0, float("nan"), n=1)
