"""The example OpenQuake jobs of ``docs/examples``, found in a source checkout or an installed wheel.

A wheel carries them as package data (``gmlearn/hazard/example_jobs/<name>``,
copied from ``docs/examples`` when the wheel is built), so ``gmlearn demo``
and users of an installed gmlearn find the same jobs as a source checkout.

>>> from gmlearn.hazard.examples import example_dir
>>> (example_dir("hazard_classical") / "job.ini").is_file()
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["available_examples", "example_dir"]

_PACKAGED = Path(__file__).resolve().parent / "example_jobs"
_SOURCE = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _roots() -> list[Path]:
    return [root for root in (_PACKAGED, _SOURCE) if root.is_dir()]


def available_examples() -> list[str]:
    """Names of the example jobs (folders holding a ``job.ini``)."""
    return sorted({d.name for root in _roots() for d in root.iterdir() if (d / "job.ini").is_file()})


def example_dir(name: str = "hazard_classical") -> Path:
    """The folder of one example job (``job.ini``, source and logic-tree files, models).

    Parameters
    ----------
    name
        Example name: ``hazard_classical``, ``hazard_scenario`` or
        ``hazard_scenario_conditioned``.

    Raises
    ------
    FileNotFoundError
        If neither the installed package nor a source checkout holds it; the
        message names where it looked and the examples it found.
    """
    for root in _roots():
        if (root / name / "job.ini").is_file():
            return root / name
    msg = (f"The 'name' parameter of example_dir must be one of {available_examples()}. Got {name!r} instead "
           f"(looked in {_PACKAGED} and {_SOURCE}; reinstall gmlearn if both are missing).")
    raise FileNotFoundError(msg)
