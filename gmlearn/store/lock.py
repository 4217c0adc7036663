"""An OS file lock that serialises writers of one feature store.

Writers hold an exclusive :func:`fcntl.flock` on ``<store>/.lock`` while they
read the manifest, write their part files and replace the manifest, so two
processes appending at once both land (the second waits for the first) or
the second fails with a :class:`~gmlearn.exceptions.StoreError` after
``timeout`` seconds. Readers never take the lock: a manifest is replaced
atomically and the files it names are kept for one more write, so a reader
sees either the old or the new version, never half of one. The kernel drops
the lock when its process dies, so a killed writer never leaves the store
locked.
"""

from __future__ import annotations

import errno
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gmlearn.exceptions import StoreError

__all__ = ["store_lock", "LOCK_FILE", "LOCK_TIMEOUT"]

#: Lock file inside a store folder.
LOCK_FILE = ".lock"
#: Default seconds a writer waits for another writer to finish.
LOCK_TIMEOUT = 300.0


def _read_only(path: Path, exc: OSError) -> StoreError:
    return StoreError(f"Cannot write to the feature store at {path}: it is read-only for this user ({exc.strerror}). "
                      "Copy it somewhere writable or ask its owner to append.")


@contextmanager
def store_lock(path: str | Path, *, timeout: float = LOCK_TIMEOUT, poll: float = 0.05) -> Iterator[None]:
    """Hold the writer lock of the store at ``path`` for the ``with`` block.

    Parameters
    ----------
    path
        The store folder (it must exist).
    timeout
        Seconds to wait for another writer; ``0`` fails at once.
    poll
        Seconds between attempts.

    Raises
    ------
    StoreError
        If the folder is read-only, or another process still holds the lock
        after ``timeout`` seconds (the message names its process id).
    """
    import fcntl

    path = Path(path)
    lock = path / LOCK_FILE
    if not os.access(path, os.W_OK):
        raise _read_only(path, PermissionError(errno.EACCES, "permission denied"))
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError as exc:
        raise _read_only(path, exc) from None
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise _read_only(path, exc) from None
        raise
    try:
        deadline = time.monotonic() + max(float(timeout), 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    msg = (f"Another process (pid {holder}) is writing to the feature store at {path}; waited "
                           f"{timeout:g} s for it to finish. Try again when it is done (or pass a longer lock_timeout).")
                    raise StoreError(msg) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
