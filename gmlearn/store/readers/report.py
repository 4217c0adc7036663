"""What a reader did to a flatfile: mapped, converted, filled, derived, ignored and dropped.

A :class:`ReadReport` is a plain ``dict`` (JSON-ready, so it travels in
``DataFrame.attrs`` and into Parquet metadata) that prints as a short text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReadReport", "report_of"]


class ReadReport(dict):
    """Summary of one read; ``str(report)`` is the text ``gmlearn data ingest`` prints.

    Keys
    ----
    source, format
        File name and reader.
    layouts
        Layouts whose signature columns the header has (``"esm2018"`` ...).
    rows_read, rows_kept
        Data rows in the file and in the returned table.
    mapped
        Vocabulary name or IMT -> source column.
    converted
        Source column -> factor applied to reach the vocabulary unit.
    filled
        Vocabulary name -> {fallback column: rows it filled}.
    derived
        Vocabulary name -> how it was built (e.g. from a style-of-faulting code).
    ignored
        Source columns not used.
    dropped
        Reason -> number of rows dropped; ``dropped_records`` lists their ids.
    """

    def __init__(self, **fields: Any) -> None:
        base: dict[str, Any] = {
            "source": "", "format": "", "layouts": [], "rows_read": 0, "rows_kept": 0, "mapped": {},
            "converted": {}, "filled": {}, "derived": {}, "ignored": [], "dropped": {}, "dropped_records": [],
        }
        base.update(fields)
        super().__init__(base)

    def __str__(self) -> str:
        lines = [f"{self['source']}: {self['format']} reader"
                 + (f", layout {', '.join(self['layouts'])}" if self["layouts"] else "")
                 + f"; {self['rows_kept']} of {self['rows_read']} row(s) kept"]
        mapped = self["mapped"]
        if mapped:
            same = [k for k, v in mapped.items() if k == v]
            renamed = [f"{k} <- {v}" for k, v in mapped.items() if k != v]
            if renamed:
                lines.append(f"  mapped ({len(renamed)}): " + ", ".join(renamed))
            if same:
                lines.append(f"  read as named ({len(same)}): " + ", ".join(same))
        by_factor: dict[float, list[str]] = {}
        for col, factor in self["converted"].items():
            by_factor.setdefault(float(factor), []).append(col)
        for factor, cols in by_factor.items():
            lines.append(f"  converted x {factor:.6g} ({len(cols)}): " + ", ".join(cols))
        for name, fills in self["filled"].items():
            for col, n in fills.items():
                lines.append(f"  filled {name} on {n} row(s) from {col}")
        for name, how in self["derived"].items():
            lines.append(f"  derived {name} from {how}")
        if self["ignored"]:
            lines.append(f"  ignored ({len(self['ignored'])}): " + ", ".join(self["ignored"]))
        for reason, n in self["dropped"].items():
            lines.append(f"  dropped {n} row(s): {reason}")
        return "\n".join(lines)


def report_of(table: Any) -> ReadReport:
    """The :class:`ReadReport` a reader attached to ``table`` (a DataFrame), rebuilt if copied as a dict."""
    found = getattr(table, "attrs", {}).get("report")
    if found is None:
        attrs = getattr(table, "attrs", {})
        return ReadReport(source=str(attrs.get("source", "")), format=str(attrs.get("format", "")),
                          rows_read=len(table), rows_kept=len(table))
    return found if isinstance(found, ReadReport) else ReadReport(**found)
