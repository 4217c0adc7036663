"""``gmlearn waveforms``: generate and evaluate accelerograms (Typer sub-app ``app``).

Commands: ``generate`` (records for one scenario as NPZ/CSV/AT2 plus PNG plots) and
``evaluate`` (median bias and sigma ratio against OpenQuake GMPEs for a scenario
grid). Both call the public API (:func:`gmlearn.waveform.load`, ``generate``,
:mod:`gmlearn.waveform.evaluate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gmlearn.cli_errors import fail

app = typer.Typer(
    help="Waveform generators: conditional GAN, diffusion and stochastic simulation of 3-component accelerograms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
_MODELS = ("cgan", "diffusion", "stochastic")


_fail = fail
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder that gmlearn wrote, whole.")]


def _check_model(model: str) -> str:
    if model not in _MODELS and not Path(model).with_suffix(".json").exists():
        raise typer.BadParameter(f"--model must be one of {list(_MODELS)} or a saved model path. Got {model!r} instead.")
    return model


@app.command("generate")
def generate(
    mag: Annotated[float, typer.Option("--mag", help="Moment magnitude.")],
    rrup: Annotated[float, typer.Option("--rrup", help="Rupture distance (km).")],
    vs30: Annotated[float, typer.Option("--vs30", help="Vs30 (m/s).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    n: Annotated[int, typer.Option("-n", help="Number of three-component records.", min=1, max=100000)] = 10,
    model: Annotated[str, typer.Option("--model", "-m", help="cgan | diffusion | stochastic | saved path.",
                                       callback=_check_model)] = "cgan",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    formats: Annotated[str, typer.Option("--formats", help="Comma-separated: npz,csv,at2.")] = "npz,csv,at2",
    plots: Annotated[bool, typer.Option(help="Write PNG plots of traces and spectra.")] = True,
    overwrite: Overwrite = False,
) -> None:
    """Generate N three-component 40-s accelerograms (50 Hz, g) for one scenario."""
    import numpy as np

    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder
    from gmlearn.waveform import load
    from gmlearn.waveform.export import write_records

    try:
        check_output(out, overwrite=overwrite, kind="folder", inputs=[Path(model)])
        fmt = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
        with console.status(f"generating {n} records with {model}"):
            gen = load(model)
            acc = gen.generate(mag, rrup, vs30, n=n, random_state=seed)
            with output_folder(out, overwrite=overwrite, inputs=[Path(model)], command="waveforms generate") as tmp:
                files = write_records(acc, gen.dt, tmp, name=f"{gen.kind}_M{mag:g}_R{rrup:g}_V{vs30:g}", formats=fmt,
                                      conditions={"mag": mag, "rrup": rrup, "vs30": vs30})
                if plots:
                    files += _plots(gen.kind, acc, gen.dt, tmp, mag, rrup, vs30)
    except (GMLearnError, ValueError, OSError) as exc:
        _fail(exc)
    table = Table(title=f"{n} records, {gen.kind}, M{mag:g} R{rrup:g} km vs30 {vs30:g} m/s")
    table.add_column("measure")
    table.add_column("median", justify="right")
    from gmlearn.waveform.metrics import summary

    s = summary(acc, gen.dt, np.array([0.2, 1.0, 3.0]), n_angles=36)
    for key, label in (("pga", "PGA (g)"), ("pgv", "PGV (cm/s)"), ("arias", "Arias (m/s)"), ("d5_95", "D5-95 (s)")):
        table.add_row(label, f"{np.median(s[key]):.4g}")
    for i, t in enumerate((0.2, 1.0, 3.0)):
        table.add_row(f"PSA({t:g} s) RotD50 (g)", f"{np.median(s['psa'][:, i]):.4g}")
    table.add_row("files", f"{len(files)} in {out}")
    Console().print(table)


def _plots(kind: str, acc, dt: float, out: Path, mag: float, rrup: float, vs30: float) -> list[Path]:  # noqa: ANN001
    from gmlearn.waveform.evaluate import EVAL_PERIODS, gmpe_reference
    from gmlearn.waveform.metrics import summary
    from gmlearn.waveform.plots import plot_spectra, plot_traces

    title = f"M{mag:g}, rrup {rrup:g} km, vs30 {vs30:g} m/s"
    spec = summary(acc, dt, EVAL_PERIODS, n_angles=36)["psa"]
    ref = gmpe_reference(mag, rrup, vs30, EVAL_PERIODS)
    return [plot_traces({kind: acc}, dt, out / f"{kind}_traces.png", title),
            plot_spectra(EVAL_PERIODS, {kind: spec}, out / f"{kind}_spectra.png", gmpe=ref["psa"], title=title)]


@app.command("evaluate")
def evaluate(
    models: Annotated[list[str] | None, typer.Option("--model", "-m", help="Models to evaluate (repeatable).")] = None,
    n: Annotated[int, typer.Option("-n", help="Samples per scenario.", min=2)] = 50,
    mag: Annotated[list[float] | None, typer.Option("--mag", help="Magnitudes of the grid (repeatable).")] = None,
    rrup: Annotated[list[float] | None, typer.Option("--rrup", help="Distances (km) of the grid.")] = None,
    vs30: Annotated[list[float] | None, typer.Option("--vs30", help="Vs30 values (m/s) of the grid.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for scores.json.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Median ln-PSA bias (T 0.1-3 s) and sigma ratio vs BSSA14 (and PGV, Arias, D5-95 GMPEs) on a scenario grid."""
    import itertools

    import numpy as np

    from gmlearn.exceptions import GMLearnError
    from gmlearn.waveform import load
    from gmlearn.waveform.evaluate import gmpe_reference, measures, scenario_scores

    models = models or list(_MODELS)
    grid = list(itertools.product(mag or [5.5, 6.5, 7.5], rrup or [10.0, 30.0, 80.0], vs30 or [300.0, 760.0]))
    results = {}
    try:
        if out is not None:
            from gmlearn.outputs import check_output

            check_output(out, overwrite=overwrite, kind="folder", inputs=[Path(m) for m in models])
        for name in models:
            _check_model(name)
            gen = load(name)
            rows = []
            with console.status(f"evaluating {name} on {len(grid)} scenarios"):
                for k, (m, r, v) in enumerate(grid):
                    ln = measures(gen.generate(m, r, v, n=n, random_state=seed + k), gen.dt)
                    rows.append(scenario_scores(ln, gmpe_reference(m, r, v)))
            bias = np.median([row["psa_bias"] for row in rows], axis=0)
            ratio = np.median([row["psa_sigma_ratio"] for row in rows], axis=0)
            results[name] = {"max_abs_median_bias": float(np.max(np.abs(bias))), "sigma_ratio_min": float(ratio.min()),
                             "sigma_ratio_max": float(ratio.max()),
                             **{f"{key}_median_bias": float(np.median([row[f"{key}_bias"] for row in rows]))
                                for key in ("pgv", "arias", "d5_95")}}
    except (GMLearnError, ValueError, OSError) as exc:
        _fail(exc)
    table = Table(title=f"vs OpenQuake GMPEs, {len(grid)} scenarios x {n} samples (ln units; σ ratio vs BSSA14)")
    keys = list(next(iter(results.values())))
    labels = {"max_abs_median_bias": "max |PSA bias|", "sigma_ratio_min": "σ ratio min", "sigma_ratio_max": "σ ratio max",
              "pgv_median_bias": "PGV bias", "arias_median_bias": "Arias bias", "d5_95_median_bias": "D5-95 bias"}
    table.add_column("model")
    for key in keys:
        table.add_column(labels.get(key, key), justify="right")
    for name, row in results.items():
        table.add_row(name, *(f"{row[k]:.3f}" for k in keys))
    Console().print(table)
    if out is not None:
        from gmlearn.outputs import output_folder
        from gmlearn.store.atomic import atomic_write_json

        try:
            with output_folder(out, overwrite=overwrite, command="waveforms evaluate") as tmp:
                atomic_write_json(tmp / "scores.json", {"grid": grid, "samples": n, "results": results})
        except (GMLearnError, OSError) as exc:
            _fail(exc)
        console.print(f"[green]wrote[/] {Path(out) / 'scores.json'}")
