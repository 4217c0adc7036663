"""Scale-out on Dask: a client helper, distributed fitting, streaming prediction, chunked maps.

Everything runs locally by default (a ``LocalCluster`` of single-threaded
worker processes); a scheduler address (``tcp://host:8786``) runs the same
code on a cluster. ``import gmlearn.distributed`` loads neither Dask nor
XGBoost; the functions import them when called.

- :func:`get_client` — context manager: a ``LocalCluster`` or ``Client(address)``.
- :func:`dask_fit` — ``TreeGMM`` / ``MonotoneGMM`` boosters trained with
  ``xgboost.dask`` on a partitioned table; random effects fitted on the driver.
- :func:`predict_parquet` — streaming prediction of a Parquet file, folder or
  feature store into a Parquet folder, in bounded memory, locally or on workers.
- :func:`map_chunks` / :func:`map_rows` — a generic chunked map (grids,
  ensembles) with per-chunk seeds that do not depend on the number of workers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_client", "SchedulerError", "dask_fit", "predict_parquet", "StreamResult", "map_chunks", "map_rows"]

_LAZY = {
    "get_client": "gmlearn.distributed.client",
    "SchedulerError": "gmlearn.distributed.client",
    "dask_fit": "gmlearn.distributed.fit",
    "predict_parquet": "gmlearn.distributed.predict",
    "StreamResult": "gmlearn.distributed.predict",
    "map_chunks": "gmlearn.distributed.chunks",
    "map_rows": "gmlearn.distributed.chunks",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gmlearn.distributed' has no attribute {name!r}")
