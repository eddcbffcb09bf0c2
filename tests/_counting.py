"""Counting what the code under test does, without timing it."""

from __future__ import annotations

from typing import Any

import pytest

from resolveflow._ledger import Ledger


class GuardRuns:
    """How many times any ledger ran an action's guards since this was made (a monkeypatched wrap)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = Ledger.run_guards

        def counting(ledger: Ledger, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(ledger, *args, **kwargs)

        monkeypatch.setattr(Ledger, "run_guards", counting)
