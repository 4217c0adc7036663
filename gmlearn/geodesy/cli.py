"""``gmlearn geodesy``: GNSS velocity fields from the command line (thin wrappers over the API).

Commands: ``read``, ``cluster``, ``euler``, ``strain``, ``moment-rate``.
Register with ``app.add_typer(geodesy.cli.app, name="geodesy")``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gmlearn.cli_errors import fail

app = typer.Typer(
    help="GNSS velocity fields: read, cluster, Euler poles, strain rates, geodetic moment rates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)
out = Console()

VelFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Velocity file: .vel (GLOBK or PBO) or CSV.")]
Fmt = Annotated[str, typer.Option("--format", "-f", help="auto | globk | pbo | csv")]
Region = Annotated[str | None, typer.Option(help="lon_min,lon_max,lat_min,lat_max (degrees, lon -180..180).")]
MaxSigma = Annotated[float | None, typer.Option(help="Drop stations with se or sn above this (mm/yr).")]
MaxSpeed = Annotated[float | None, typer.Option(help="Drop stations faster than this (mm/yr).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace existing output files that this command writes.")]
OldOutput = Annotated[Path | None, typer.Option("--output", hidden=True)]  # the older spelling of --out


_fail = fail


def _errors() -> tuple[type[BaseException], ...]:
    from gmlearn.exceptions import GMLearnError

    return (GMLearnError, ValueError, KeyError, OSError)


def _outputs(overwrite: bool, inputs: list[Path | None], **outputs: tuple[Path | None, list[str]]) -> None:
    """Refuse existing outputs without --overwrite, and inputs or foreign files even with it."""
    from gmlearn.outputs import check_output

    for option, (path, suffixes) in outputs.items():
        if path is not None:
            check_output(path, overwrite=overwrite, kind="file", inputs=inputs, suffixes=suffixes,
                         option="--" + option.replace("_", "-"))


def _out(out: Path | None, output: Path | None) -> Path | None:
    if out is not None and output is not None:
        from gmlearn.exceptions import SchemaError

        raise SchemaError("Give --out once (--output is its older spelling).")
    return out if out is not None else output


def _load(path: Path, fmt: str, region: str | None, max_sigma: float | None, max_speed: float | None):
    import warnings

    from gmlearn.geodesy.readers import read_velocities
    from gmlearn.geodesy.selection import select_stations

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = read_velocities(path, format=fmt)
    for w in caught:
        console.print(f"[yellow]warning:[/] {w.message}")
    sel = select_stations(table, region=region, max_sigma=max_sigma, max_speed=max_speed)
    s = sel.attrs["selection"]
    console.print(f"{path.name}: {len(table)} stations read, {s['n_out']} selected")
    return sel


def _write_csv(frame: Any, path: Path) -> None:
    from gmlearn.store.atomic import atomic_write_with

    atomic_write_with(path, lambda tmp: frame.to_csv(tmp, index=False))
    console.print(f"[green]wrote[/] {path}")


def _show(frame: Any, title: str, floatfmt: str = "{:.3g}") -> None:
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col))
    for _, row in frame.iterrows():
        table.add_row(*(floatfmt.format(v) if isinstance(v, float) else str(v) for v in row))
    out.print(table)


@app.command("read")
def read_cmd(
    path: VelFile,
    fmt: Fmt = "auto",
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the canonical table (CSV).")] = None,
    on_bad: Annotated[str, typer.Option(help="drop | raise")] = "drop",
    duplicates: Annotated[str, typer.Option(help="latest | first | raise")] = "latest",
    overwrite: Overwrite = False,
    output: OldOutput = None,
) -> None:
    """Read a velocity file, report rejected rows, optionally write the canonical CSV (mm/yr)."""
    import warnings

    from gmlearn.geodesy.readers import read_velocities

    try:
        output = _out(out_path, output)
        _outputs(overwrite, [path], out=(output, [".csv"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = read_velocities(path, format=fmt, on_bad=on_bad, duplicates=duplicates)  # type: ignore[arg-type]
    except _errors() as exc:
        _fail(exc)
    rep = table.attrs["report"]
    out.print(f"{path.name}: format {rep['format']}, frame {rep.get('frame')}, {rep['n_rows']} rows, {rep['n_kept']} stations kept")
    for reason, info in rep["dropped"].items():
        if info["count"]:
            out.print(f"  dropped {info['count']:6d} {reason} (e.g. lines {info['lines'][:5]})")
    if rep["duplicates"]["stations"]:
        d = rep["duplicates"]
        out.print(f"  {d['stations']} stations had several rows (kept {d['policy']}); {d['conflicting_stations']} with differing velocities")
    if output is not None:
        _write_csv(table, output)


@app.command("cluster")
def cluster_cmd(
    path: VelFile,
    method: Annotated[str, typer.Option(help="kmeans | gmm | hierarchical | euler")] = "kmeans",
    k: Annotated[int, typer.Option("--k", "-k", help="Number of clusters.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    position_scale_km: Annotated[float | None, typer.Option(help="Add positions (km / scale) to the features.")] = None,
    stability: Annotated[int, typer.Option(help="Bootstrap replicates for stability (0: none).")] = 0,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Per-station clusters (CSV).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Velocity map coloured by cluster (PNG).")] = None,
    membership_plot: Annotated[Path | None, typer.Option(help="Membership-probability map (PNG).")] = None,
    fmt: Fmt = "auto",
    region: Region = None,
    max_sigma: MaxSigma = None,
    max_speed: MaxSpeed = None,
    overwrite: Overwrite = False,
    output: OldOutput = None,
) -> None:
    """Cluster stations by velocity (k-means, Gaussian mixture, Ward, or Euler vectors)."""
    from gmlearn.geodesy.clustering import cluster_velocities
    from gmlearn.geodesy.plots import plot_membership, plot_velocities
    from gmlearn.geodesy.stability import cluster_stability

    try:
        output = _out(out_path, output)
        _outputs(overwrite, [path], out=(output, [".csv"]), plot=(plot, [".png"]), membership_plot=(membership_plot, [".png"]))
        table = _load(path, fmt, region, max_sigma, max_speed)
        with console.status(f"clustering {len(table)} stations ({method}, k={k})"):
            if stability > 0:
                st = cluster_stability(table, method, k, n_bootstrap=stability, random_state=seed, position_scale_km=position_scale_km)
                res, prob = st.reference, st.frequencies
            else:
                res = cluster_velocities(table, method, k, random_state=seed, position_scale_km=position_scale_km)  # type: ignore[arg-type]
                prob = res.probabilities
    except _errors() as exc:
        _fail(exc)
    _show(res.summary(table), f"{method} clusters (speed mm/yr, azimuth deg from north)")
    frame = res.to_frame(table)
    if stability > 0:
        out.print(json.dumps(st.summary, indent=1))
        frame = frame.merge(st.stations[["station", "consistency", "entropy"]], on="station")
    if output is not None:
        _write_csv(frame, output)
    if plot is not None:
        plot_velocities(table, res.labels, plot, title=f"{method}, k={k}")
        console.print(f"[green]wrote[/] {plot}")
    if membership_plot is not None:
        plot_membership(table, prob, membership_plot, title="bootstrap frequency" if stability else "membership probability")
        console.print(f"[green]wrote[/] {membership_plot}")


@app.command("euler")
def euler_cmd(
    path: VelFile,
    stations: Annotated[str | None, typer.Option(help="Comma-separated station ids to use.")] = None,
    clusters: Annotated[Path | None, typer.Option(help="CSV from 'cluster' (station, cluster).")] = None,
    cluster: Annotated[int | None, typer.Option(help="Use the stations of this cluster (with --clusters).")] = None,
    weighted: Annotated[bool, typer.Option(help="Weight by station covariances.")] = True,
    scale_covariance: Annotated[bool, typer.Option(help="Scale the covariance by the reduced chi².")] = False,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Residual velocities (CSV).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json-out", help="Pole and covariance (JSON).")] = None,
    fmt: Fmt = "auto",
    region: Region = None,
    max_sigma: MaxSigma = None,
    max_speed: MaxSpeed = None,
    overwrite: Overwrite = False,
    output: OldOutput = None,
    json_old: Annotated[Path | None, typer.Option("--json", hidden=True)] = None,
) -> None:
    """Fit an Euler pole (weighted least squares) to all, listed, or one cluster's stations."""
    import pandas as pd

    from gmlearn.exceptions import SchemaError
    from gmlearn.geodesy.euler import fit_euler_pole
    from gmlearn.store.atomic import atomic_write_json

    try:
        output = _out(out_path, output)
        json_out = json_out if json_out is not None else json_old
        _outputs(overwrite, [path, clusters], out=(output, [".csv"]), json_out=(json_out, [".json"]))
        table = _load(path, fmt, region, max_sigma, max_speed)
        chosen = None if stations is None else [s.strip() for s in stations.split(",") if s.strip()]
        if (clusters is None) != (cluster is None):
            raise SchemaError("--clusters and --cluster go together.")
        if clusters is not None:
            lab = pd.read_csv(clusters, dtype={"station": str})
            chosen = lab.loc[lab["cluster"] == cluster, "station"].tolist()
        if chosen is not None:
            chosen = [s for s in chosen if s in set(table["station"])]
        pole = fit_euler_pole(table, chosen, weighted=weighted, scale_covariance=scale_covariance)
    except _errors() as exc:
        _fail(exc)
    out.print(
        f"Euler pole from {len(pole.stations)} stations: lat {pole.lat:.3f} ± {pole.sigma_lat:.3f}°, "
        f"lon {pole.lon:.3f} ± {pole.sigma_lon:.3f}°, rate {pole.rate:.4f} ± {pole.sigma_rate:.4f} deg/Myr"
    )
    out.print(f"chi² {pole.chi2:.1f} for {pole.dof} dof (reduced {pole.reduced_chi2:.2f}), WRMS {pole.wrms:.2f} mm/yr")
    if output is not None:
        _write_csv(pole.residuals, output)
    if json_out is not None:
        atomic_write_json(json_out, pole.to_dict())
        console.print(f"[green]wrote[/] {json_out}")


@app.command("strain")
def strain_cmd(
    path: VelFile,
    method: Annotated[str, typer.Option(help="grid | triangles")] = "grid",
    spacing: Annotated[float, typer.Option(help="Grid spacing (degrees).")] = 0.25,
    smoothing_km: Annotated[float | None, typer.Option(help="Fixed smoothing distance (km); default adaptive.")] = None,
    weight_threshold: Annotated[float, typer.Option(help="Adaptive smoothing: total weight to reach.")] = 8.0,
    max_edge_km: Annotated[float | None, typer.Option(help="Triangles: longest edge kept (km).")] = None,
    min_angle: Annotated[float, typer.Option(help="Triangles: smallest angle kept (degrees).")] = 10.0,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Strain table (CSV, 1/yr).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Strain-rate map (PNG).")] = None,
    fmt: Fmt = "auto",
    region: Region = None,
    max_sigma: MaxSigma = None,
    max_speed: MaxSpeed = None,
    overwrite: Overwrite = False,
    output: OldOutput = None,
) -> None:
    """Strain rates on a grid (distance-weighted least squares) or on Delaunay triangles."""
    from gmlearn.exceptions import SchemaError
    from gmlearn.geodesy.plots import plot_strain
    from gmlearn.geodesy.selection import parse_region
    from gmlearn.geodesy.strain import strain_triangles, to_nanostrain
    from gmlearn.geodesy.strain_grid import strain_grid

    try:
        output = _out(out_path, output)
        _outputs(overwrite, [path], out=(output, [".csv"]), plot=(plot, [".png"]))
        table = _load(path, fmt, region, max_sigma, max_speed)
        with console.status(f"strain rates ({method})"):
            if method == "grid":
                strain = strain_grid(table, spacing_deg=spacing, region=parse_region(region), smoothing_km=smoothing_km,
                                     weight_threshold=weight_threshold)  # fmt: skip
            elif method == "triangles":
                strain = strain_triangles(table, max_edge_km=max_edge_km, min_angle_deg=min_angle)
            else:
                raise SchemaError(f"The 'method' option must be 'grid' or 'triangles'. Got {method!r} instead.")
        if "valid" in strain and not strain["valid"].any():
            raise SchemaError(f"No grid node has enough stations around it for a strain rate ({len(table)} stations, "
                              f"{len(strain)} nodes); use more stations, a larger --smoothing-km or --method triangles.")
    except _errors() as exc:
        _fail(exc)
    ns = to_nanostrain(strain)
    cols = ["second_invariant", "dilatation", "max_shear", "e1", "e2"]
    desc = ns[cols].describe(percentiles=[0.5, 0.9]).loc[["count", "mean", "50%", "90%", "max"]].reset_index()
    _show(desc, f"{method}: strain rates (nanostrain/yr), report {strain.attrs['report']}")
    if output is not None:
        _write_csv(strain, output)
    if plot is not None:
        plot_strain(strain, plot)
        console.print(f"[green]wrote[/] {plot}")


@app.command("moment-rate")
def moment_rate_cmd(
    strain_csv: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Strain CSV from 'strain' (1/yr).")],
    mu: Annotated[float, typer.Option(help="Rigidity (Pa).")] = 3.0e10,
    thickness_km: Annotated[float, typer.Option(help="Seismogenic thickness (km).")] = 15.0,
    region: Region = None,
    b: Annotated[float, typer.Option(help="Gutenberg-Richter b-value.")] = 1.0,
    m_min: Annotated[float, typer.Option(help="Minimum magnitude.")] = 5.0,
    m_max: Annotated[float, typer.Option(help="Maximum magnitude.")] = 8.0,
    coupling: Annotated[float, typer.Option(help="Seismic coupling coefficient (0, 1].")] = 1.0,
    bin_width: Annotated[float, typer.Option(help="Magnitude bin width of the rate table.")] = 0.5,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Incremental G-R rates (CSV).")] = None,
    overwrite: Overwrite = False,
    output: OldOutput = None,
) -> None:
    """Geodetic moment rate of a strain table and the truncated G-R rates it implies."""

    from gmlearn.cli_inputs import read_table_file
    from gmlearn.geodesy.moment import gr_from_moment_rate, regional_moment_rate
    from gmlearn.geodesy.selection import parse_region

    try:
        output = _out(out_path, output)
        _outputs(overwrite, [strain_csv], out=(output, [".csv"]))
        strain = read_table_file(strain_csv)
        strain.attrs["units"] = "1/yr"
        total = regional_moment_rate(strain, parse_region(region), mu=mu, thickness_km=thickness_km)
        gr = gr_from_moment_rate(total["moment_rate"], b=b, m_min=m_min, m_max=m_max, coupling=coupling)
    except _errors() as exc:
        _fail(exc)
    out.print(
        f"moment rate {total['moment_rate']:.3e} N·m/yr over {total['area_m2'] / 1e6:.4g} km² ({total['n_cells']} cells; "
        f"mean-tensor value {total.get('moment_rate_mean_tensor', float('nan')):.3e}); Mw {total['mw_per_year']:.2f} per year"
    )
    out.print(f"G-R: rate(M>={m_min}) = {gr.rate_min:.4g}/yr, a = {gr.a_value:.3f}, b = {b}, coupling {coupling}")
    rates = gr.incremental_rates(bin_width)
    rates["cumulative_rate"] = gr.cumulative_rate(rates["mag"] - bin_width / 2)
    rates["return_period_yr"] = 1.0 / rates["cumulative_rate"]
    _show(rates, "truncated Gutenberg-Richter rates (per year)")
    if output is not None:
        _write_csv(rates, output)
