"""``gmlearn catalog``: thin commands over :mod:`gmlearn.catalog` (registered in ``gmlearn/cli.py``).

Commands: ``read``, ``mc``, ``bvalue``, ``decluster``, ``cluster``, ``smooth``, ``hazard``.
Each reads catalogue files with :func:`gmlearn.catalog.readers.read_catalog`
and calls the same functions a notebook would.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gmlearn.cli_errors import fail

app = typer.Typer(
    help="Earthquake catalogues: read, completeness, b-value, declustering, clustering, smoothed seismicity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(stderr=True)

Files = Annotated[list[Path], typer.Argument(help="Catalogue files (MLNZ20 CSVs, GeoNet CMT, ComCat CSV, QuakeML).")]
Format = Annotated[str, typer.Option("--format", "-f", help="auto | mlnz20 | cmt | comcat | quakeml")]
Magnitude = Annotated[str | None, typer.Option(help="Magnitude column: MLNZ20 or MLv (MLNZ20 files), Mw or ML (CMT).")]
MinMag = Annotated[float | None, typer.Option("--min-mag", help="Keep events with magnitude >= this.")]
DeltaM = Annotated[float, typer.Option("--delta-m", help="Magnitude bin width.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace existing output files that this command writes.")]


_fail = fail


def _errors() -> tuple[type[BaseException], ...]:
    from gmlearn.exceptions import GMLearnError

    return (GMLearnError, ValueError, KeyError, OSError, ImportError)


def _check_outputs(overwrite: bool, inputs: list[Path], **outputs: tuple[Path | None, list[str]]) -> None:
    """Refuse existing outputs without --overwrite, and inputs or foreign files even with it."""
    from gmlearn.outputs import check_output

    for option, (path, suffixes) in outputs.items():
        if path is not None:
            check_output(path, overwrite=overwrite, kind="file", inputs=inputs, suffixes=suffixes,
                         option="--" + option.replace("_", "-"))


def _load(files: list[Path], fmt: str, magnitude: str | None, min_mag: float | None):  # noqa: ANN202
    from gmlearn.catalog.frame import CatalogWarning
    from gmlearn.catalog.readers import read_catalog

    kwargs: dict[str, Any] = {"magnitude": magnitude} if magnitude else {}
    with console.status(f"reading {len(files)} file(s)"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CatalogWarning)
        catalog = read_catalog(files, format=fmt, **kwargs)
    for w in caught:
        if issubclass(w.category, CatalogWarning):
            console.print(f"[yellow]report:[/] {w.message}")
    if min_mag is not None:
        attrs = dict(catalog.attrs)
        catalog = catalog[catalog["mag"] >= min_mag].reset_index(drop=True)
        catalog.attrs = attrs
    return catalog


def _table(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    for col in rows[0]:
        table.add_column(str(col), justify="right" if isinstance(rows[0][col], (int, float)) else "left")
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    Console().print(table)


def _emit(rows: list[dict[str, Any]] | dict[str, Any], title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif isinstance(rows, dict):
        _table(title, [{"field": k, "value": v} for k, v in rows.items()])
    else:
        _table(title, rows)


def _write_csv(frame: Any, path: Path) -> None:
    from gmlearn.store.atomic import atomic_write_with

    atomic_write_with(path, lambda tmp: frame.to_csv(tmp, index=False))
    console.print(f"[green]wrote[/] {path}")


@app.command("read")
def read(files: Files, fmt: Format = "auto", magnitude: Magnitude = None, min_mag: MinMag = None,
         as_json: AsJson = False) -> None:
    """Read catalogue files and summarise them, with the duplicate and bad-row report."""
    from gmlearn.catalog.frame import describe_catalog

    try:
        summary = describe_catalog(_load(files, fmt, magnitude, min_mag))
    except _errors() as exc:
        _fail(exc)
        return
    _emit(summary, "catalogue", as_json)


@app.command("mc")
def mc(files: Files, fmt: Format = "auto", magnitude: Magnitude = None, min_mag: MinMag = None,
       delta_m: DeltaM = 0.1,
       method: Annotated[str, typer.Option(help="all | max_curvature | goodness_of_fit | b_stability")] = "all",
       correction: Annotated[float, typer.Option(help="Maximum-curvature correction (W&W 2005: 0.2).")] = 0.0,
       plot: Annotated[Path | None, typer.Option(help="Write the FMD with Mc and the Aki-Utsu fit (PNG).")] = None,
       as_json: AsJson = False, overwrite: Overwrite = False) -> None:
    """Magnitude of completeness by maximum curvature, goodness of fit and b-value stability."""
    from gmlearn.catalog.bvalue import aki_utsu
    from gmlearn.catalog.completeness import MC_METHODS, estimate_mc

    methods = list(MC_METHODS) if method == "all" else [method]
    try:
        _check_outputs(overwrite, files, plot=(plot, [".png"]))
        catalog = _load(files, fmt, magnitude, min_mag)
        results = []
        for name in methods:
            kwargs: dict[str, Any] = {"delta_m": delta_m}
            if name == "max_curvature":
                kwargs["correction"] = correction
            with console.status(f"Mc by {name}"):
                results.append(estimate_mc(catalog, name, **kwargs))
        rows = []
        for res in results:
            b = aki_utsu(catalog, res.mc, delta_m).b if res.mc == res.mc else float("nan")
            rows.append({"method": res.method, "mc": res.mc, "b_aki_utsu": b,
                         "n_above": int((catalog["mag"] >= res.mc - delta_m / 2).sum())})
        if plot is not None:
            from gmlearn.catalog.plots import plot_fmd

            finite = [r for r in results if r.mc == r.mc]
            if not finite:
                from gmlearn.exceptions import SchemaError

                raise SchemaError(f"No Mc was found by {methods}; nothing to plot. Try --method max_curvature.")
            best = finite[-1]
            plot_fmd(catalog, aki_utsu(catalog, best.mc, delta_m), best, delta_m=delta_m, path=plot)
            console.print(f"[green]wrote[/] {plot}")
    except _errors() as exc:
        _fail(exc)
        return
    _emit(rows, "magnitude of completeness", as_json)


def _completeness(text: str) -> list[tuple[str, float]]:
    rows = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        start, _, mag = item.rpartition(":")
        rows.append((start, float(mag)))
    return rows


@app.command("bvalue")
def bvalue(files: Files, fmt: Format = "auto", magnitude: Magnitude = None, min_mag: MinMag = None,
           delta_m: DeltaM = 0.1,
           mc_value: Annotated[float | None, typer.Option("--mc", help="Completeness magnitude (default: b-stability).")] = None,
           method: Annotated[str, typer.Option(help="all | aki_utsu | weichert | b_positive")] = "all",
           completeness: Annotated[str | None, typer.Option(
               help="Weichert periods 'START:MC,...', e.g. '2025-01-01:2.3,2024-01-01:2.8' (default: all since the first event at Mc).")] = None,
           as_json: AsJson = False) -> None:
    """b-value: Aki-Utsu (Shi & Bolt error), Weichert (mixed completeness), b-positive."""
    from gmlearn.catalog.bvalue import aki_utsu, b_positive, weichert
    from gmlearn.catalog.workflow import default_mc

    try:
        catalog = _load(files, fmt, magnitude, min_mag)
        mc_used = default_mc(catalog, delta_m) if mc_value is None else mc_value
        table = _completeness(completeness) if completeness else [(catalog["time"].min(), mc_used)]
        fits = {
            "aki_utsu": lambda: aki_utsu(catalog, mc_used, delta_m),
            "weichert": lambda: weichert(catalog, table, delta_m),
            "b_positive": lambda: b_positive(catalog, delta_m, mc=mc_used, dmc=2 * delta_m),
        }
        names = list(fits) if method == "all" else [method]
        unknown = [n for n in names if n not in fits]
        if unknown:
            raise _unknown("method", method, ["all", *fits])
        rows = [{"method": f.method, "b": f.b, "sigma_b": f.sigma_b, "a": f.a, "annual_a": f.annual, "mc": mc_used,
                 "n": f.n} for f in (fits[n]() for n in names)]
    except _errors() as exc:
        _fail(exc)
        return
    _emit(rows, "Gutenberg-Richter b-value", as_json)


def _unknown(name: str, value: str, allowed: list[str]) -> Exception:
    from gmlearn.exceptions import SchemaError

    return SchemaError(f"The '--{name}' option must be one of {allowed}. Got {value!r} instead.")


@app.command("decluster")
def decluster(files: Files, fmt: Format = "auto", magnitude: Magnitude = None, min_mag: MinMag = None,
              method: Annotated[str, typer.Option(help="gardner_knopoff | reasenberg | zaliapin")] = "gardner_knopoff",
              window: Annotated[str, typer.Option(help="GK window: gardner_knopoff | gruenthal | uhrhammer")] = "gardner_knopoff",
              hmtk_compatible: Annotated[bool, typer.Option(help="GK: reproduce OpenQuake hmtk exactly.")] = False,
              out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the declustered catalogue (CSV).")] = None,
              plot: Annotated[Path | None, typer.Option(help="Write a map and time plot (PNG).")] = None,
              as_json: AsJson = False, overwrite: Overwrite = False) -> None:
    """Decluster (Gardner-Knopoff windows, Reasenberg, Zaliapin nearest neighbours)."""
    from gmlearn.catalog.declustering import decluster as run

    try:
        _check_outputs(overwrite, files, out=(out, [".csv"]), plot=(plot, [".png"]))
        catalog = _load(files, fmt, magnitude, min_mag)
        kwargs: dict[str, Any] = {"window": window, "hmtk_compatible": hmtk_compatible} if method == "gardner_knopoff" else {}
        with console.status(f"declustering {len(catalog)} events ({method})"):
            result = run(catalog, method, **kwargs)
        if out is not None:
            _write_csv(result.declustered(catalog), out)
        if plot is not None:
            from gmlearn.catalog.plots import plot_declustering

            plot_declustering(catalog, result, path=plot)
            console.print(f"[green]wrote[/] {plot}")
    except _errors() as exc:
        _fail(exc)
        return
    summary = result.summary()
    summary["params"] = json.dumps(summary["params"], default=str)
    _emit(summary, "declustering", as_json)


@app.command("cluster")
def cluster(files: Files, fmt: Format = "auto", magnitude: Magnitude = None, min_mag: MinMag = None,
            algorithm: Annotated[str, typer.Option(help="dbscan | hdbscan")] = "dbscan",
            eps_km: Annotated[float, typer.Option(help="DBSCAN radius in scaled km.")] = 10.0,
            km_per_day: Annotated[float, typer.Option(help="Weight of one day in km.")] = 2.0,
            min_samples: Annotated[int, typer.Option(help="Core-point neighbours.")] = 5,
            out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the cluster summary (CSV).")] = None,
            top: Annotated[int, typer.Option(help="Rows of the summary to print.")] = 10,
            overwrite: Overwrite = False) -> None:
    """Find sequences and swarms with DBSCAN / HDBSCAN in scaled space-time."""
    from gmlearn.catalog.clustering import cluster_space_time

    try:
        _check_outputs(overwrite, files, out=(out, [".csv"]))
        catalog = _load(files, fmt, magnitude, min_mag)
        with console.status(f"{algorithm} on {len(catalog)} events"):
            result = cluster_space_time(catalog, algorithm, eps_km=eps_km, km_per_day=km_per_day, min_samples=min_samples)  # type: ignore[arg-type]
        if out is not None:
            _write_csv(result.summary, out)
    except _errors() as exc:
        _fail(exc)
        return
    console.print(f"{result.n_clusters} clusters, {100 * result.fraction_clustered:.1f} % of events clustered; "
                  f"{(result.summary['kind'] == 'swarm').sum()} swarms")
    if result.n_clusters:
        cols = ["cluster", "n_events", "start", "duration_days", "lon", "lat", "mag_max", "kind"]
        _table("largest clusters", result.summary[cols].head(top).astype({"start": str}).to_dict("records"))


def _sites(values: list[str]) -> list[tuple[float, float]]:
    out = []
    for text in values:
        lon, lat = (float(v) for v in text.split(","))
        out.append((lon, lat))
    return out


@app.command("smooth")
def smooth(files: Files,
           out: Annotated[Path, typer.Option("--out", "-o", help="NRML source model to write (.xml).")],
           fmt: Format = "auto", magnitude: Magnitude = None, min_mag: MinMag = None, delta_m: DeltaM = 0.1,
           mc_value: Annotated[float | None, typer.Option("--mc", help="Completeness magnitude (default: b-stability).")] = None,
           b_value: Annotated[float | None, typer.Option("--b", help="b-value (default: Aki-Utsu of all events above Mc).")] = None,
           decluster_method: Annotated[str, typer.Option("--decluster", help="gardner_knopoff | reasenberg | zaliapin | none")] = "gardner_knopoff",
           kernel: Annotated[str, typer.Option(help="fixed | adaptive")] = "adaptive",
           bandwidth_km: Annotated[float, typer.Option(help="Fixed-kernel standard deviation (km).")] = 15.0,
           spacing: Annotated[float, typer.Option(help="Grid spacing (deg).")] = 0.1,
           region: Annotated[str | None, typer.Option(help="lon_min,lon_max,lat_min,lat_max (lon may exceed 180).")] = None,
           max_depth: Annotated[float | None, typer.Option(help="Smooth events at most this deep (km).")] = 40.0,
           mmin: Annotated[float, typer.Option(help="Smallest magnitude of the source MFDs.")] = 4.5,
           mmax: Annotated[float, typer.Option(help="Largest magnitude of the source MFDs.")] = 8.0,
           plot: Annotated[Path | None, typer.Option(help="Write a rate map (PNG).")] = None,
           site: Annotated[list[str] | None, typer.Option(help="Compute hazard curves at LON,LAT (repeatable).")] = None,
           gsim: Annotated[str, typer.Option(help="OpenQuake GSIM for --site.")] = "Bradley2013",
           overwrite: Overwrite = False) -> None:
    """Smoothed seismicity to an OpenQuake NRML point-source model (optionally hazard curves)."""
    from gmlearn.catalog.sources import SourceSettings
    from gmlearn.catalog.workflow import smoothed_source_model

    try:
        _check_outputs(overwrite, files, out=(out, [".xml"]), plot=(plot, [".png"]))
        catalog = _load(files, fmt, magnitude, min_mag)
        bounds = [float(v) for v in region.split(",")] if region else None
        with console.status("building the source model") as status:
            result = smoothed_source_model(
                catalog, out, mc=mc_value, b=b_value, delta_m=delta_m,
                decluster=None if decluster_method == "none" else decluster_method,  # type: ignore[arg-type]
                kernel=kernel, bandwidth_km=bandwidth_km, spacing_deg=spacing, region=bounds,  # type: ignore[arg-type]
                max_depth_km=max_depth, settings=SourceSettings(mmin=mmin, mmax=mmax),
                progress=lambda message: status.update(message),
            )
        console.print(f"[green]wrote[/] {result.path} ({result.n_sources} point sources, Mc {result.mc:g}, "
                      f"b {result.rates.b:.3f}, {result.rates.total_rate:.1f} events/yr >= Mc)")
        if plot is not None:
            from gmlearn.catalog.plots import plot_rate_map

            plot_rate_map(result.rates, path=plot)
            console.print(f"[green]wrote[/] {plot}")
        if site:
            _hazard_table(str(result.path), _sites(site), gsim, 400.0, 50.0, None)
    except _errors() as exc:
        _fail(exc)


def _hazard_table(model: str, sites: list[tuple[float, float]], gsim: str, vs30: float, years: float,
                  out: Path | None) -> None:
    from gmlearn.catalog.psha import hazard_curves

    with console.status(f"classical PSHA at {len(sites)} site(s) with {gsim}"):
        curves = hazard_curves(model, sites, gsim=gsim, vs30=vs30, investigation_time=years)
    if out is not None:
        _write_csv(curves, out)
    pga = curves[curves["imt"] == curves["imt"].iloc[0]]
    pivot = pga.pivot(index="iml", columns="site", values="poe")
    rows = [{"iml_g": iml, **{f"site {s}": float(v) for s, v in row.items()}} for iml, row in pivot.iterrows()]
    _table(f"probability of exceedance in {years:g} years ({curves['imt'].iloc[0]})", rows)


@app.command("hazard")
def hazard(model: Annotated[Path, typer.Argument(help="NRML source model (.xml).")],
           site: Annotated[list[str], typer.Option(help="LON,LAT (repeatable).")],
           gsim: Annotated[str, typer.Option(help="OpenQuake GSIM class name.")] = "Bradley2013",
           vs30: Annotated[float, typer.Option(help="Site vs30 (m/s).")] = 400.0,
           investigation_time: Annotated[float, typer.Option(help="Years.")] = 50.0,
           out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the curves (CSV).")] = None,
           overwrite: Overwrite = False) -> None:
    """Classical PSHA hazard curves of an NRML source model at a few sites (OpenQuake hazardlib, in process)."""
    try:
        _check_outputs(overwrite, [model], out=(out, [".csv"]))
        _hazard_table(str(model), _sites(site), gsim, vs30, investigation_time, out)
    except _errors() as exc:
        _fail(exc)
