"""Exceptions raised by gmlearn.

Every exception subclasses a built-in (``ValueError``, ``KeyError``,
``FileNotFoundError``) so callers can catch it either way.
"""

from __future__ import annotations

from typing import Any


class GMLearnError(Exception):
    """Base class of every gmlearn exception."""


class SchemaError(GMLearnError, ValueError):
    """A name, unit or value does not fit the gmlearn vocabulary."""


class InvalidIMTError(SchemaError):
    """An intensity-measure string cannot be parsed (``PGA``, ``PGV``, ``SA(T)``)."""


class FlatfileError(SchemaError):
    """A flatfile failed validation.

    Parameters
    ----------
    message
        What is wrong and what is allowed.
    file, column, row, value
        Where the problem is: ``row`` is the 1-based data row (header excluded)
        in the source file, ``value`` the offending value as read.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        value: Any = None,
    ) -> None:
        if hasattr(value, "item") and callable(value.item):  # numpy scalar -> Python value
            try:
                value = value.item()
            except (ValueError, TypeError):
                pass
        self.file = file
        self.column = column
        self.row = row
        self.value = value
        where = []
        if file is not None:
            where.append(f"file {file!r}")
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        if value is not None:
            where.append(f"value {value!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class MissingColumnError(GMLearnError, KeyError):
    """A required column is absent; the message lists what was given."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class StoreError(GMLearnError, ValueError):
    """A feature store is missing, corrupt or used inconsistently."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No feature store exists at the given path."""


class OutputError(GMLearnError, FileExistsError):
    """An output path may not be written: it exists (no ``--overwrite``), or gmlearn did not write it."""


class DatasetNotFoundError(GMLearnError, KeyError):
    """An unknown bundled dataset name was requested."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ModelError(GMLearnError, ValueError):
    """A model was configured or used wrongly (unknown GSIM, unfitted model, ...)."""


class ExtrapolationError(ModelError):
    """Inputs lie outside a model's training domain and its policy is ``extrapolation="raise"``."""


class OutOfRangeWarning(UserWarning):
    """An input lies outside a model's applicability or fitted range."""
