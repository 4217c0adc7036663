"""How the ``gmlearn`` command reports errors: one line on stderr, exit status 2.

Every command runs inside :class:`ErrorHandlingGroup` (the root group of ``gmlearn``),
which turns any exception a command lets escape into ``error: <message>`` and exit
status 2. The traceback is printed only with ``gmlearn --debug ...`` or
``GMLEARN_DEBUG=1``. A missing optional dependency names the extra to install.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

__all__ = ["EXTRAS", "ErrorHandlingGroup", "debug_enabled", "fail", "message_of"]

console = Console(stderr=True)

from gmlearn.extras import EXTRAS, missing_extra_message  # noqa: E402 - the one table of optional modules

_STATE = {"debug": False}


def debug_enabled() -> bool:
    """True with ``gmlearn --debug`` or the environment variable ``GMLEARN_DEBUG=1``."""
    return _STATE["debug"] or os.environ.get("GMLEARN_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def set_debug(value: bool) -> None:
    """Record the ``--debug`` flag of the current command line."""
    _STATE["debug"] = bool(value)


def message_of(exc: BaseException) -> str:
    """One line that names the problem: the exception's message, its lines joined."""
    import sys

    command = " ".join(a for a in sys.argv[1:3] if not a.startswith("-"))
    extra_message = missing_extra_message(exc, f"gmlearn {command}" if command else None)
    if extra_message is not None:
        return extra_message
    if isinstance(exc, ImportError):
        return str(exc) if "install" in str(exc) else f"a required library failed to import: {exc}"
    text = str(exc.args[0]) if isinstance(exc, KeyError) and len(exc.args) == 1 else str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    if isinstance(exc, UnicodeDecodeError):
        text = f"an input file is not UTF-8 text (a binary file, or another encoding?): {text}"
    if isinstance(exc, EOFError):
        text = f"a compressed or binary file ended early (truncated?): {text}"
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    if not text:
        text = type(exc).__name__
    if type(exc).__module__.startswith("duckdb"):  # drop the SQL excerpt DuckDB appends
        text = "feature store files could not be read: " + text.split(" LINE ")[0]
    known = _known_types()
    if not isinstance(exc, known):
        text = f"{type(exc).__name__}: {text} (unexpected; rerun with --debug for the traceback and report it)"
    return text


def _known_types() -> tuple[type[BaseException], ...]:
    from xml.etree.ElementTree import ParseError
    from xml.parsers.expat import ExpatError

    from gmlearn.exceptions import GMLearnError

    types: list[type[BaseException]] = [GMLearnError, OSError, ValueError, KeyError, EOFError, ImportError,
                                        ExpatError, ParseError]
    try:
        import duckdb  # a store read through DuckDB: corrupt or missing Parquet part

        types.append(duckdb.Error)
    except ImportError:  # pragma: no cover - duckdb is a core dependency
        pass
    return tuple(types)


def fail(exc: BaseException) -> NoReturn:
    """Print ``error: <message>`` on one line and exit with status 2 (re-raise with ``--debug``)."""
    if debug_enabled():
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    console.print(f"[bold red]error:[/] {escape(message_of(exc))}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)


class ErrorHandlingGroup(TyperGroup):
    """The root ``gmlearn`` group: any exception a command lets escape ends in one line and exit 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Accept ``--debug`` anywhere on the line (``gmlearn train ... --debug``), not only before the command."""
        if "--debug" in args[1:]:
            head, tail = args[:1], args[1:]
            cut = tail.index("--") if "--" in tail else len(tail)
            if "--debug" in tail[:cut]:
                args = ["--debug", *head, *[a for a in tail[:cut] if a != "--debug"], *tail[cut:]]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        set_debug(bool(ctx.params.get("debug")))
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):  # exit codes and usage errors
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that reports every error
            fail(exc)
