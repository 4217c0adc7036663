"""PyTorch networks of the waveform generators (imported only when a model is built).

Both work on the multi-band log-envelope (:mod:`gmlearn.waveform.representation`),
a (36, 80) array: channels are 3 components x 12 bands, the axis is time (0.5-s frames).

- :class:`Generator` / :class:`Critic`: the conditional WGAN-GP pair, 1-D
  convolutional over time, conditioned on (mag, rrup, vs30) by concatenating the
  normalised conditions as channels at every block (Florez et al. 2022 condition the
  same way on magnitude, distance and vs30).
- :class:`Denoiser`: the conditional diffusion network, dilated 1-D residual
  convolutions with FiLM modulation by an embedding of the conditions and the noise level.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Generator", "Critic", "Denoiser"]

N_COND = 3


class _Block(nn.Module):
    def __init__(self, channels: int, kernel: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels + N_COND, channels, kernel, padding=kernel // 2)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        cond = c[:, :, None].expand(-1, -1, x.shape[-1])
        return x + self.act(self.conv(torch.cat([x, cond], dim=1)))


class Generator(nn.Module):
    """Latent vector + conditions -> normalised log envelope (n, out_channels, n_frames)."""

    def __init__(self, latent: int = 32, channels: int = 64, out_channels: int = 36, n_frames: int = 80,
                 n_up: int = 3) -> None:
        super().__init__()
        self.latent, self.channels, self.n_up = latent, channels, n_up
        self.start = n_frames // 2 ** n_up
        self.fc = nn.Linear(latent + N_COND, channels * self.start)
        self.up = nn.ModuleList([nn.Conv1d(channels + N_COND, channels, 5, padding=2) for _ in range(n_up)])
        self.blocks = nn.ModuleList([_Block(channels) for _ in range(n_up)])
        self.out = nn.Conv1d(channels, out_channels, 5, padding=2)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        x = self.act(self.fc(torch.cat([z, c], dim=1))).view(z.shape[0], self.channels, self.start)
        for up, block in zip(self.up, self.blocks):
            x = nn.functional.interpolate(x, scale_factor=2, mode="linear", align_corners=False)
            cond = c[:, :, None].expand(-1, -1, x.shape[-1])
            x = self.act(up(torch.cat([x, cond], dim=1)))
            x = block(x, c)
        return self.out(x)


class Critic(nn.Module):
    """Wasserstein critic of (envelope, conditions) pairs."""

    def __init__(self, in_channels: int = 36, channels: int = 64, n_frames: int = 80, n_down: int = 3) -> None:
        super().__init__()
        layers = []
        ch = in_channels + N_COND
        for _ in range(n_down):
            layers.append(nn.Conv1d(ch, channels, 5, stride=2, padding=2))
            ch = channels
        self.convs = nn.ModuleList(layers)
        self.act = nn.LeakyReLU(0.2)
        self.fc = nn.Linear(channels * (n_frames // 2 ** n_down) + N_COND, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = torch.cat([x, c[:, :, None].expand(-1, -1, x.shape[-1])], dim=1)
        for conv in self.convs:
            h = self.act(conv(h))
        return self.fc(torch.cat([h.flatten(1), c], dim=1)).squeeze(1)


def _timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class _ResFiLM(nn.Module):
    def __init__(self, channels: int, emb: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 5, padding=2 * dilation, dilation=dilation)
        self.film = nn.Linear(emb, 2 * channels)
        self.norm = nn.GroupNorm(8, channels)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(e).chunk(2, dim=1)
        h = self.norm(self.conv(x)) * (1 + scale[:, :, None]) + shift[:, :, None]
        return x + self.act(h)


class Denoiser(nn.Module):
    """Predicts the velocity ``v`` of a noised envelope given the diffusion step and the conditions."""

    def __init__(self, in_channels: int = 36, channels: int = 64, emb: int = 64,
                 dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2)) -> None:
        super().__init__()
        self.emb_dim = emb
        self.embed = nn.Sequential(nn.Linear(emb + N_COND, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.inp = nn.Conv1d(in_channels, channels, 3, padding=1)
        self.blocks = nn.ModuleList([_ResFiLM(channels, emb, d) for d in dilations])
        self.out = nn.Conv1d(channels, in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.embed(torch.cat([_timestep_embedding(t, self.emb_dim), c], dim=1))
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, e)
        return self.out(h)
