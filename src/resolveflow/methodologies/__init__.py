"""The built-in methodologies, one module per source article (cited in its ``source``).

Each is a plain :class:`~resolveflow.Methodology` value; extend or adapt one
with ``attrs.evolve`` and register the result under a new version or id.
Every built-in ships 1.1, the latest, and keeps 1.0 registered unchanged for
the cases opened on it, with a :class:`~resolveflow.Migration` that moves them
on (``four-steps``: ``FOUR_STEPS`` 1.0, ``FOUR_STEPS_1_1`` and
``FOUR_STEPS_1_0_TO_1_1``; the others alike). ``ISO_10002_1_0_TO_1_1`` does the
same for the iso-10002 file.

Example:
    >>> from resolveflow.methodologies import BUILTINS
    >>> sorted({m.id for m in BUILTINS})
    ['engage', 'five-steps', 'four-steps', 'prescription', 'seven-as']
    >>> ids = {m.id for m in BUILTINS}
    >>> all(sorted(m.version for m in BUILTINS if m.id == i) == ["1.0", "1.1"] for i in ids)
    True
"""

from __future__ import annotations

from resolveflow._migration import Migration
from resolveflow.methodologies.engage import ENGAGE, ENGAGE_1_0_TO_1_1, ENGAGE_1_1
from resolveflow.methodologies.five_steps import FIVE_STEPS, FIVE_STEPS_1_0_TO_1_1, FIVE_STEPS_1_1
from resolveflow.methodologies.four_steps import FOUR_STEPS, FOUR_STEPS_1_0_TO_1_1, FOUR_STEPS_1_1
from resolveflow.methodologies.prescription import PRESCRIPTION, PRESCRIPTION_1_0_TO_1_1, PRESCRIPTION_1_1
from resolveflow.methodologies.seven_as import SEVEN_AS, SEVEN_AS_1_0_TO_1_1, SEVEN_AS_1_1

__all__ = [
    "BUILTINS",
    "ENGAGE",
    "ENGAGE_1_0_TO_1_1",
    "ENGAGE_1_1",
    "FIVE_STEPS",
    "FIVE_STEPS_1_0_TO_1_1",
    "FIVE_STEPS_1_1",
    "FOUR_STEPS",
    "FOUR_STEPS_1_0_TO_1_1",
    "FOUR_STEPS_1_1",
    "ISO_10002_1_0_TO_1_1",
    "PRESCRIPTION",
    "PRESCRIPTION_1_0_TO_1_1",
    "PRESCRIPTION_1_1",
    "SEVEN_AS",
    "SEVEN_AS_1_0_TO_1_1",
    "SEVEN_AS_1_1",
]

# The file methodology iso-10002 (files/iso-10002.toml, files/iso-10002@1.1.toml): its steps keep
# their ids, so nothing is mapped. The file format has no migrations, so this one lives in Python.
ISO_10002_1_0_TO_1_1 = Migration(methodology_id="iso-10002", from_version="1.0", to_version="1.1")
"""Moves iso-10002 cases from 1.0 to 1.1 (roles, significant complaints); the steps keep their ids."""

BUILTINS = (
    FOUR_STEPS,
    FOUR_STEPS_1_1,
    SEVEN_AS,
    SEVEN_AS_1_1,
    FIVE_STEPS,
    FIVE_STEPS_1_1,
    ENGAGE,
    ENGAGE_1_1,
    PRESCRIPTION,
    PRESCRIPTION_1_1,
)
