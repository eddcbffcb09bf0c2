"""Pages whose python blocks form one runnable script are run, so their examples cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
RUNNABLE = [
    "versions-and-plugins.md",
    "events-and-webhooks.md",
    "concepts/actors.md",
    "methodologies/four-steps.md",
    "methodologies/seven-as.md",
    "methodologies/engage.md",
    "methodologies/prescription.md",
    "webhooks.md",
    "async.md",
    "tracing.md",
    "deadlines-and-escalation.md",
    "tenants.md",
    "fastapi.md",
]


@pytest.mark.parametrize("page", RUNNABLE)
def test_python_blocks_run(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"{page} has no python example"
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, page, "exec"), namespace)
