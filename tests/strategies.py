"""Hypothesis strategies shared by the tests (the public ones live in resolveflow.testing)."""

from __future__ import annotations

from hypothesis import strategies as st

from resolveflow import Action, Methodology, Outcome, Step

NODES = ["s0", "s1", "s2", "s3", "s4"]


@st.composite
def random_methodologies(draw: st.DrawFn) -> Methodology:
    n = draw(st.integers(2, len(NODES)))
    steps = NODES[:n]
    targets = [*steps, "win", "lose"]
    edges = draw(
        st.lists(
            st.tuples(st.sampled_from(steps), st.sampled_from(targets)), min_size=1, max_size=9, unique=True
        )
    )
    actions = tuple(
        Action(name=f"e{i}", sources=src, target=dst, title=f"e{i}") for i, (src, dst) in enumerate(edges)
    )
    required = draw(st.lists(st.sampled_from(steps), min_size=1, max_size=3, unique=True))
    return Methodology(
        id="random",
        version="1.0",
        title="Random",
        source="hypothesis",
        steps=tuple(Step(id=s, title=s) for s in steps),
        outcomes=(
            Outcome(id="win", title="Win", successful=True),
            Outcome(id="lose", title="Lose", successful=False),
        ),
        actions=actions,
        initial="s0",
        required_steps=tuple(required),
    )
