"""A large, random but reproducible methodology for timing ``verify``.

Shape (for ``steps`` working steps and ``actions`` actions):

- a chain ``s0 -> s1 -> ... -> s{n-1} -> resolved``, one ``advance_i`` action
  per link; every ``milestone_every``-th step is required, in order, so the
  required chain is long (``steps / milestone_every`` steps) and spans the
  whole methodology;
- the chain action leaving a milestone records one of a few evidence types,
  so that ``Requires`` guards further on have something to need;
- the remaining actions are random edges: rework (back) edges to an earlier
  step within ``back_span``, and short-cut (forward) edges that jump up to
  ``skip_span`` steps ahead. A short cut over a milestone carries an
  ``AfterStep`` guard on that milestone, so that it can only be taken by a
  case that already went through it and no required step becomes skippable;
  about one random edge in ten also ``Requires`` a record made at an
  earlier milestone;
- one ``abandon`` action with many sources leads to an unsuccessful outcome.

The same seed always gives the same methodology.
"""

from __future__ import annotations

import random
from typing import Final

from resolveflow import Action, Methodology, Outcome, Step
from resolveflow import evidence as ev
from resolveflow.guards import AfterStep, Requires

# Evidence types the milestones record, in turn.
_RECORDS: Final = (ev.CustomerAccount, ev.Apology, ev.Assurance)


def generate(
    steps: int = 1_000,
    actions: int = 5_000,
    *,
    seed: int = 20_260_302,
    milestone_every: int = 25,
    back_span: int = 40,
    skip_span: int = 6,
) -> Methodology:
    """Build the methodology; ``actions`` counts Action objects (the chain's included)."""
    if steps < 3 or actions < steps + 1:
        raise ValueError("need at least 3 steps and one action per step plus one")
    rng = random.Random(seed)
    ids = [f"s{i}" for i in range(steps)]
    milestones = list(range(0, steps, milestone_every))
    recorded_at = dict(zip(milestones, _RECORDS, strict=False))

    made: list[Action] = []
    for i in range(steps):
        target = ids[i + 1] if i + 1 < steps else "resolved"
        made.append(
            Action(
                name=f"advance_{i}",
                sources=ids[i],
                target=target,
                title=f"Advance from {ids[i]}",
                evidence=recorded_at.get(i),
            )
        )
    sources = tuple(ids[i] for i in range(0, steps, max(1, steps // 50)))
    made.append(Action(name="abandon", sources=sources, target="abandoned", title="Abandon the case"))

    extra = actions - len(made)
    for n in range(extra):
        i = rng.randrange(1, steps)
        guards: list[AfterStep | Requires] = []
        if rng.random() < 0.5:  # rework: back to an earlier step
            j = rng.randrange(max(0, i - back_span), i)
            name = f"back_{n}"
        else:  # short cut: a few steps ahead, never past the last step
            if i + 2 >= steps:
                i = rng.randrange(0, steps - 2)
            j = rng.randrange(i + 2, min(steps, i + 2 + skip_span))
            name = f"skip_{n}"
            crossed = [m for m in milestones if i < m < j]
            guards.extend(AfterStep(step=ids[m], name=f"after_{ids[m]}") for m in crossed)
        earlier = [m for m in recorded_at if m < i]
        if earlier and rng.random() < 0.1:
            m = rng.choice(earlier)
            record = recorded_at[m]
            guards.append(Requires(record=record, name=f"needs_{record.__name__.lower()}"))
        made.append(
            Action(
                name=name,
                sources=ids[i],
                target=ids[j],
                title=f"{name}: {ids[i]} to {ids[j]}",
                guards=tuple(guards),
            )
        )

    return Methodology(
        id="generated",
        version=f"{steps}.{actions}",
        title=f"Generated: {steps} steps, {actions} actions",
        source="benchmarks/generated.py",
        steps=tuple(Step(id=s, title=s) for s in ids),
        outcomes=(
            Outcome(id="resolved", title="Resolved", successful=True),
            Outcome(id="abandoned", title="Abandoned", successful=False),
        ),
        actions=tuple(made),
        initial=ids[0],
        required_steps=tuple(ids[m] for m in milestones),
    )
