"""Conditional waveform generators: the common interface, the WGAN-GP and the diffusion model.

Every generator maps conditions (``mag``, ``rrup`` in km, ``vs30`` in m/s) to a
multi-band log envelope (:mod:`gmlearn.waveform.representation`) of a 40-s, 50-Hz
window; :meth:`WaveformGenerator.generate` passes it through the realism layer
(:mod:`gmlearn.waveform.realism`: arrivals, duration, coda, kappa, zero baseline,
variable length at 100 Hz), applies the style of faulting (``rake``) and, with
``target=``, matches each record to a spectrum drawn from a ground-motion model
(:mod:`gmlearn.waveform.target`).

- :class:`StochasticGenerator` wraps the physics-based simulator (no weights);
- :class:`CGAN` is a conditional Wasserstein GAN with gradient penalty
  (Gulrajani et al. 2017), 1-D convolutional over time, as in Florez et al. (2022);
- :class:`Diffusion` is a conditional DDPM (Ho et al. 2020) with a cosine noise
  schedule and v-prediction (Salimans and Ho 2022), sampled with deterministic DDIM
  steps (Song et al. 2021).

Training (``fit``) is seeded and runs on CUDA when available, else on CPU. The networks
are built under the ``seed`` of their configuration and ``fit`` runs with deterministic
algorithms, so two trainings with the same seeds on one machine give the same weights
(and, through :func:`gmlearn.waveform.persistence.safetensors_bytes`, the same bytes).
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any, Callable, Iterator

import numpy as np

from gmlearn.waveform.errors import WaveformModelError
from gmlearn.waveform.representation import N_BANDS, N_FRAMES, decode

__all__ = ["COND_NORM", "normalise_conditions", "deterministic", "WaveformGenerator", "StochasticGenerator", "CGAN", "Diffusion",
           "device"]

#: Conditioning normalisation: (centre, scale) of mag, ln(rrup + 1 km) and ln(vs30).
COND_NORM: dict[str, tuple[float, float]] = {"mag": (6.5, 1.0), "ln_rrup": (3.4, 1.2), "ln_vs30": (6.1, 0.6)}
_CHANNELS = 3 * N_BANDS


def device() -> str:
    """``"cuda"`` when a CUDA device is available, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def deterministic(seed: int) -> Iterator[None]:
    """Seed torch (its global generator restored afterwards) and switch on deterministic algorithms."""
    import torch

    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    previous = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []):
        torch.manual_seed(int(seed))
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread (restored afterwards).

    A generator's forward pass is milliseconds per hundred records; split over OpenMP
    threads it gains nothing and, on a loaded machine, waits at every barrier.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _cpu_threads() -> int:
    """Threads the realism layer may use: torch's intra-op thread count."""
    import torch

    return torch.get_num_threads()


def _reproducible(fit: Callable) -> Callable:
    """Run a ``fit`` method under :func:`deterministic` with its ``seed``."""

    @functools.wraps(fit)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with deterministic(kwargs.get("seed", 0)):
            return fit(self, *args, **kwargs)

    return wrapper


def normalise_conditions(mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, norm: dict | None = None) -> np.ndarray:
    """Conditions as the networks see them, shape (n, 3)."""
    norm = COND_NORM if norm is None else norm
    cols = (np.asarray(mag, float), np.log(np.asarray(rrup, float) + 1.0), np.log(np.asarray(vs30, float)))
    return np.stack([(x - norm[k][0]) / norm[k][1] for x, k in zip(cols, ("mag", "ln_rrup", "ln_vs30"))], axis=-1)


def _conditions(mag: Any, rrup: Any, vs30: Any, n: int | None, ranges: dict, name: str,
                rake: Any = None) -> tuple[np.ndarray, ...]:
    from gmlearn.waveform.stochastic import check_conditions

    values = (mag, rrup, vs30) if rake is None else (mag, rrup, vs30, rake)
    arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in values))
    if n is not None:
        if n < 1:
            raise WaveformModelError(f"The 'n' parameter of {name} must be a positive number of samples. Got {n} instead.")
        if arrays[0].size == 1:
            arrays = [np.repeat(a, n) for a in arrays]
    check_conditions(*arrays[:3], ranges=ranges, model=name)
    if rake is not None:
        bad = ~np.isfinite(arrays[3]) | (np.abs(arrays[3]) > 180)
        if bad.any():
            raise WaveformModelError(f"The 'rake' condition of {name} must be in [-180, 180] degrees. "
                                     f"Got {float(arrays[3][bad][0])!r} instead.")
    return tuple(np.array(a) for a in arrays)


class WaveformGenerator:
    """Common interface: ``generate(mag, rrup, vs30, n, random_state, rake=..., target=...)`` -> acceleration (g).

    ``dt`` is the step of the realistic records (0.01 s); ``base_dt`` that of the
    generator's own 40-s window (0.02 s, ``realism=False``).
    """

    kind = "base"
    dt = 0.01
    base_dt = 0.02

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.meta: dict[str, Any] = {}
        self.ranges = {"mag": (4.0, 8.0), "rrup": (0.0, 300.0), "vs30": (150.0, 1500.0)}

    def envelopes(self, mag: Any, rrup: Any, vs30: Any, n: int | None = None,
                  random_state: int | None = None) -> np.ndarray:
        """Log band envelopes (n, 36, 80) for the conditions."""
        raise NotImplementedError

    def _base(self, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, seed: int) -> np.ndarray:
        """The generator's own 40-s, 50-Hz records (n, 3, 2000)."""
        rng = np.random.default_rng(seed)
        return decode(self.envelopes(mag, rrup, vs30, None, int(rng.integers(2**31))), rng)

    def _base_envelopes(self, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, seed: int) -> np.ndarray:
        return self.envelopes(mag, rrup, vs30, None, seed)

    def generate(self, mag: Any, rrup: Any, vs30: Any, n: int | None = None, random_state: int | None = None, *,
                 rake: Any = 0.0, target: Any = None, realism: bool = True, kappa0: Any = None, depth: Any = None,
                 events: Any = None, periods: np.ndarray | None = None, prematch: int = 2,
                 pulse: Any = False, s_or_d: Any = None, theta_or_phi: Any = 0.0,
                 return_info: bool = False) -> Any:
        """Three-component accelerograms (g), shape (n, 3, n_t).

        Parameters
        ----------
        mag, rrup, vs30, rake
            Moment magnitude, rupture distance (km), vs30 (m/s) and rake (degrees):
            scalars with ``n`` or arrays (one condition per sample). Values outside the
            training ranges (``self.ranges``) warn with
            :class:`~gmlearn.exceptions.OutOfRangeWarning`; impossible values raise
            :class:`WaveformModelError`.
        n
            Number of samples for scalar conditions.
        random_state
            Seed; the same seed gives the same records.
        target
            A ground-motion model (any gmlearn model with ``predict``, or an OpenQuake GSIM
            name such as ``"BooreEtAl2014"``): each record is spectrally matched to a
            spectrum drawn from the model's median, tau and phi with the Baker and
            Jayaram (2008) correlation (:mod:`gmlearn.waveform.target`); or explicit spectra
            ``{"periods": (T,) s, "ln_psa": (n, T) ln g}``, one per record (as
            :func:`gmlearn.waveform.suite.build_suite` uses). Without ``kappa0`` the kappa
            is fitted to the target's short-period shape (``info["kappa"]``).
        realism
            Apply the realism layer (:func:`gmlearn.waveform.realism.restructure`):
            P and S arrivals, Afshari and Stewart (2016) duration, coda, kappa, variable
            length, zero baseline; records at ``dt`` = 0.01 s, zero-padded to the
            longest; run on ``torch.get_num_threads()`` threads (the records do not
            depend on it). ``False`` (only without ``target``) returns the generator's own
            40-s window at ``base_dt`` = 0.02 s, shape (n, 3, 2000).
        kappa0, depth
            Site kappa (s; default from vs30) and hypocentral depth (km) of the realism layer.
        events, periods
            Event label per record (records of one event share the between-event
            term; default: one event per record) and matching periods (s) with ``target``.
        prematch
            With ``target``: band-gain passes before the first Fourier matching
            (:meth:`_match`: bands raised or lowered towards the target, the record
            re-synthesised with its duration re-fitted).
        pulse, s_or_d, theta_or_phi
            Near-fault velocity pulses (:mod:`gmlearn.waveform.pulse`) on H1, the
            fault-normal component: ``False`` (default, none), ``True`` (every record),
            ``"auto"`` (each record with the Shahi and Baker 2014 probability for
            ``rrup``, ``s_or_d`` (km; default half the rupture length or width) and
            ``theta_or_phi`` (degrees)) or a probability in [0, 1]. With ``target`` the
            pulse is added after matching, so a pulse record exceeds its target spectrum
            near the pulse period on H1, as recorded pulses exceed GMPE medians.
        return_info
            Also return a dict of per-record arrays (``length_s``, ``t_p``, ``t_s``,
            ``d5_95_target``, ``kappa``, and with ``target`` ``target_periods``,
            ``target_ln_psa``, ``target_median``, ``target_sigma``; with ``pulse``
            ``pulse``, ``pulse_period_s``, ``pulse_pgv_cm_s`` and the pulse parameters).
        """
        rng = np.random.default_rng(random_state)
        mag, rrup, vs30, rake = _conditions(mag, rrup, vs30, n, self.ranges, self.kind, rake)
        seed = int(rng.integers(2**31))
        if not realism:
            if pulse is not False:
                raise WaveformModelError("The 'pulse' parameter needs realism=True. Got realism=False.")
            if target is not None:
                raise WaveformModelError("The 'target' parameter needs realism=True (matching works on the "
                                         "realistic records).")
            acc = self._base(mag, rrup, vs30, seed)
            return (acc, {}) if return_info else acc
        from gmlearn.waveform import target as tg
        from gmlearn.waveform.realism import restructure

        env = self._base_envelopes(mag, rrup, vs30, seed) + tg.faulting_factor(rake)
        seed_r = int(rng.integers(2**31))
        opts = {"kappa0": kappa0, "depth": depth, "random_state": seed_r, "dt": self.dt, "workers": _cpu_threads()}
        acc, info = restructure(env, mag, rrup, vs30, rake, **opts)
        if target is not None:
            if isinstance(target, dict):
                p, draw = self._explicit_target(target, len(mag))
            else:
                p = tg.MATCH_PERIODS if periods is None else np.asarray(periods, dtype=float)
                draw = tg.target_spectra(target, mag, rrup, vs30, rake, p, events=events, random_state=rng)
            groups = None if events is not None else np.column_stack([mag, rrup, vs30, rake]).round(6)
            acc, info = self._match(acc, info, env, (mag, rrup, vs30, rake), opts, draw["ln_psa"], p, prematch,
                                    groups=groups)
            info.update({"target_periods": p, "target_ln_psa": draw["ln_psa"], **{
                f"target_{k}": draw[k] for k in ("median", "sigma", "tau", "phi") if k in draw}})
        if pulse is not False:
            from gmlearn.waveform.pulse import add_pulses

            acc, info = add_pulses(acc, info, mag, rrup, vs30, rake, pulse, dt=self.dt, s_or_d=s_or_d,
                                   theta_or_phi=theta_or_phi, random_state=int(rng.integers(2**31)))
        return (acc, info) if return_info else acc

    @staticmethod
    def _explicit_target(target: dict, n: int) -> tuple[np.ndarray, dict]:
        """``{"periods": (T,), "ln_psa": (n, T)}`` -> (periods, draw) after checking shapes and values."""
        if set(target) != {"periods", "ln_psa"}:
            raise WaveformModelError("A 'target' dict must hold exactly 'periods' (s) and 'ln_psa' (ln g, one row per "
                                     f"record). Got keys {sorted(target)} instead.")
        p = np.asarray(target["periods"], dtype=float)
        ln_psa = np.broadcast_to(np.asarray(target["ln_psa"], dtype=float), (n, p.size))
        if p.ndim != 1 or p.size < 2 or np.any(np.diff(p) <= 0) or p[0] <= 0:
            raise WaveformModelError(f"target['periods'] must be 2 or more increasing positive periods (s). Got {p!r}.")
        if not np.all(np.isfinite(ln_psa)):
            raise WaveformModelError("target['ln_psa'] must be finite ln PSA values (ln g).")
        return p, {"ln_psa": np.array(ln_psa)}

    def _match(self, acc: np.ndarray, info: dict, env: np.ndarray, conditions: tuple, opts: dict,
               ln_target: np.ndarray, p: np.ndarray, passes: int, rounds: int = 2,
               groups: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
        """Records matched to ``exp(ln_target)`` at periods ``p`` with their time structure kept.

        Each of ``rounds``: ``passes`` band-gain updates (:func:`gmlearn.waveform.target.band_correction`,
        each followed by re-synthesis with the same draws and noise and a re-fitted duration),
        then Fourier matching (:func:`gmlearn.waveform.target.spectral_match`, kappa slope kept
        above :data:`gmlearn.waveform.target.FLAT_ABOVE`). The matching lengthens records a
        little; the next round fits the envelopes to the drawn D5-95 divided by the
        lengthening measured in the previous one; records still too long then have their coda
        damped (:func:`gmlearn.waveform.target.shorten`), are matched for three more
        iterations and damped again. ``groups`` (records of one scenario) make the last
        matchings keep each set's median on the median of its targets.

        Without a site ``kappa0`` (``opts``), kappa is fitted to the target too: a
        target reaching 0.05 s fixes the ratio of very short- to short-period motion
        (:func:`gmlearn.waveform.target.tilt`), which a kappa taken from vs30 alone may
        contradict (Van Houtte et al. 2011 give 0.077 s at vs30 300 m/s, steeper than
        the NGA-West2 models' short-period spectra). ``kappa0`` then moves from the vs30
        value by 0.1 s per unit of tilt at each pass (at most 0.03 s), between 0.002 s
        and the vs30 value (a larger kappa would only feed leakage: very short periods
        follow PGA), and the records keep the kappa slope of the fitted value
        (``info["kappa"]``).
        """
        from gmlearn.waveform import target as tg
        from gmlearn.waveform.metrics import significant_duration
        from gmlearn.waveform.realism import restructure
        from gmlearn.waveform.timing import kappa0_vs30

        gain = np.zeros((len(acc), 11))
        fit_d = None
        fit_kappa = opts.get("kappa0") is None
        k_vs30 = np.broadcast_to(kappa0_vs30(conditions[2]), (len(acc),))
        k0 = k_vs30.copy()
        for k in range(rounds):
            for _ in range(passes if k == 0 else 1):
                diff = tg.misfit(acc, self.dt, ln_target, p)
                gain = gain + tg.band_correction(diff, p)
                s = tg.tilt(diff, p) if fit_kappa else None
                if s is not None:  # about 0.1 s of kappa per unit of tilt (a rate read off trial scenarios)
                    k0 = np.clip(k0 - np.clip(0.1 * s, -0.03, 0.03), 0.002, k_vs30)
                    opts = {**opts, "kappa0": k0}
                acc, info = restructure(env, *conditions, **opts, gain=gain, fit_duration=fit_d)
            out = tg.spectral_match(acc, self.dt, info["length_s"], np.exp(ln_target), p, onsets=info["t_p"],
                                    flat_above=tg.FLAT_ABOVE, groups=groups if k + 1 == rounds else None)
            if k + 1 < rounds:
                d = significant_duration(out[:, :2], self.dt).mean(axis=1)
                drawn = info["d5_95_target"]
                fit_d = (drawn if fit_d is None else fit_d) * drawn / np.maximum(d, 0.5)
        drawn = info["d5_95_target"]
        out = tg.shorten(out, self.dt, drawn, info["length_s"])
        out = tg.spectral_match(out, self.dt, info["length_s"], np.exp(ln_target), p, onsets=info["t_p"],
                                flat_above=tg.FLAT_ABOVE, groups=groups, iterations=3)
        return tg.shorten(out, self.dt, drawn, info["length_s"]), info


class StochasticGenerator(WaveformGenerator):
    """The Boore (2003) point-source simulator behind the generator interface."""

    kind = "stochastic"

    def _base(self, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, seed: int) -> np.ndarray:
        from gmlearn.waveform.stochastic import simulate

        return simulate(mag, rrup, vs30, dt=self.base_dt, random_state=seed)

    def _base_envelopes(self, mag: np.ndarray, rrup: np.ndarray, vs30: np.ndarray, seed: int) -> np.ndarray:
        from gmlearn.waveform.representation import encode

        return encode(self._base(mag, rrup, vs30, seed))

    def envelopes(self, mag: Any, rrup: Any, vs30: Any, n: int | None = None,
                  random_state: int | None = None) -> np.ndarray:
        mag, rrup, vs30 = _conditions(mag, rrup, vs30, n, self.ranges, "stochastic")
        return self._base_envelopes(mag, rrup, vs30, random_state)


class _TorchGenerator(WaveformGenerator):
    """Shared state of the neural generators: networks, normalisations, device handling."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.mean = np.zeros(_CHANNELS, dtype=np.float32)
        self.std = np.ones(_CHANNELS, dtype=np.float32)
        self.cond_norm = dict(COND_NORM)
        self.history: list[float] = []
        with deterministic(int(config.get("seed", 0))):  # same seed -> same initial weights
            self.net = self._build()

    def _build(self):  # noqa: ANN202
        raise NotImplementedError

    def set_normalisation(self, env: np.ndarray) -> None:
        """Per-channel mean and standard deviation of training envelopes shaped (n, 36, 80)."""
        self.mean = env.mean(axis=(0, 2)).astype(np.float32)
        self.std = np.maximum(env.std(axis=(0, 2)), 1e-3).astype(np.float32)

    def _to_unit(self, env: np.ndarray) -> np.ndarray:
        return ((env - self.mean[None, :, None]) / self.std[None, :, None]).astype(np.float32)

    def _from_unit(self, x: np.ndarray) -> np.ndarray:
        return x * self.std[None, :, None] + self.mean[None, :, None]

    def state_dict(self) -> dict:
        """Tensors to save (the sampling network)."""
        return self.net.state_dict()

    def load_state_dict(self, state: dict) -> None:
        """Load tensors saved by :meth:`state_dict`."""
        self.net.load_state_dict(state)

    def n_parameters(self) -> int:
        """Number of parameters of the sampling network."""
        return int(sum(p.numel() for p in self.net.parameters()))

    def _cond_tensor(self, mag: Any, rrup: Any, vs30: Any, n: int | None):  # noqa: ANN202
        import torch

        mag, rrup, vs30 = _conditions(mag, rrup, vs30, n, self.ranges, self.kind)
        return torch.as_tensor(normalise_conditions(mag, rrup, vs30, self.cond_norm), dtype=torch.float32)


class CGAN(_TorchGenerator):
    """Conditional WGAN-GP over log band envelopes.

    Parameters (stored in ``config``): ``latent`` (32), ``channels`` (64), ``critic_channels`` (64).
    """

    kind = "cgan"

    def _build(self):  # noqa: ANN202
        from gmlearn.waveform.nets import Generator

        c = self.config
        return Generator(latent=c.get("latent", 32), channels=c.get("channels", 64), out_channels=_CHANNELS,
                         n_frames=N_FRAMES)

    def envelopes(self, mag: Any, rrup: Any, vs30: Any, n: int | None = None,
                  random_state: int | None = None, batch: int = 1024) -> np.ndarray:
        import torch

        cond = self._cond_tensor(mag, rrup, vs30, n)
        gen = torch.Generator().manual_seed(int(np.random.default_rng(random_state).integers(2**31)))
        z = torch.randn(cond.shape[0], self.net.latent, generator=gen)
        dev = next(self.net.parameters()).device
        self.net.eval()
        out = []
        with torch.no_grad(), _one_thread():
            for i in range(0, cond.shape[0], batch):
                out.append(self.net(z[i:i + batch].to(dev), cond[i:i + batch].to(dev)).cpu().numpy())
        return self._from_unit(np.concatenate(out))

    @_reproducible
    def fit(self, env: np.ndarray, cond: np.ndarray, *, steps: int = 1000, batch: int = 64, lr: float = 2e-4,
            n_critic: int = 3, gp: float = 10.0, seed: int = 0, extra: tuple[np.ndarray, np.ndarray] | None = None,
            mix: float = 0.5, progress: Callable[[int, float], None] | None = None) -> "CGAN":
        """Train on envelopes ``env`` (n, 36, 80) with normalised conditions ``cond`` (n, 3).

        ``extra`` (envelopes, conditions) are mixed into every batch with weight
        ``mix`` (fine-tuning on real records while keeping simulations in view).
        Returns ``self``; the generator loss per step is appended to ``history``.
        """
        import torch

        from gmlearn.waveform.nets import Critic

        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        dev = device()
        if not hasattr(self, "critic"):
            self.critic = Critic(_CHANNELS, self.config.get("critic_channels", 64), N_FRAMES)
        gnet, dnet = self.net.to(dev).train(), self.critic.to(dev).train()
        opt_g = torch.optim.Adam(gnet.parameters(), lr=lr, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(dnet.parameters(), lr=lr, betas=(0.5, 0.9))
        sampler = _Sampler(self._to_unit(env), cond, extra and (self._to_unit(extra[0]), extra[1]), mix, rng)
        for step in range(steps):
            for _ in range(n_critic):
                x, c = (torch.as_tensor(a, device=dev) for a in sampler(batch))
                z = torch.randn(x.shape[0], gnet.latent, device=dev)
                fake = gnet(z, c).detach()
                eps = torch.rand(x.shape[0], 1, 1, device=dev)
                mixed = (eps * x + (1 - eps) * fake).requires_grad_(True)
                grad = torch.autograd.grad(dnet(mixed, c).sum(), mixed, create_graph=True)[0]
                penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
                loss_d = dnet(fake, c).mean() - dnet(x, c).mean() + gp * penalty
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
            z = torch.randn(batch, gnet.latent, device=dev)
            _, c = (torch.as_tensor(a, device=dev) for a in sampler(batch))
            loss_g = -dnet(gnet(z, c), c).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            self.history.append(float(loss_d.item()))
            if progress is not None:
                progress(step, float(loss_d.item()))
        self.net.to("cpu").eval()
        self.critic.to("cpu")
        return self


class _Sampler:
    """Random mini-batches of (unit envelopes, conditions), optionally mixing two sets."""

    def __init__(self, x: np.ndarray, c: np.ndarray, extra: tuple | None, mix: float, rng: np.random.Generator) -> None:
        self.x, self.c = x.astype(np.float32), c.astype(np.float32)
        self.extra = None if extra is None else (extra[0].astype(np.float32), extra[1].astype(np.float32))
        self.mix, self.rng = mix, rng

    def __call__(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        if self.extra is None:
            i = self.rng.integers(len(self.x), size=batch)
            return self.x[i], self.c[i]
        k = int(round(batch * self.mix))
        i = self.rng.integers(len(self.x), size=batch - k)
        j = self.rng.integers(len(self.extra[0]), size=k)
        return np.concatenate([self.x[i], self.extra[0][j]]), np.concatenate([self.c[i], self.extra[1][j]])


def _cosine_schedule(steps: int) -> np.ndarray:
    """Cumulative signal fraction alpha_bar(t) of the cosine schedule (Nichol and Dhariwal 2021)."""
    s = 0.008
    t = np.linspace(0, steps, steps + 1) / steps
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
    ab = f / f[0]
    return np.clip(ab[1:], 1e-5, 1.0)


class Diffusion(_TorchGenerator):
    """Conditional DDPM (v-prediction) over log band envelopes, sampled with DDIM.

    Parameters (stored in ``config``): ``channels`` (64), ``timesteps`` (200),
    ``sample_steps`` (10).
    """

    kind = "diffusion"

    def _build(self):  # noqa: ANN202
        from gmlearn.waveform.nets import Denoiser

        c = self.config
        return Denoiser(_CHANNELS, channels=c.get("channels", 64))

    @property
    def alpha_bar(self) -> np.ndarray:
        """Cumulative signal fractions, shape (timesteps,)."""
        return _cosine_schedule(int(self.config.get("timesteps", 200)))

    def envelopes(self, mag: Any, rrup: Any, vs30: Any, n: int | None = None,
                  random_state: int | None = None, batch: int = 1024) -> np.ndarray:
        import torch

        cond = self._cond_tensor(mag, rrup, vs30, n)
        gen = torch.Generator().manual_seed(int(np.random.default_rng(random_state).integers(2**31)))
        x = torch.randn(cond.shape[0], _CHANNELS, N_FRAMES, generator=gen)
        ab = torch.as_tensor(self.alpha_bar, dtype=torch.float32)
        n_t = len(ab)
        ts = np.linspace(n_t - 1, 0, int(self.config.get("sample_steps", 10))).round().astype(int)
        dev = next(self.net.parameters()).device
        self.net.eval()
        out = []
        with torch.no_grad(), _one_thread():
            for i in range(0, cond.shape[0], batch):
                xb, cb = x[i:i + batch].to(dev), cond[i:i + batch].to(dev)
                for k, t in enumerate(ts):
                    a_t = ab[t].to(dev)
                    a_prev = ab[ts[k + 1]].to(dev) if k + 1 < len(ts) else torch.tensor(1.0, device=dev)
                    v = self.net(xb, torch.full((xb.shape[0],), int(t), device=dev), cb)
                    x0 = (a_t.sqrt() * xb - (1 - a_t).sqrt() * v).clamp(-5, 5)
                    eps = (xb - a_t.sqrt() * x0) / (1 - a_t).sqrt()
                    xb = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
                out.append(xb.cpu().numpy())
        return self._from_unit(np.concatenate(out))

    @_reproducible
    def fit(self, env: np.ndarray, cond: np.ndarray, *, steps: int = 2000, batch: int = 64, lr: float = 1e-3,
            seed: int = 0, extra: tuple[np.ndarray, np.ndarray] | None = None, mix: float = 0.5,
            ema: float = 0.995, progress: Callable[[int, float], None] | None = None) -> "Diffusion":
        """Train the denoiser (v-prediction MSE) on envelopes ``env`` with conditions ``cond``.

        ``extra`` is mixed into every batch with weight ``mix``. The sampling network
        keeps an exponential moving average (``ema``) of the trained weights.
        Returns ``self``; the loss per step is appended to ``history``.
        """
        import copy

        import torch

        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        dev = device()
        if not hasattr(self, "trained"):
            self.trained = copy.deepcopy(self.net)
        net = self.trained.to(dev).train()
        avg = self.net.to(dev)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr * 0.1)
        ab = torch.as_tensor(self.alpha_bar, dtype=torch.float32, device=dev)
        sampler = _Sampler(self._to_unit(env), cond, extra and (self._to_unit(extra[0]), extra[1]), mix, rng)
        for step in range(steps):
            x0, c = (torch.as_tensor(a, device=dev) for a in sampler(batch))
            t = torch.randint(0, len(ab), (x0.shape[0],), device=dev)
            noise = torch.randn_like(x0)
            a = ab[t][:, None, None]
            target = a.sqrt() * noise - (1 - a).sqrt() * x0  # v-prediction (Salimans and Ho 2022)
            loss = ((net(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, c) - target) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                for p_avg, p in zip(avg.parameters(), net.parameters()):
                    p_avg.mul_(ema).add_(p, alpha=1 - ema)
            self.history.append(float(loss.item()))
            if progress is not None:
                progress(step, float(loss.item()))
        self.net.to("cpu").eval()
        self.trained.to("cpu")
        return self

