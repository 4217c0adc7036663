"""Safe command outputs: never replace what gmlearn did not write.

Every folder a ``gmlearn`` command writes carries a marker file, :data:`MARKER`.
An existing output is refused unless ``--overwrite`` is given, and even then
``--overwrite`` replaces only

- a folder gmlearn wrote (it holds the marker, or it is a saved model folder whose
  ``metadata.json`` names a ``gmlearn_version``), or an empty folder;
- a single regular file of a kind the command itself writes (its suffix).

It never replaces a feature store, an input of the command, a folder holding an
input, the current folder or one of its parents, the home folder or the root, a
symbolic link, or a folder that is not marked. A folder is replaced whole and
atomically: the new one is built in a hidden sibling folder, then exchanged with the
old one in one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames),
and the old one is removed only after the swap.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from gmlearn.exceptions import OutputError

__all__ = ["MARKER", "check_output", "final_path", "is_gmlearn_folder", "is_store", "output_folder", "protected_reason"]

#: Marker file written into every folder a gmlearn command creates.
MARKER = ".gmlearn-output"


def is_store(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a feature-store folder (it holds ``manifest.json``)."""
    return (Path(path) / "manifest.json").is_file()


def is_gmlearn_folder(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a folder gmlearn wrote: it holds :data:`MARKER` or is a saved model folder."""
    path = Path(path)
    if (path / MARKER).is_file():
        return True
    meta = path / "metadata.json"
    if meta.is_file() and meta.stat().st_size < 10_000_000:
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and "gmlearn_version" in data and "format_version" in data
    return False


def _resolve(path: Path) -> Path:
    return Path(os.path.abspath(path)).resolve()


def _store_root(path: Path) -> Path | None:
    """The feature store ``path`` lies in (or is), if any."""
    for folder in [path, *path.parents]:
        if is_store(folder):
            return folder
    return None


def protected_reason(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> str | None:
    """Why ``path`` may never be written as an output (``None`` if it may be)."""
    target = _resolve(Path(path))
    cwd = _resolve(Path.cwd())
    if target == Path(target.anchor):
        return "is the root folder"
    if target == _resolve(Path.home()):
        return "is your home folder"
    if target == cwd or target in cwd.parents:
        return "is the current folder or one of its parents"
    for item in inputs:
        if item is None:
            continue
        source = _resolve(Path(item))
        if target == source:
            return "is an input of this command"
        if target in source.parents:
            return f"holds an input of this command ({item})"
    store = _store_root(target)
    if store is not None:
        return f"is a feature store or lies inside one ({store})" if store != target else "is a feature store"
    return None


def check_output(
    path: str | os.PathLike[str],
    *,
    overwrite: bool,
    kind: Literal["file", "folder"],
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    suffixes: Iterable[str] | None = None,
    option: str = "--out",
) -> Path:
    """Check that a command may write ``path``; return it.

    Parameters
    ----------
    path
        The output file or folder.
    overwrite
        The command's ``--overwrite`` flag.
    kind
        ``"folder"`` (replaced whole) or ``"file"`` (one file).
    inputs
        The command's input paths: never written, nor a folder that holds one.
    suffixes
        File suffixes the command writes (e.g. ``[".csv"]``): an existing file with
        another suffix is never replaced.
    option
        The option name used in messages.

    Raises
    ------
    OutputError
        Naming the path and why it is refused.
    """
    path = Path(path)
    where = f"{option} {str(path)!r}"
    reason = protected_reason(path, [i for i in inputs if i is not None])
    if reason is not None:
        raise OutputError(f"{where} {reason}; gmlearn never writes over it. Choose another {option}.")
    if path.is_symlink():
        raise OutputError(f"{where} is a symbolic link; gmlearn does not write through links. Choose another {option}.")
    if not path.exists():
        return path
    if kind == "folder":
        if not path.is_dir():
            raise OutputError(f"{where} is a file; this command writes a folder there. Choose another {option}.")
        if not any(path.iterdir()):
            return path
        if not is_gmlearn_folder(path):
            raise OutputError(
                f"{where} exists and was not written by gmlearn (no {MARKER} marker); it is never replaced, "
                f"--overwrite or not. Choose another {option} or remove the folder yourself."
            )
        if not overwrite:
            raise OutputError(f"{where} exists; pass --overwrite to replace it (the whole folder is replaced).")
        return path
    if path.is_dir():
        raise OutputError(f"{where} is a folder; this command writes one file there. Give a file path.")
    if not path.is_file():
        raise OutputError(f"{where} exists and is not a regular file; it is never replaced. Choose another {option}.")
    allowed = [s.lower() for s in suffixes] if suffixes is not None else None
    if allowed is not None and "".join(path.suffixes[-1:]).lower() not in allowed:
        raise OutputError(f"{where} exists and is not a file this command writes ({', '.join(allowed)}); "
                          f"it is never replaced. Choose another {option}.")
    if not overwrite:
        raise OutputError(f"{where} exists; pass --overwrite to replace it.")
    return path


def _write_marker(folder: Path, command: str | None) -> None:
    from gmlearn._version import __version__

    text = json.dumps({"written_by": "gmlearn", "gmlearn_version": __version__, "command": command}, indent=1)
    (folder / MARKER).write_text(text + "\n")


@contextmanager
def output_folder(
    path: str | os.PathLike[str],
    *,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    option: str = "--out",
    command: str | None = None,
) -> Iterator[Path]:
    """Build an output folder in a hidden sibling and swap it into place when the block succeeds.

    Yields the staging folder (already holding :data:`MARKER`); write everything there.
    On an exception the staging folder is removed and ``path`` is untouched. The
    checks of :func:`check_output` run first.

    Examples
    --------
    >>> with output_folder("out", overwrite=False) as tmp:  # doctest: +SKIP
    ...     (tmp / "scores.csv").write_text("...")
    """
    path = check_output(path, overwrite=overwrite, kind="folder", inputs=inputs, option=option)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".gmlearn-new", dir=path.parent))
    try:
        _write_marker(staging, command)
        yield staging
        if not (staging / MARKER).is_file():  # a writer that rebuilt the folder dropped it
            _write_marker(staging, command)
        os.chmod(staging, 0o777 & ~_umask())
        _swap(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def final_path(path: str | os.PathLike[str], staging: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Where ``path``, written inside the staging folder of :func:`output_folder`, lies once swapped to ``out``."""
    try:
        return Path(out) / Path(os.path.abspath(path)).relative_to(os.path.abspath(staging))
    except ValueError:  # not inside the staging folder
        return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def _swap(staging: Path, path: Path) -> None:
    """Put ``staging`` at ``path``; an existing ``path`` is exchanged atomically where the OS can, then removed."""
    if not path.exists():
        os.replace(staging, path)
        return
    if _exchange(staging, path):  # staging now holds the old output
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".gmlearn-old", dir=path.parent))
    os.rmdir(old)
    os.replace(path, old)
    try:
        os.replace(staging, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
