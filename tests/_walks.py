"""Random walks that must get somewhere: derandomized runs, longer ones only when a shorter one did not.

A derandomized Hypothesis run is repeatable for the same code and the same
process state, but the state of a long-lived test process (record classes and
strategies made by earlier tests, or another worker under pytest-xdist) can
change which cases a walk draws. A walk that reaches an outcome in most runs
but not all would then fail now and then. So the assertion is made over a few
derandomized budgets, each its own fixed sequence, tried in order until one
gets there: cheap when the first does, as it nearly always does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

import resolveflow
import resolveflow.testing


def walk_until(
    methodology: resolveflow.Methodology,
    reached_enough: Callable[[set[str]], bool],
    budgets: Sequence[tuple[int, int]],
) -> set[str]:
    """Outcomes reached by walks of ``methodology``, over ``(examples, steps)`` budgets in turn."""
    reached: set[str] = set()
    for examples, steps in budgets:
        machine = resolveflow.testing.case_machine(methodology, on_outcome=reached.add)
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                derandomize=True,
                deadline=None,
                # Long methodologies make long walks by design: their size is the point, not a smell.
                suppress_health_check=[HealthCheck.large_base_example, HealthCheck.too_slow],
            ),
        )
        if reached_enough(reached):
            break
    return reached
