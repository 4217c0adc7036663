"""Train the shipped waveform generators (conditional WGAN-GP and diffusion) and write their weights.

Data: stochastic simulations (Boore 2003, ``gmlearn.waveform.stochastic``) for pretraining,
then real records for fine-tuning, with whole events held out
(``gmlearn.waveform.dataset.event_split``) and never seen in training. The records are
either the PEER NGA-West2 AT2 and FEMA P695 downloads under ``--data`` (the layout of
the shared data folder) or any collection listed in a metadata CSV (``--records DIR
--metadata CSV``, the layout of ``gmlearn waveforms train``). Everything is seeded
(networks included) and deterministic; run from the repository root:

    python data_recipes/train_waveforms.py --data ../shared/data [--steps-scale 1.0] [--out gmlearn/waveform/weights]

Writes ``<kind>.safetensors`` and ``<kind>.json`` per model into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
PLAN = {  # steps per phase at scale 1
    "cgan": {"pretrain": 2500, "finetune": 600},
    "diffusion": {"pretrain": 2500, "finetune": 800},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder holding waveforms_peer_at2/ and waveforms_fema_p695/")
    parser.add_argument("--records", type=Path, default=None, help="record folder (with --metadata) instead of --data")
    parser.add_argument("--metadata", type=Path, default=None, help="metadata CSV of --records")
    parser.add_argument("--out", type=Path, default=ROOT / "gmlearn" / "waveform" / "weights")
    parser.add_argument("--steps-scale", type=float, default=1.0)
    parser.add_argument("--n-sim", type=int, default=3000)
    parser.add_argument("--models", nargs="+", default=["cgan", "diffusion"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    import torch

    from gmlearn.waveform.persistence import save
    from gmlearn.waveform.records import read_all, read_metadata_folder
    from gmlearn.waveform.training import train

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if args.records is not None:
        if args.metadata is None:
            parser.error("--records needs --metadata")
        records = read_metadata_folder(args.records, args.metadata)
        source = f"{args.records} ({args.metadata.name})"
    else:
        records = read_all(args.data)
        source = ("PEER NGA-West2 AT2 + FEMA P695 (a RSN in both kept once), joined to gmlearn.datasets "
                  "ngawest2_subset on RSN")
    print(f"data: {len(records)} records from {source}; {time.perf_counter() - t0:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        plan = PLAN[name]
        n_pre, n_fine = (int(plan[k] * args.steps_scale) for k in ("pretrain", "finetune"))
        t1 = time.perf_counter()

        def report(phase: str, step: int, loss: float, name: str = name) -> None:
            if step % 250 == 0:
                print(f"  {name} {phase} step {step}: loss {loss:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)

        model = train(records, kind=name, seed=args.seed, n_sim=args.n_sim, pretrain_steps=n_pre, steps=n_fine,
                      progress=report)
        model.meta = {**model.meta, "data": source, "torch_threads": args.threads,
                      "train_seconds": round(time.perf_counter() - t1, 1)}
        path = save(model, args.out / name)
        print(f"{name}: {model.n_parameters()} parameters, {time.perf_counter() - t1:.0f} s -> {path}")
    print(json.dumps({"total_seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
