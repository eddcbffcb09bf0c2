"""The built-in methodologies, one module per source article (cited in its ``source``).

Each is a plain :class:`~resolveflow.Methodology` value; extend or adapt one
with ``attrs.evolve`` and register the result under a new version or id.

Example:
    >>> from resolveflow.methodologies import BUILTINS
    >>> sorted(m.id for m in BUILTINS)
    ['engage', 'five-steps', 'five-steps', 'four-steps', 'prescription', 'seven-as']
"""

from __future__ import annotations

from resolveflow.methodologies.engage import ENGAGE
from resolveflow.methodologies.five_steps import FIVE_STEPS, FIVE_STEPS_1_1, MIGRATION_1_0_TO_1_1
from resolveflow.methodologies.four_steps import FOUR_STEPS
from resolveflow.methodologies.prescription import PRESCRIPTION
from resolveflow.methodologies.seven_as import SEVEN_AS

__all__ = [
    "BUILTINS",
    "ENGAGE",
    "FIVE_STEPS",
    "FIVE_STEPS_1_1",
    "FOUR_STEPS",
    "MIGRATION_1_0_TO_1_1",
    "PRESCRIPTION",
    "SEVEN_AS",
]

BUILTINS = (FOUR_STEPS, SEVEN_AS, FIVE_STEPS, FIVE_STEPS_1_1, ENGAGE, PRESCRIPTION)
