"""Run the geodesy computations single-threaded.

Velocity fields are small (thousands of stations) and the work is many tiny
linear-algebra calls; BLAS and OpenMP thread pools then cost far more than
they save (up to 100x slower on a 2-core machine, where spin-waiting threads
compete with the main one). The decorated functions limit native thread pools
to one thread for their duration.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

__all__ = ["single_threaded"]

F = TypeVar("F", bound=Callable[..., Any])
_CONTROLLERS: dict[int, Any] = {}


def _controller() -> Any:
    """A cached ``ThreadpoolController``, rebuilt when new modules (and maybe native libraries) were loaded."""
    from threadpoolctl import ThreadpoolController

    key = len(sys.modules)
    ctl = _CONTROLLERS.get(key)
    if ctl is None:
        _CONTROLLERS.clear()
        ctl = _CONTROLLERS[key] = ThreadpoolController()
    return ctl


def single_threaded(func: F) -> F:
    """Decorator: call ``func`` with BLAS and OpenMP limited to one thread."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _controller().limit(limits=1):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
