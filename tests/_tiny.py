"""A tiny methodology for tests: one open step whose actions loop on it, and a close."""

from __future__ import annotations

import resolveflow


def loop_methodology(methodology_id: str, **records: type) -> resolveflow.Methodology:
    """Step ``open`` with one action per ``name=RecordClass`` looping on it, and ``close`` to ``done``."""
    return resolveflow.Methodology(
        id=methodology_id,
        version="1.0",
        title=methodology_id.replace("-", " ").capitalize(),
        source="A methodology made up for a test.",
        initial="open",
        required_steps=("open",),
        steps=(resolveflow.Step(id="open", title="Open"),),
        outcomes=(resolveflow.Outcome(id="done", title="Done", successful=True),),
        actions=(
            *(
                resolveflow.Action(
                    name=name, title=name.capitalize(), sources="open", target="open", evidence=record
                )
                for name, record in records.items()
            ),
            resolveflow.Action(name="close", title="Close", sources="open", target="done"),
        ),
    )
