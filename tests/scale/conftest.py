"""Fixtures of the scale-out and hardening tests: hypothesis profiles, fuzz counters, small models.

Hypothesis profiles: ``ci`` (default, few examples so the suite stays fast) and
``fuzz`` (many examples; ``benchmarks/scale.py --fuzz`` uses it). Pick one with
the environment variable ``GMLEARN_HYPOTHESIS_PROFILE`` (``GMLEARN_FUZZ_EXAMPLES`` sets the
number of cases of ``fuzz``). When
``GMLEARN_FUZZ_REPORT`` names a file, the number of cases each fuzz target ran
is written there as JSON at the end of the session.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=12, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("GMLEARN_FUZZ_EXAMPLES", "400")), deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("GMLEARN_HYPOTHESIS_PROFILE", "ci"))

#: target -> {"cases": n, "accepted": n, "rejected": n}, filled by the fuzz tests.
FUZZ_COUNTS: dict[str, Counter] = {}


def count_case(target: str, outcome: str) -> None:
    """Record one fuzz case of ``target`` ending in ``outcome`` ("accepted" or "rejected")."""
    counter = FUZZ_COUNTS.setdefault(target, Counter())
    counter["cases"] += 1
    counter[outcome] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:  # noqa: ARG001
    report = os.environ.get("GMLEARN_FUZZ_REPORT")
    if report and FUZZ_COUNTS:
        Path(report).write_text(json.dumps({k: dict(v) for k, v in sorted(FUZZ_COUNTS.items())}, indent=2) + "\n")


@pytest.fixture(scope="session")
def small_tree(nzsmd_crustal):
    """A small TreeGMM fitted on 40 NZSMD crustal events (PGA, SA(1.0))."""
    from gmlearn.gmpe.tree import TreeGMM

    return TreeGMM(n_estimators=40, learning_rate=0.2, n_jobs=1).fit(nzsmd_crustal, ["PGA", "SA(1.0)"])


@pytest.fixture(scope="session")
def fuzz_counter():
    """``count(target, outcome)``: records one fuzz case (see :data:`FUZZ_COUNTS`)."""
    return count_case
