"""Feature store: canonical tables of events, stations and records.

>>> from gmlearn.store import FeatureStore, read_flatfile  # doctest: +SKIP
"""

from gmlearn.store.feature_store import FeatureStore

__all__ = ["FeatureStore", "read_flatfile", "add_derived"]


def __getattr__(name: str):  # lazy: readers import pandas-heavy code
    if name == "read_flatfile":
        from gmlearn.store.readers import read_flatfile

        return read_flatfile
    if name == "add_derived":
        from gmlearn.store.derived import add_derived

        return add_derived
    raise AttributeError(f"module 'gmlearn.store' has no attribute {name!r}")
