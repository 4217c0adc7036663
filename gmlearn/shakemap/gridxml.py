"""USGS ShakeMap 4 ``grid.xml`` and ``uncertainty.xml`` from a gmlearn shakemap.

The layout is ShakeMap 4's: a ``shakemap_grid`` root with ``event``,
``grid_specification``, ``event_specific_uncertainty`` and numbered
``grid_field`` elements, then one whitespace-separated row per grid point in
``grid_data``, from the north-west corner row by row (latitude descending,
longitude ascending). Fields and units:

============  =====================  ==========================================
field         units                  from
============  =====================  ==========================================
LON, LAT      ``dd`` (degrees)       the grid
PGA, PSA03,   ``pctg`` (% of g)      conditioned median of PGA, SA(0.3),
PSA06, PSA10,                        SA(0.6), SA(1.0), SA(3.0)
PSA30
PGV           ``cms`` (cm/s)         conditioned median of PGV
MMI           ``intensity``          the GMICE layer (``mmi``)
SVEL          ``ms`` (m/s)           vs30
STD<field>    ``ln(pctg)``,          conditioned sigma (ln units), and the MMI
              ``ln(cms)``,           standard deviation, in uncertainty.xml
              ``intensity``
============  =====================  ==========================================

Only the IMTs the map holds are written (ShakeMap always maps PGA, PGV,
PSA03, PSA10 and PSA30; map those IMTs for a complete file). OpenQuake reads
both files with :func:`openquake.hazardlib.shakemap.parsers.get_shakemap_array`.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from gmlearn.shakemap.errors import ShakemapError

__all__ = ["SHAKEMAP_FIELDS", "write_grid_xml", "write_uncertainty_xml", "grid_fields"]

#: ShakeMap field name -> (gmlearn IMT, units, scale from the linear gmlearn unit), in ShakeMap 4's order.
SHAKEMAP_FIELDS: dict[str, tuple[str, str, float]] = {
    "PGA": ("PGA", "pctg", 100.0),
    "PGV": ("PGV", "cms", 1.0),
    "MMI": ("MMI", "intensity", 1.0),
    "PSA03": ("SA(0.3)", "pctg", 100.0),
    "PSA06": ("SA(0.6)", "pctg", 100.0),
    "PSA10": ("SA(1.0)", "pctg", 100.0),
    "PSA30": ("SA(3.0)", "pctg", 100.0),
}
_NS = ('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://earthquake.usgs.gov/eqcenter/shakemap" '
       'xsi:schemaLocation="http://earthquake.usgs.gov http://earthquake.usgs.gov/eqcenter/shakemap/xml/schemas/shakemap.xsd"')


def grid_fields(ds: Any) -> list[str]:
    """ShakeMap fields of the IMTs (and MMI) ``ds`` holds, in ShakeMap 4's order."""
    imts = [str(i) for i in ds["imt"].to_numpy()]
    return [f for f, (imt, _, _) in SHAKEMAP_FIELDS.items() if (imt == "MMI" and "mmi" in ds) or imt in imts]


def _values(ds: Any, field: str, *, std: bool) -> np.ndarray:
    """Grid values of one field, shape (n_lat, n_lon), in ShakeMap units."""
    imt, _, scale = SHAKEMAP_FIELDS[field]
    if imt == "MMI":
        return ds["mmi_sigma" if std else "mmi"].to_numpy()
    i = [str(x) for x in ds["imt"].to_numpy()].index(imt)
    return ds["sigma"].to_numpy()[i] if std else scale * ds["median"].to_numpy()[i]


def _header(ds: Any, bias: dict, fields: list[str]) -> list[str]:
    import json

    rup = json.loads(ds.attrs.get("rupture", "{}"))
    lats, lons = ds["lat"].to_numpy(), ds["lon"].to_numpy()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dlon = float(np.diff(lons).mean()) if lons.size > 1 else 0.0
    dlat = float(np.diff(lats).mean()) if lats.size > 1 else 0.0
    lines = [
        '<?xml version="1.0" encoding="US-ASCII" standalone="yes"?>',
        f'<shakemap_grid {_NS} event_id="gmlearn_scenario" shakemap_id="gmlearn_scenario" shakemap_version="1" '
        f'code_version={quoteattr("gmlearn " + str(ds.attrs.get("gmlearn_version", "")))} process_timestamp="{stamp}" '
        f'shakemap_originator="gmlearn" map_status="RELEASED" shakemap_event_type="SCENARIO">',
        f'<event event_id="gmlearn_scenario" magnitude="{rup.get("mag", float("nan")):.2f}" '
        f'depth="{rup.get("hypo_depth", float("nan")):.2f}" lat="{rup.get("hypo_lat", float("nan")):.4f}" '
        f'lon="{rup.get("hypo_lon", float("nan")):.4f}" event_timestamp="{stamp}" event_network="gmlearn" '
        f'event_description={quoteattr(str(ds.attrs.get("rupture_source", "scenario")))} />',
        f'<grid_specification lon_min="{lons.min():.4f}" lat_min="{lats.min():.4f}" lon_max="{lons.max():.4f}" '
        f'lat_max="{lats.max():.4f}" nominal_lon_spacing="{dlon:.4f}" nominal_lat_spacing="{dlat:.4f}" '
        f'nlon="{lons.size}" nlat="{lats.size}" />',
    ]
    for field in fields:
        imt = SHAKEMAP_FIELDS[field][0]
        b = bias.get(imt, {})
        name = "mi" if field == "MMI" else field.lower()
        sd = float(b.get("sd", -1.0))
        lines.append(f'<event_specific_uncertainty name="{name}" value="{sd if np.isfinite(sd) else -1.0:.4f}" '
                     f'numsta="{int(b.get("n_obs", 0))}" />')
    return lines


def _write(ds: Any, path: str | Path, *, std: bool) -> Path:
    import json

    from gmlearn.store.atomic import atomic_write_bytes

    if "site" in ds.dims:
        msg = "grid.xml and uncertainty.xml need a regular grid; this shakemap is a site list (use CSV or netCDF)."
        raise ShakemapError(msg)
    fields = grid_fields(ds)
    if not fields:
        msg = f"The map holds none of the ShakeMap IMTs {[v[0] for v in SHAKEMAP_FIELDS.values()]}; nothing to write."
        raise ShakemapError(msg)
    lines = _header(ds, json.loads(ds.attrs.get("bias", "{}")), fields)
    names = [*("LON", "LAT"), *((f"STD{f}" for f in fields) if std else fields), *(() if std else ("SVEL",))]
    for k, name in enumerate(names, start=1):
        base = name[3:] if std and name.startswith("STD") else name
        if name in ("LON", "LAT"):
            unit = "dd"
        elif name == "SVEL":
            unit = "ms"
        else:
            unit = SHAKEMAP_FIELDS[base][1]
            unit = f"ln({unit})" if std and unit != "intensity" else unit
        lines.append(f'<grid_field index="{k}" name="{name}" units="{unit}" />')
    lat, lon = ds["lat"].to_numpy(), ds["lon"].to_numpy()
    order = np.argsort(-lat, kind="stable")  # north to south
    glon, glat = np.meshgrid(lon, lat[order])
    columns = [glon.ravel(), glat.ravel()]
    columns += [_values(ds, f, std=std)[order].ravel() for f in fields]
    if not std:
        columns.append(ds["vs30"].to_numpy()[order].ravel())
    table = np.column_stack(columns)
    fmt = " ".join(["%.4f", "%.4f", *(["%.5g"] * (table.shape[1] - 2))])
    body = "\n".join(fmt % tuple(row) for row in table)
    text = "\n".join([*lines, "<grid_data>", body, "</grid_data>", "</shakemap_grid>", ""])
    return atomic_write_bytes(path, text.encode("ascii"))


def write_grid_xml(ds: Any, path: str | Path) -> Path:
    """ShakeMap 4 ``grid.xml``: LON, LAT, the medians (PGA, PGV, PSA in % g or cm/s), MMI and SVEL."""
    return _write(ds, path, std=False)


def write_uncertainty_xml(ds: Any, path: str | Path) -> Path:
    """ShakeMap 4 ``uncertainty.xml``: LON, LAT and STD<field> (ln units; MMI in intensity units)."""
    return _write(ds, path, std=True)
