"""The Dask client: a local cluster by default, a scheduler address for a cluster."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from typing import Any, Iterator

from gmlearn.exceptions import GMLearnError

__all__ = ["get_client", "SchedulerError", "LOCAL"]

#: ``scheduler`` value (also ``None``) that starts a LocalCluster.
LOCAL = "local"
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$|^[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5}$")


class SchedulerError(GMLearnError, ConnectionError):
    """A Dask scheduler address is malformed or cannot be reached."""


def check_scheduler(scheduler: Any) -> None:
    """Raise :class:`SchedulerError` unless ``scheduler`` is None, ``"local"``, a Client or an address."""
    if scheduler is None or scheduler == LOCAL or hasattr(scheduler, "submit"):
        return
    if not isinstance(scheduler, str) or not _ADDRESS.match(scheduler):
        msg = (f"The 'scheduler' parameter must be None or 'local' (a LocalCluster), a dask Client, or a scheduler "
               f"address such as 'tcp://10.0.0.5:8786'. Got {scheduler!r} instead.")
        raise SchedulerError(msg)


@contextmanager
def get_client(
    scheduler: Any = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
    memory_limit: str | int = "auto",
    timeout: float = 30.0,
) -> Iterator[Any]:
    """A ``distributed.Client``, closed (with any cluster it started) on exit.

    Parameters
    ----------
    scheduler
        ``None`` or ``"local"``: start a ``LocalCluster`` of ``n_workers``
        workers; a scheduler address (``"tcp://host:8786"``): connect to it;
        a ``Client``: use it as it is (it is not closed).
    n_workers
        Workers of the local cluster (default: the number of CPUs).
    threads_per_worker
        Threads per worker; 1 keeps XGBoost and NumPy from oversubscribing.
    processes
        Workers as processes (default) or as threads of this process.
    memory_limit
        Per-worker memory limit of the local cluster (Dask's syntax).
    timeout
        Seconds to wait for a remote scheduler.

    Yields
    ------
    distributed.Client

    Raises
    ------
    SchedulerError
        For a malformed address or a scheduler that does not answer in time.

    Examples
    --------
    >>> from gmlearn.distributed import get_client
    >>> with get_client(n_workers=2) as client:  # doctest: +SKIP
    ...     print(client.scheduler_info()["workers"].keys())
    """
    check_scheduler(scheduler)
    from distributed import Client, LocalCluster

    if hasattr(scheduler, "submit"):
        yield scheduler
        return
    if scheduler is None or scheduler == LOCAL:
        workers = int(n_workers or os.cpu_count() or 1)
        with LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=processes,
                          memory_limit=memory_limit, dashboard_address=None, scheduler_port=0,
                          silence_logs=40) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        msg = f"Cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({exc}); is it running?"
        raise SchedulerError(msg) from exc
    with client:
        yield client
