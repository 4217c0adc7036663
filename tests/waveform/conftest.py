"""Fixtures of the waveform tests: a few real PEER records, small torch thread count."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def peer_folder(shared_data):
    return shared_data / "waveforms_peer_at2"


@pytest.fixture(scope="session")
def peer_records(peer_folder):
    from gmlearn.waveform.records import read_peer_folder

    return read_peer_folder(peer_folder, rsns=[20, 28, 31])
