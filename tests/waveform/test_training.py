"""Retraining: generic record layouts, the train command, byte-identical weights for one seed."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from gmlearn.waveform.errors import RecordFormatError


@pytest.fixture(scope="module")
def record_folder(tmp_path_factory, peer_folder, peer_records):
    """Three PEER records written as AT2 (H1), two-column text (H2) and NPZ (V), with a metadata CSV."""
    folder = tmp_path_factory.mktemp("records")
    rows = []
    for rec in peer_records:
        h1_src = peer_folder / "records" / f"{rec.meta['files'][0]}.gz"
        with gzip.open(h1_src, "rb") as src, open(folder / f"{rec.record_id}_h1.AT2", "wb") as dst:
            shutil.copyfileobj(src, dst)
        t = np.arange(rec.acc.shape[1]) * rec.dt
        np.savetxt(folder / f"{rec.record_id}_h2.txt", np.column_stack([t, rec.acc[1]]), header="time_s acc_g")
        v = f"{rec.record_id}_v.npz" if rec.has_component[2] else ""
        if v:
            np.savez(folder / v, acc=rec.acc[2], dt=rec.dt)
        rows.append(f"{rec.record_id},{rec.event_id},{rec.meta['mag']},{rec.meta['rrup']},{rec.meta['vs30']},"
                    f"{rec.record_id}_h1.AT2,{rec.record_id}_h2.txt,{v}")
    (folder / "meta.csv").write_text("record_id,event_id,mag,rrup,vs30,h1,h2,v\n" + "\n".join(rows[::-1]) + "\n")
    return folder


def test_generic_layouts_read_like_the_originals(record_folder, peer_records):
    from gmlearn.waveform.records import read_metadata_folder

    recs = read_metadata_folder(record_folder, record_folder / "meta.csv")
    assert [r.record_id for r in recs] == sorted(r.record_id for r in peer_records)
    by_id = {r.record_id: r for r in peer_records}
    for rec in recs:
        ref = by_id[rec.record_id]
        assert rec.dt == pytest.approx(ref.dt)
        np.testing.assert_allclose(rec.acc[:2, : ref.acc.shape[1]], ref.acc[:2], rtol=1e-6, atol=1e-9)


def test_metadata_errors_name_the_column(tmp_path):
    from gmlearn.waveform.records import read_component, read_metadata_folder

    (tmp_path / "m.csv").write_text("record_id,event_id,mag,rrup\n1,1,6,10\n")
    with pytest.raises(RecordFormatError, match="vs30"):
        read_metadata_folder(tmp_path, tmp_path / "m.csv")
    (tmp_path / "bad.txt").write_text("0 0.1 3\n0.01 0.2 4\n")
    with pytest.raises(RecordFormatError, match="two numeric columns"):
        read_component(tmp_path / "bad.txt")


def test_same_seed_gives_byte_identical_weights(record_folder, tmp_path):
    from gmlearn.cli import app
    from gmlearn.waveform import load

    args = ["waveforms", "train", "--records", str(record_folder), "--metadata", str(record_folder / "meta.csv"),
            "--steps", "3", "--pretrain-steps", "3", "--n-sim", "16", "--channels", "8", "--held-out", "0"]
    for name in ("a", "b"):
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    first = (tmp_path / "a" / "model.safetensors").read_bytes()
    assert first == (tmp_path / "b" / "model.safetensors").read_bytes()
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "c"), "--seed", "1"])
    assert result.exit_code == 0 and (tmp_path / "c" / "model.safetensors").read_bytes() != first
    model = load(tmp_path / "a")
    assert model.meta["train_records"] == sorted(model.meta["train_records"])
    acc = model.generate(6.0, 20.0, 400.0, n=2, random_state=0)
    assert acc.shape[:2] == (2, 3) and np.all(np.isfinite(acc))


def test_diffusion_training_is_reproducible(peer_records):
    from gmlearn.waveform.persistence import safetensors_bytes
    from gmlearn.waveform.training import train

    blobs = [safetensors_bytes(train(peer_records, kind="diffusion", n_sim=8, pretrain_steps=2, steps=2, seed=3,
                                     architecture={"channels": 8, "timesteps": 20}).state_dict(), {"k": "v"})
             for _ in range(2)]
    assert blobs[0] == blobs[1]


def test_safetensors_bytes_load_back():
    import torch
    from safetensors.torch import load

    tensors = {"b": torch.arange(6, dtype=torch.float32).reshape(2, 3), "a": torch.tensor([1, 2], dtype=torch.int64)}
    blob = safetensors_bytes_of(tensors)
    back = load(blob)
    assert torch.equal(back["a"], tensors["a"]) and torch.equal(back["b"], tensors["b"])
    assert blob == safetensors_bytes_of(dict(reversed(list(tensors.items()))))


def safetensors_bytes_of(tensors):
    from gmlearn.waveform.persistence import safetensors_bytes

    return safetensors_bytes(tensors, {"z": "1", "a": "2"})
