"""Making frozen attrs objects on the hot paths without attrs' keyword parsing.

A decision, a guard context, a refusal and a history entry are made many
times per action from values resolveflow has just checked. attrs' frozen
``__init__`` parses keywords and goes through ``object.__setattr__`` per
field; writing the slots through their descriptors costs about half. The
writer is generated with the slots unrolled, as attrs generates its own
methods, because a loop over the fields gives most of the saving back. Tests
hold each object made this way equal to the one attrs' ``__init__`` makes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def slot_writer(cls: type, *names: str) -> Callable[..., Any]:
    """A function taking the values of ``names`` in order and returning a new ``cls`` holding them.

    Only for values already checked: validators, converters and defaults are skipped.
    """
    values = ", ".join(f"v{i}" for i in range(len(names)))
    lines = [f"def make({values}):", "    obj = new(cls)"]
    lines += [f"    set{i}(obj, v{i})" for i in range(len(names))]
    lines.append("    return obj")
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    namespace.update({f"set{i}": getattr(cls, name).__set__ for i, name in enumerate(names)})
    exec("\n".join(lines), namespace)  # the source is built above from field positions only
    made: Callable[..., Any] = namespace["make"]
    made.__qualname__ = f"slot_writer({cls.__name__})"
    return made
