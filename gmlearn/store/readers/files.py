"""Reading flatfile bytes: CSV and Parquet, with unreadable files turned into :class:`FlatfileError`.

Flatfiles come from elsewhere; a truncated gzip, a binary file named ``.csv``,
an unclosed quote or a file in another encoding must give one clear error that
names the file, never a parser's own exception.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from gmlearn.exceptions import FlatfileError

__all__ = ["read_csv", "read_parquet", "read_header", "UNREADABLE"]

#: What pandas, pyarrow and the decompressors raise on unreadable bytes.
UNREADABLE: tuple[type[BaseException], ...] = (
    pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, zlib.error, EOFError, OSError, ValueError,
)


def _unreadable(path: Path, exc: BaseException, kind: str) -> FlatfileError:
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return FlatfileError(f"cannot be read as {kind} ({reason}); expected a UTF-8 CSV (optionally gzipped) or Parquet file.",
                         file=str(path))


def read_csv(path: str | Path, **kw: Any) -> pd.DataFrame:
    """``pandas.read_csv`` that raises :class:`FlatfileError` for unreadable files."""
    path = Path(path)
    if not path.is_file():
        msg = f"No flatfile at {str(path)!r}."
        raise FileNotFoundError(msg)
    try:
        table = pd.read_csv(path, **kw)
        if "names" not in kw and kw.get("header", "infer") in ("infer", 0):
            _refuse_duplicates(path, kw)
    except (FileNotFoundError, FlatfileError):
        raise
    except UNREADABLE as exc:
        raise _unreadable(path, exc, "CSV") from exc
    return table


def _refuse_duplicates(path: Path, kw: dict[str, Any]) -> None:
    """pandas renames a repeated column ``mag`` to ``mag.1`` and a reader would use the first; refuse instead."""
    same = {k: v for k, v in kw.items() if k in ("sep", "delimiter", "encoding", "compression", "skiprows", "comment",
                                                 "quotechar", "skipinitialspace")}
    header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, **same)
    names = [str(v).strip() for v in header.iloc[0].tolist()] if len(header) else []
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if name and name in seen:
            msg = (f"column {name!r} appears twice in the header (columns {seen[name] + 1} and {pos + 1}); "
                   "keep one of them (a reader would silently use the first).")
            raise FlatfileError(msg, file=str(path), column=name)
        seen[name] = pos


def read_parquet(path: str | Path) -> pd.DataFrame:
    """``pandas.read_parquet`` that raises :class:`FlatfileError` for unreadable files."""
    import pyarrow as pa

    path = Path(path)
    try:
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise
    except (*UNREADABLE, pa.ArrowException) as exc:
        raise _unreadable(path, exc, "Parquet") from exc


def read_header(path: str | Path) -> list[str]:
    """Column names of a CSV or Parquet file, without reading its rows."""
    path = Path(path)
    if path.name.lower().endswith((".parquet", ".pq")):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except FileNotFoundError:
            raise
        except (*UNREADABLE, pa.ArrowException) as exc:
            raise _unreadable(path, exc, "Parquet") from exc
    return [str(c) for c in read_csv(path, nrows=0).columns]
