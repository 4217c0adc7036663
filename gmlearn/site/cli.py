"""``gmlearn site``: site terms from data and linear 1-D SH transfer functions (Typer sub-app ``app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gmlearn.cli_errors import fail

app = typer.Typer(help="Site response: data-driven station terms and linear 1-D SH transfer functions.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)
console = Console(stderr=True)


_fail = fail
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output that gmlearn wrote (never an input or a foreign folder).")]


@app.command("tf")
def tf(
    layers: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: thickness, vs, density, damping; last row = half-space.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output CSV of frequency, |H| and smoothed |H| (a PNG is written next to it).")],
    fmin: Annotated[float, typer.Option(help="Lowest frequency (Hz).")] = 0.1,
    fmax: Annotated[float, typer.Option(help="Highest frequency (Hz).")] = 50.0,
    n: Annotated[int, typer.Option(help="Number of log-spaced frequencies.")] = 500,
    overwrite: Overwrite = False,
) -> None:
    """Linear SH transfer function (surface / outcropping rock) of a layered profile."""
    import numpy as np
    import pandas as pd

    from gmlearn.cli_inputs import read_table_file
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output
    from gmlearn.site.sh1d import Profile, konno_ohmachi, transfer_function
    from gmlearn.store.atomic import atomic_write_with

    try:
        check_output(out, overwrite=overwrite, kind="file", inputs=[layers], suffixes=[".csv"])
        check_output(out.with_suffix(".png"), overwrite=overwrite, kind="file", inputs=[layers], suffixes=[".png"])
        frame = read_table_file(layers)
        missing = [c for c in ("thickness", "vs", "density", "damping") if c not in frame]
        if missing:
            raise ValueError(f"{layers.name} lacks column(s) {missing}; it has {list(frame.columns)}.")
        profile = Profile(frame["thickness"], frame["vs"], frame["density"], frame["damping"])
        if not 0 < fmin < fmax:
            raise ValueError(f"--fmin and --fmax must satisfy 0 < fmin < fmax. Got {fmin}, {fmax}.")
        freqs = np.geomspace(fmin, fmax, n)
        amp = np.abs(transfer_function(profile, freqs))
        table = pd.DataFrame({"frequency_hz": freqs, "amplitude": amp, "amplitude_ko40": konno_ohmachi(freqs, amp)})
        atomic_write_with(out, lambda tmp: table.to_csv(tmp, index=False))
        _plot(table, out.with_suffix(".png"), profile)
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    peak = table.loc[table["amplitude"].idxmax()]
    console.print(f"vs30 {profile.vs30:.0f} m/s, peak |H| {peak['amplitude']:.2f} at {peak['frequency_hz']:.2f} Hz "
                  f"(quarter-wavelength f0 {profile.fundamental_frequency:.2f} Hz)")
    console.print(f"[green]wrote[/] {out} and {out.with_suffix('.png')}")


def _plot(table, path: Path, profile) -> None:  # noqa: ANN001
    import os
    import tempfile

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.loglog(table["frequency_hz"], table["amplitude"], label="|H|")
    ax.loglog(table["frequency_hz"], table["amplitude_ko40"], label="Konno-Ohmachi b=40")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("surface / outcrop amplitude")
    ax.set_title(f"linear SH, vs30 {profile.vs30:.0f} m/s")
    ax.legend()
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


def _model(spec: str):  # noqa: ANN202
    """A saved model folder, a GMPE label (BSSA14) or an OpenQuake GSIM class name."""
    if Path(spec).is_dir():
        from gmlearn.gmpe.persistence import load_model

        return load_model(spec)
    from gmlearn.evaluation.yardstick import resolve_gmpes
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return OpenQuakeGMPE(resolve_gmpes([spec])[spec])


@app.command("fit")
def fit(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: station_terms.csv and cv_phi.csv.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Base GMPE label or OpenQuake GSIM name.")] = "Bradley2013",
    imts: Annotated[str, typer.Option(help="Comma-separated IMTs.")] = "PGA,SA(0.3),SA(1.0),SA(3.0)",
    data: Annotated[str, typer.Option("--data", "-d", help="Records: a feature-store folder, a flatfile or a bundled dataset name.")] = "nzsmd",
    region: Annotated[str, typer.Option("--tectonic-region", help="Tectonic-region filter ('' for all).")] = "crustal",
    folds: Annotated[int, typer.Option(help="Station-grouped CV folds.")] = 5,
    overwrite: Overwrite = False,
    dataset: Annotated[str | None, typer.Option("--dataset", hidden=True)] = None,  # older spelling of --data
    region_old: Annotated[str | None, typer.Option("--region", hidden=True)] = None,  # older spelling of --tectonic-region
) -> None:
    """Station terms of a GMPE on a dataset, their site-feature model and its station-grouped CV phi."""
    import pandas as pd

    from gmlearn.cli import _split_imts
    from gmlearn.cli_inputs import load_data
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, output_folder
    from gmlearn.site.amplification import SiteAmplificationModel
    from gmlearn.site.evaluate import station_cv_phi
    from gmlearn.store.atomic import atomic_write_with

    names = _split_imts(imts)
    data = dataset if dataset is not None else data
    region = region_old if region_old is not None else region
    try:
        check_output(out, overwrite=overwrite, kind="folder", inputs=[data])
        table = load_data(data, names, region or None)
        base = _model(model)
        with console.status("fitting station terms and the site model"):
            site = SiteAmplificationModel(base).fit(table, names)
            cv = station_cv_phi(table, base, names, n_splits=folds)
        terms = pd.DataFrame({imt: site.effects_[imt].station_terms for imt in names})
        terms.index.name = "station_id"
        with output_folder(out, overwrite=overwrite, inputs=[data], command="site fit") as folder:
            atomic_write_with(folder / "station_terms.csv", lambda tmp: terms.to_csv(tmp))
            atomic_write_with(folder / "cv_phi.csv", lambda tmp: cv.to_csv(tmp, index=False))
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    summary = Table(title=f"within-event phi at held-out stations ({model}, {data} {region})")
    pivot = cv.pivot(index="imt", columns="site_term", values="phi").loc[names]
    for col in ("imt", *pivot.columns):
        summary.add_column(str(col), justify="right")
    for imt, row in pivot.iterrows():
        summary.add_row(imt, *(f"{v:.3f}" for v in row))
    Console().print(summary)
    console.print(f"[green]wrote[/] {out / 'station_terms.csv'} and {out / 'cv_phi.csv'}")
