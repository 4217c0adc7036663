"""Run an OpenQuake job in this process, with gmlearn's GSIM registered.

Stock ``oq run`` also builds ``[GMLearnGSIM]`` branches once gmlearn is
installed (the start-up hook ``_gmlearn_openquake``). :func:`run` adds what a
notebook wants: it imports the GSIM, uses OpenQuake's own sqlite job database
and datastore folder, or a private one (:mod:`gmlearn.hazard.jobdb`), checks
the job's gmlearn models against the job before any computation, runs the
calculator (classical, scenario, event-based, disaggregation ...) and reads the
results into DataFrames (:class:`~gmlearn.hazard.results.HazardResult`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from gmlearn.exceptions import ModelError
from gmlearn.hazard.results import HazardResult, read_result

__all__ = ["run", "check_job"]

#: Site parameters OpenQuake fills with a default when a site model lacks them.
_DEFAULTED_SITE_PARAMS = frozenset({"vs30measured", "backarc", "ampcode", "lon", "lat"})


def _model_error_in(exc: BaseException) -> ModelError | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ModelError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


@contextlib.contextmanager
def _job_errors(job_ini: Path) -> Iterator[None]:
    """Re-raise OpenQuake's wrapping of a gmlearn model error as that error, naming the job."""
    try:
        yield
    except ModelError:
        raise
    except Exception as exc:
        inner = _model_error_in(exc)
        if inner is not None:
            msg = f"{job_ini}: {inner}"
            raise ModelError(msg) from exc
        if "duplicated gsim [GMLearnGSIM]" in str(exc):
            msg = (f"{job_ini}: {exc}. OpenQuake identifies a GSIM by the base name of its model_file, so two branches "
                   "naming '<folder>/metadata.json' look identical; pack each model into its own archive with "
                   "gmlearn.hazard.pack_model(folder, 'name.zip') and use model_file = \"name.zip\".")
            raise ModelError(msg) from exc
        raise


def _site_model_columns(paths: Any) -> tuple[str, list[str]] | None:
    import pandas as pd

    files = [paths] if isinstance(paths, str) else list(paths)
    csvs = [f for f in files if str(f).endswith(".csv")]
    if not csvs:
        return None  # XML site models are checked by OpenQuake
    cols = set.intersection(*(set(pd.read_csv(f, nrows=0).columns) for f in csvs))
    return ", ".join(map(str, csvs)), sorted(cols)


def _check_model(gsim: Any, oq: Any, job_ini: Path) -> None:
    from openquake.hazardlib import site

    from gmlearn.hazard.gsim import check_imts, model_spec

    given = Path(str(gsim.kwargs.get("model_file", "")))
    if given.is_dir():
        msg = (f"{job_ini}: model_file {str(given)!r} is a folder; OpenQuake reads every *_file argument as one file. "
               f"Use model_file = \"{given.name}/metadata.json\" or an archive from gmlearn.hazard.pack_model.")
        raise ModelError(msg)
    spec = model_spec(given)
    try:
        check_imts(spec, list(oq.imtls))
    except ModelError as exc:
        raise ModelError(f"{job_ini}: {exc}") from None
    needed = sorted(spec.sites - _DEFAULTED_SITE_PARAMS)
    if "site_model" in oq.inputs:
        found = _site_model_columns(oq.inputs["site_model"])
        if found is not None:
            files, cols = found
            missing = [p for p in needed if p not in cols]
            if missing:
                msg = (f"{job_ini}: the model in {spec.folder!r} needs site parameter(s) {missing}, which the site model "
                       f"{files} lacks (it has {cols}). Add those columns to the site model, or retrain the model "
                       "without them.")
                raise ModelError(msg)
        return
    for name in needed:
        attr = site.param.get(name)
        value = getattr(oq, attr, math.nan) if attr else math.nan
        if isinstance(value, float) and math.isnan(value):
            where = f"set {attr} in the job's [site_params]" if attr else "give a site_model_file with that column"
            msg = (f"{job_ini}: the model in {spec.folder!r} needs the site parameter {name!r}, which the job does "
                   f"not give; {where}.")
            raise ModelError(msg)


def check_job(params: Mapping[str, str], job_ini: Path) -> Any:
    """Validate a job and its gmlearn models before anything is computed.

    Returns
    -------
    OqParam
        OpenQuake's validated parameters.

    Raises
    ------
    ModelError
        A model file is missing, corrupt, lacks an IMT the job asks for, or
        needs a site parameter the job's sites lack; the message names the
        job, the file and the fix.
    """
    from openquake.commonlib import readinput

    from gmlearn.hazard.gsim import GMLearnGSIM

    with _job_errors(job_ini):
        oq = readinput.get_oqparam(dict(params))
        gsim_lt = readinput.get_gsim_lt(oq)
    for gsims in gsim_lt.values.values():
        for gsim in gsims:
            if isinstance(gsim, GMLearnGSIM):
                _check_model(gsim, oq, job_ini)
    return oq


class _Forward(logging.Handler):
    def __init__(self, callback: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.callback(record.getMessage())
        except Exception:  # noqa: BLE001 - a progress display must not break the job
            self.handleError(record)


@contextlib.contextmanager
def _logging(progress: Callable[[str], None] | None, verbose: bool) -> Iterator[None]:
    root = logging.getLogger()
    saved = root.level
    handler = _Forward(progress) if progress is not None else None
    # Without a root handler, a module-level logging.warning() would call
    # basicConfig() and print OpenQuake's log for the rest of the process.
    quiet = logging.NullHandler() if not verbose else None
    for h in (handler, quiet):
        if h is not None:
            root.addHandler(h)
    if handler is not None or verbose:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        for h in (handler, quiet):
            if h is not None:
                root.removeHandler(h)
        root.setLevel(saved)


@contextlib.contextmanager
def _environment(values: Mapping[str, str | None]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is not None:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(
    job_ini: str | os.PathLike[str],
    *,
    export_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    plots: bool = True,
    distribute: str | None = None,
    progress: Callable[[str], None] | None = None,
    verbose: bool = False,
) -> HazardResult:
    """Run an OpenQuake job (job.ini) in this process and return its results.

    Parameters
    ----------
    job_ini
        The job file. Its logic trees may name ``[GMLearnGSIM]`` branches.
    export_dir
        Write the result tables as CSV and PNG figures here (see
        :meth:`HazardResult.export`). The job's own ``export_dir`` is ignored.
    data_dir
        Folder of a private sqlite job database and the datastores. Default:
        OpenQuake's own database and datastore folder (``openquake.cfg``,
        ``OQ_DATADIR``; ``~/oqdata``), so ``oq engine --lhc``, ``oq export``
        and the WebUI list the run under an id from OpenQuake's sequence;
        when ``GMLEARN_DATA_DIR`` is set, ``$GMLEARN_DATA_DIR/hazard``.
    params
        Job parameters overriding the file's (``{"region_grid_spacing": 20}``).
    plots
        Write PNG figures along with the CSV files.
    distribute
        OpenQuake's ``OQ_DISTRIBUTE`` for this run: ``"no"`` (one process) or
        ``"processpool"``; default: the environment's setting.
    progress
        ``callable(message)`` receiving OpenQuake's log messages (INFO and up).
    verbose
        Also print OpenQuake's log on stderr.

    Returns
    -------
    HazardResult

    Raises
    ------
    FileNotFoundError
        If ``job_ini`` does not exist.
    ModelError
        Before any computation, for a missing or corrupt model file, an IMT
        the model cannot predict, or a site parameter the sites lack.
    """
    job = Path(job_ini).expanduser().absolute()
    if not job.is_file():
        msg = f"Job file {str(job)!r} does not exist; pass the path of an OpenQuake job.ini."
        raise FileNotFoundError(msg)
    import gmlearn.hazard.gsim  # noqa: F401 - registers GMLearnGSIM with OpenQuake
    from gmlearn.hazard.archive import data_dir as default_data_dir
    from gmlearn.hazard.jobdb import job_database

    if data_dir is not None:
        folder: Path | None = Path(data_dir)
    elif os.environ.get("GMLEARN_DATA_DIR"):
        folder = default_data_dir()
    else:
        folder = None  # OpenQuake's own database and datastore folder
    overrides = {str(k): str(v) for k, v in (params or {}).items()}
    with _environment({"OQ_DISTRIBUTE": distribute}), _logging(progress, verbose), job_database(folder):
        calc_path, wall = _execute(job, overrides, verbose)
    result = read_result(calc_path, wall=wall)
    if export_dir is not None:
        result.export(export_dir, plots=plots)
    return result


def _execute(job: Path, overrides: dict[str, str], verbose: bool) -> tuple[str, float]:
    from openquake.calculators import base
    from openquake.commonlib import logs, readinput

    with _job_errors(job):
        dic = readinput.get_params(str(job), overrides)
    oq = check_job(dic, job)
    log = logs.init(dic, log_level=logging.INFO if verbose else logging.WARNING,
                    log_file=None if verbose else os.devnull)
    log.oqparam = oq
    logs.dbcmd("update_job", log.calc_id, {"status": "executing", "pid": os.getpid()})
    t0 = time.perf_counter()
    with log:
        calc = base.calculators(oq, log.calc_id)
        with _job_errors(job):
            calc.run()
        base.expose_outputs(calc.datastore)  # the outputs `oq engine --lo` and the WebUI list
    wall = time.perf_counter() - t0
    path = calc.datastore.filename
    calc.datastore.close()
    return path, wall
