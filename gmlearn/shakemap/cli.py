"""``gmlearn shakemap``: a scenario shakemap, conditioned on stations, written as netCDF, CSV, GeoJSON, PNG and ShakeMap XML.

The command parses options, shows progress and calls the public API
(:func:`gmlearn.shakemap.compute_shakemap`, :meth:`ShakeMap.write`,
:func:`gmlearn.shakemap.simulate_fields`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gmlearn.cli_errors import fail

console = Console(stderr=True)


_fail = fail


def resolve_model(spec: str) -> Any:
    """A model from a saved model folder, a GMPE label (``BSSA14``) or an OpenQuake GSIM class name."""
    path = Path(spec)
    if path.is_dir():
        from gmlearn.gmpe.persistence import load_model

        return load_model(path)
    from gmlearn.evaluation.yardstick import resolve_gmpes
    from gmlearn.gmpe.reference import OpenQuakeGMPE

    return OpenQuakeGMPE(resolve_gmpes([spec])[spec])


def _floats(text: str, n: int, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != n:
        raise typer.BadParameter(f"{name} must be {n} comma-separated numbers. Got {text!r} instead.")
    return values


def _default_box(rupture: Any, stations: Any, pad: float) -> tuple[float, float, float, float]:
    lon0, lat0, lon1, lat1 = rupture.bounds()
    if stations is not None:
        lon0, lon1 = min(lon0, float(stations["lon"].min())), max(lon1, float(stations["lon"].max()))
        lat0, lat1 = min(lat0, float(stations["lat"].min())), max(lat1, float(stations["lat"].max()))
    return lon0 - pad, lat0 - pad, lon1 + pad, lat1 + pad


def shakemap(
    rupture: Annotated[Path, typer.Option("--rupture", "-r", help="Rupture: OpenQuake NRML (.xml) or JSON (parameters, planes or trace).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created; an existing one is replaced whole with --overwrite).")],
    model: Annotated[str, typer.Option("--model", "-m", help="GMPE label (BSSA14), OpenQuake GSIM name or a saved model folder.")] = "BooreEtAl2014",
    stations: Annotated[Path | None, typer.Option("--stations", help="Station CSV: station_id, lon, lat, vs30 and IMT columns.")] = None,
    values: Annotated[str, typer.Option(help="Station IMT values: linear (g, cm/s) or ln.")] = "linear",
    imts: Annotated[str | None, typer.Option(help="Comma-separated IMTs (default: the stations' IMTs, else PGA,SA(1.0)).")] = None,
    bbox: Annotated[str | None, typer.Option(help="lon_min,lat_min,lon_max,lat_max (default: rupture and stations + --pad).")] = None,
    spacing: Annotated[float, typer.Option(help="Grid spacing (degrees).")] = 0.05,
    pad: Annotated[float, typer.Option(help="Padding of the default box (degrees).")] = 0.5,
    sites: Annotated[Path | None, typer.Option(help="Site CSV (lon, lat[, vs30]) instead of a grid.")] = None,
    vs30: Annotated[str, typer.Option(help="vs30: a constant (m/s) or a grid file (CSV lon,lat,vs30 or netCDF).")] = "760",
    slope: Annotated[Path | None, typer.Option(help="Slope grid (m/m; CSV lon,lat,slope or netCDF) for vs30 by Wald & Allen (2007).")] = None,
    outside: Annotated[str, typer.Option(help="Stations outside the grid: use | drop | error.")] = "use",
    imt_mode: Annotated[str, typer.Option(help="IMTs conditioning each target: same (ShakeMap) | all (joint).")] = "same",
    vs30_clustering: Annotated[bool, typer.Option(help="JB2009 case 2 (True) or case 1 ranges.")] = True,
    fields: Annotated[int, typer.Option(help="Also simulate this many correlated fields into fields.nc (0: none).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated fields.")] = 0,
    formats: Annotated[str, typer.Option(help="Comma-separated outputs: netcdf,csv,geojson,png,gridxml (USGS ShakeMap grid.xml + uncertainty.xml).")] = "netcdf,csv,geojson,png,gridxml",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder that gmlearn wrote, whole.")] = False,
    stations_old: Annotated[Path | None, typer.Option("-s", hidden=True)] = None,  # older short form of --stations
) -> None:
    """Scenario shakemap of a rupture, conditioned on station observations when --stations is given."""
    from gmlearn.cli import _progress, _split_imts
    from gmlearn.exceptions import GMLearnError
    from gmlearn.outputs import check_output, final_path, output_folder
    from gmlearn.shakemap.correlation import CorrelationModel
    from gmlearn.shakemap.rupture import read_rupture
    from gmlearn.shakemap.scenario import compute_shakemap, model_label
    from gmlearn.shakemap.sites import grid_sites, read_sites
    from gmlearn.shakemap.stations import read_stations

    try:
        if stations is not None and stations_old is not None:
            raise ValueError("Give --stations once (-s is its older short form).")
        stations = stations if stations is not None else stations_old
        inputs = [rupture, stations, sites, slope, Path(model), Path(vs30)]
        check_output(out, overwrite=overwrite, kind="folder", inputs=inputs)
        rup = read_rupture(rupture)
        sta = read_stations(stations, values=values) if stations is not None else None
        names = _split_imts(imts) if imts else (sta.attrs["imts"] if sta is not None else ["PGA", "SA(1.0)"])
        try:
            vs30_value: Any = float(vs30)
        except ValueError:
            vs30_value = Path(vs30)
        vs30_source = None if slope is not None and vs30 == "760" else vs30_value
        if sites is not None:
            site_set = read_sites(sites, vs30=vs30_source, slope=slope)
        else:
            box = _floats(bbox, 4, "--bbox") if bbox else _default_box(rup, sta, pad)
            site_set = grid_sites(tuple(box), spacing, vs30=vs30_source, slope=slope)
        gmm = resolve_model(model)
        corr = CorrelationModel(vs30_clustering=vs30_clustering)
        with _progress() as bar:
            task = bar.add_task("shakemap", total=4)

            def _step(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message)

            result = compute_shakemap(rup, site_set, gmm, names, sta, correlation=corr, imt_mode=imt_mode,
                                      outside=outside, progress=_step)
            da = None
            if fields > 0:  # before writing anything, so a refused ensemble leaves no partial output
                from gmlearn.shakemap.ensemble import simulate_fields

                bar.update(task, description=f"simulating {fields} fields")
                da = simulate_fields(rup, site_set, gmm, names, fields, sta, seed=seed, correlation=corr)
            with output_folder(out, overwrite=overwrite, inputs=inputs, command="shakemap") as tmp:
                files = result.write(tmp, formats=[f.strip() for f in formats.split(",") if f.strip()],
                                     progress=lambda m: bar.update(task, description=m), extra={"fields.nc": da})
            files = [final_path(f, tmp, out) for f in files]
    except (GMLearnError, ValueError, KeyError, OSError) as exc:
        _fail(exc)
    summary = Table(title=f"shakemap: M{rup.mag:.2f} {rup.source}, {len(site_set)} sites, model {model_label(gmm)}")
    for col in ("imt", "bias (ln)", "bias sd", "median sigma prior", "median sigma conditioned"):
        summary.add_column(col, justify="right")
    ds = result.dataset
    for i, imt in enumerate(result.imts):
        b = result.bias.get(imt, {})
        summary.add_row(imt, f"{b.get('mean', float('nan')):+.3f}", f"{b.get('sd', float('nan')):.3f}",
                        f"{float(ds['sigma_prior'][i].median()):.3f}", f"{float(ds['sigma'][i].median()):.3f}")
    Console().print(summary)
    for path in files:
        console.print(f"[green]wrote[/] {path}")
