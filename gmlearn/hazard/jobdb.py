"""The sqlite job database of in-process OpenQuake runs (no DbServer, no network).

OpenQuake's ``logs.dbcmd`` talks to its database directly, without a server,
when ``OQ_DATABASE``/``dbserver.host`` is ``127.0.0.1`` and the user is not
``openquake`` (the default of a pip install). :func:`job_database` uses that
direct connection (``openquake.commonlib.dbapi.db``):

- with no folder, OpenQuake's own database (``[dbserver] file`` of
  ``openquake.cfg``, ``~/oqdata/db.sqlite3`` by default) and datastore folder
  (``OQ_DATADIR`` or ``~/oqdata``), so ``oq engine --lhc``, ``oq export`` and
  the WebUI see the runs and calculation ids never clash with OpenQuake's;
- with a folder, ``folder/db.sqlite3`` and ``folder`` for the duration of a
  run (isolated runs: tests, CI), restoring OpenQuake's settings afterwards.

Either way the schema is created on first use.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterator

from gmlearn.exceptions import GMLearnError

__all__ = ["job_database", "JobDatabaseError"]

_RUN_LOCK = threading.Lock()


class JobDatabaseError(GMLearnError, RuntimeError):
    """OpenQuake is configured for a shared database server, which in-process runs do not use."""


@contextlib.contextmanager
def job_database(folder: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """Use OpenQuake's own job database, or ``folder/db.sqlite3`` and ``folder`` as its datastore folder.

    Runs are serialised within a process (OpenQuake's database handle and
    ``OQ_DATADIR`` are process-global).

    Yields
    ------
    pathlib.Path
        The datastore folder.

    Raises
    ------
    JobDatabaseError
        If ``OQ_DATABASE`` names a remote DbServer or the process runs as the
        ``openquake`` user (OpenQuake would then send commands to a server).
    """
    import getpass

    from openquake.baselib import config
    from openquake.commonlib import dbapi

    host = os.environ.get("OQ_DATABASE", config.dbserver.host)
    if host != "127.0.0.1" or getpass.getuser() == "openquake":
        msg = (f"OpenQuake is set to use the database server at {host!r} (user {getpass.getuser()!r}); gmlearn runs "
               "jobs in process with a local sqlite file. Unset OQ_DATABASE (or set it to 127.0.0.1) and run as "
               "another user, or use `oq engine --run` with the server.")
        raise JobDatabaseError(msg)
    db = dbapi.db
    if folder is None:
        from openquake.commonlib.logs import get_datadir

        with _RUN_LOCK:
            Path(db.args[0]).expanduser().parent.mkdir(parents=True, exist_ok=True)
            datadir = Path(get_datadir())
            datadir.mkdir(parents=True, exist_ok=True)
            _ensure_schema(db)
            yield datadir
        return
    folder = Path(folder).expanduser().absolute()
    folder.mkdir(parents=True, exist_ok=True)
    with _RUN_LOCK:
        saved = (db.args, db.local, os.environ.get("OQ_DATADIR"))
        db.args = (str(folder / "db.sqlite3"), *db.args[1:])
        db.local = threading.local()
        os.environ["OQ_DATADIR"] = str(folder)
        try:
            _ensure_schema(db)
            yield folder
        finally:
            conn = getattr(db.local, "conn", None)
            if conn is not None:
                conn.close()
            db.args, db.local = saved[0], saved[1]
            if saved[2] is None:
                os.environ.pop("OQ_DATADIR", None)
            else:
                os.environ["OQ_DATADIR"] = saved[2]


def _ensure_schema(db) -> None:  # noqa: ANN001 - openquake.commonlib.dbapi.Db
    from openquake.server.db import actions

    if not db("SELECT name FROM sqlite_master WHERE name='job'"):
        actions.upgrade_db(db)
