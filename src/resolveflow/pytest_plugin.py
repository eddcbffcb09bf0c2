"""pytest fixtures for testing code that embeds resolveflow (registered as the ``resolveflow`` plugin).

Installed with the package through the ``pytest11`` entry point, so the
fixtures are available in any test suite without an import:

- ``resolveflow_clock``: a :class:`~resolveflow.testing.ManualClock`, fresh
  per test; call ``.advance(hours=1)`` to move time on.
- ``resolveflow_case``: a factory opening a fresh case on that clock:
  ``resolveflow_case("seven-as")`` or ``resolveflow_case(my_methodology, case_id="C-1")``.

Example (in a user's test file)::

    def test_agree_needs_a_plan(resolveflow_case):
        case = resolveflow_case("seven-as")
        assert not case.check("complete_plan").allowed
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

import resolveflow
from resolveflow._case import Case
from resolveflow._clock import ManualClock
from resolveflow._methodology import Methodology

CaseFactory = Callable[..., Case]


@pytest.fixture
def resolveflow_clock() -> ManualClock:
    """A clock that moves only when the test advances it."""
    return ManualClock()


@pytest.fixture
def resolveflow_case(resolveflow_clock: ManualClock) -> CaseFactory:
    """Open fresh cases on the test's clock: ``resolveflow_case("engage", case_id=...)``."""
    counter = itertools.count(1)

    def open_case(methodology: Methodology | str, *, case_id: str | None = None) -> Case:
        return resolveflow.open_case(
            methodology, case_id=case_id or f"test-case-{next(counter)}", clock=resolveflow_clock
        )

    return open_case
