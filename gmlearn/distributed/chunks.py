"""A generic chunked map for grids and ensembles, in this process or on Dask workers.

Products call :func:`map_chunks` with a function and a list of chunks (site
blocks of a grid, batches of realisations of an ensemble), or :func:`map_rows`
with a table cut into row blocks. Results come back in chunk order. With a
``seed``, chunk ``i`` gets its own generator from
``numpy.random.SeedSequence(seed).spawn(n)[i]``: the numbers depend on the seed
and the chunking, never on the number of workers or the order they finish in,
so a LocalCluster and this process give identical results.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["map_chunks", "map_rows", "chunk_seeds"]


def chunk_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences, one per chunk, from one ``seed``."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        msg = f"The 'seed' parameter must be a non-negative int or None. Got {seed!r} instead."
        raise ValueError(msg)
    return np.random.SeedSequence(int(seed)).spawn(n)


def _call(func: Callable[..., Any], chunk: Any, seed_seq: np.random.SeedSequence | None, kwargs: dict) -> Any:
    if seed_seq is None:
        return func(chunk, **kwargs)
    return func(chunk, rng=np.random.default_rng(seed_seq), **kwargs)


def map_chunks(
    func: Callable[..., Any],
    chunks: Sequence[Any],
    *,
    scheduler: Any = None,
    seed: int | None = None,
    **kwargs: Any,
) -> list[Any]:
    """``[func(chunk, **kwargs) for chunk in chunks]``, locally or on Dask workers.

    Parameters
    ----------
    func
        A function of one chunk (importable by the workers: defined in a module,
        not in ``__main__``, when the workers are other processes).
    chunks
        The chunks, in order.
    scheduler
        ``None``: run here, one chunk after the other. ``"local"``, an address or
        a ``Client``: on those workers (see :func:`gmlearn.distributed.get_client`).
    seed
        If given, ``func`` is called as ``func(chunk, rng=generator, **kwargs)``
        with a per-chunk ``numpy.random.Generator`` (see :func:`chunk_seeds`).
    **kwargs
        Passed to every call (sent to the workers once).

    Returns
    -------
    list
        One result per chunk, in chunk order.
    """
    if not callable(func):
        msg = f"The 'func' parameter of map_chunks must be callable. Got {type(func).__name__} instead."
        raise TypeError(msg)
    chunks = list(chunks)
    seeds: list[Any] = chunk_seeds(seed, len(chunks)) if seed is not None else [None] * len(chunks)
    if scheduler is None:
        return [_call(func, c, s, kwargs) for c, s in zip(chunks, seeds)]
    from gmlearn.distributed.client import get_client

    with get_client(scheduler) as client:
        shared = client.scatter([kwargs], broadcast=True)[0]
        futures = client.map(_call, [func] * len(chunks), chunks, seeds, [shared] * len(chunks), pure=False)
        return client.gather(futures)


def map_rows(
    func: Callable[..., Any],
    table: pd.DataFrame,
    *,
    chunk_rows: int = 100_000,
    scheduler: Any = None,
    seed: int | None = None,
    **kwargs: Any,
) -> Any:
    """Apply ``func`` to blocks of ``chunk_rows`` rows of ``table`` and join the results.

    ``func(block, **kwargs)`` returns a DataFrame (concatenated, index reset)
    or an array whose last axis runs over the block's rows (concatenated along
    it, e.g. an ensemble shaped (n_realisations, n_rows)).
    """
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        msg = f"The 'chunk_rows' parameter of map_rows must be a positive int. Got {chunk_rows!r} instead."
        raise ValueError(msg)
    blocks = [table.iloc[i:i + chunk_rows] for i in range(0, max(len(table), 1), chunk_rows)]
    results = map_chunks(func, blocks, scheduler=scheduler, seed=seed, **kwargs)
    if all(isinstance(r, pd.DataFrame) for r in results):
        return pd.concat(results, ignore_index=True)
    return np.concatenate([np.asarray(r) for r in results], axis=-1)
