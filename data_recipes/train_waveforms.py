"""Train the shipped waveform generators (conditional WGAN-GP and diffusion) and write their weights.

Data: stochastic simulations (Boore 2003, ``gmlearn.waveform.stochastic``) for pretraining,
then the real PEER NGA-West2 AT2 and FEMA P695 records in ``../shared/data`` for
fine-tuning, with whole events held out (``gmlearn.waveform.dataset.event_split``, seed 0)
and never seen in training. Everything is seeded; run from the repository root:

    python data_recipes/train_waveforms.py [--steps-scale 1.0] [--out gmlearn/waveform/weights]

Writes ``cgan.safetensors``/``cgan.json`` and ``diffusion.safetensors``/``diffusion.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SEED = 0
PLAN = {  # steps per phase at scale 1
    "cgan": {"pretrain": 2500, "finetune": 600, "lr": 2e-4},
    "diffusion": {"pretrain": 2500, "finetune": 800, "lr": 1e-3},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "gmlearn" / "waveform" / "weights")
    parser.add_argument("--steps-scale", type=float, default=1.0)
    parser.add_argument("--n-sim", type=int, default=3000)
    parser.add_argument("--models", nargs="+", default=["cgan", "diffusion"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from gmlearn.waveform.dataset import event_split, impute_vertical, real_records, simulation_set
    from gmlearn.waveform.generators import CGAN, Diffusion, device, normalise_conditions
    from gmlearn.waveform.persistence import save
    from gmlearn.waveform.representation import encode

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    sim_env, sim_raw = simulation_set(args.n_sim, seed=SEED)
    real = real_records(SHARED)
    held = event_split(real.event_id, seed=SEED)
    train = real.subset(~held)
    real_env, offset = impute_vertical(encode(train.acc), train.present)
    print(f"data: {len(sim_env)} simulations, {len(train.mag)} real training records "
          f"({len(np.unique(train.event_id))} events), {int(held.sum())} held out "
          f"({len(np.unique(real.event_id[held]))} events); {time.perf_counter() - t0:.1f} s")
    sim_cond = normalise_conditions(*sim_raw.T)
    real_cond = normalise_conditions(train.mag, train.rrup, train.vs30)
    summary = {
        "seed": SEED,
        "device": device(),
        "torch_threads": args.threads,
        "simulations": {"n": int(args.n_sim), "mag": [4.5, 8.0], "rrup_km": [1.0, 200.0], "vs30": [150.0, 1500.0]},
        "real_train": {"n_records": int(len(train.mag)), "n_events": int(len(np.unique(train.event_id))),
                       "sources": sorted(set(train.source.tolist()))},
        "held_out_events": sorted(np.unique(real.event_id[held]).tolist()),
        "held_out_records": int(held.sum()),
        "vertical_offset_by_band": [float(x) for x in offset],
        "data": "PEER NGA-West2 AT2 (101 records) + FEMA P695 (50 records, 10 shared RSNs kept once), "
                "joined to gmlearn.datasets ngawest2_subset on RSN",
    }
    for name in args.models:
        plan = PLAN[name]
        model = CGAN(latent=32, channels=32, critic_channels=32) if name == "cgan" else \
            Diffusion(channels=48, timesteps=200, sample_steps=10)
        extra_args = {"n_critic": 3} if name == "cgan" else {}
        model.set_normalisation(sim_env)
        n_pre, n_fine = (int(plan[k] * args.steps_scale) for k in ("pretrain", "finetune"))
        t1 = time.perf_counter()
        def report(step: int, loss: float, name: str = name) -> None:
            if step % 250 == 0:
                print(f"  {name} step {step}: loss {loss:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)

        model.fit(sim_env, sim_cond, steps=n_pre, lr=plan["lr"], seed=SEED, progress=report, **extra_args)
        t2 = time.perf_counter()
        model.fit(real_env, real_cond, steps=n_fine, lr=plan["lr"] * 0.5, seed=SEED + 1, extra=(sim_env, sim_cond),
                  mix=0.5, progress=report, **extra_args)
        t3 = time.perf_counter()
        model.meta = {**summary, "pretrain_steps": n_pre, "finetune_steps": n_fine,
                      "pretrain_seconds": round(t2 - t1, 1), "finetune_seconds": round(t3 - t2, 1),
                      "final_loss": float(np.mean(model.history[-50:]))}
        model.ranges = {"mag": (4.5, 8.0), "rrup": (0.0, 200.0), "vs30": (150.0, 1500.0)}
        path = save(model, args.out / name)
        print(f"{name}: {model.n_parameters()} parameters, pretrain {t2 - t1:.0f} s, fine-tune {t3 - t2:.0f} s "
              f"-> {path}")
    print(json.dumps({"total_seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
