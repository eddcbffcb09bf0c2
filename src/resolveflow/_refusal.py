"""Refusal: why an action cannot be taken now (a leaf: attrs only).

Guards, the engine, the ledger, migrations and events all speak in refusals,
so the type lives apart from all of them and imports nothing of resolveflow
but the slot writer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from resolveflow._slots import slot_writer


@attrs.frozen(kw_only=True)
class Refusal:
    """Why an action cannot be taken now.

    Attributes:
        code: stable identifier of the rule (snake_case); branch and translate on it.
        message: a readable explanation for the agent.
        missing: what would have to be recorded or done first, e.g.
            ``("plan",)`` or ``("step:listen",)``.

    Example:
        >>> Refusal(code="requires_plan", message="Agree a plan first.", missing=("plan",)).code
        'requires_plan'
    """

    code: str
    message: str
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The refusal as JSON-compatible data for an API response or a webhook."""
        return {"code": self.code, "message": self.message, "missing": list(self.missing)}


# Guard.refuse makes one per failing guard, from checked values (see _slots.py).
make_refusal: Final[Callable[[str, str, tuple[str, ...]], Refusal]] = slot_writer(
    Refusal, "code", "message", "missing"
)

ENGINE_REFUSAL_CODES: Final = ("case_closed", "not_from_this_step", "invalid_evidence")
"""Refusal codes resolveflow itself gives, beside the guards' own names."""
