"""Optional dependencies in tests: skipped where an extra is not installed, never under CI=true.

CI installs every extra (scripts/test), so a missing one there is a broken install that a
skip would hide: there the import runs, and its error fails the module.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def import_or_skip(name: str, extra: str) -> ModuleType:
    """``name`` imported; outside CI, a skip of the whole module when ``extra`` is not installed."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"the {extra} extra is not installed")
