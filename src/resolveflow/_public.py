"""Show public names under the public module that exports them, the way httpx does.

A class or function defined in a private module (``resolveflow._guards``) but
exported by a public one (``resolveflow.guards``) gets that module as its
``__module__``, so ``repr``, tracebacks, ``help()`` and the API reference show
the path a user imports. Names already shown under a public module are left
alone: the top level re-exports ``Refusal`` and the common errors, which keep
``resolveflow.guards`` and ``resolveflow.exceptions``.

``typing.get_type_hints`` evaluates a class's string annotations (every module
uses ``from __future__ import annotations``) in ``sys.modules[cls.__module__]``,
which after the rename is the public module, where the names those annotations
use are not defined. So each class's own annotations are evaluated first, in
its defining module, and stored evaluated. Pickling finds a class or function
by ``__module__`` and ``__qualname__``, which the public module exports.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping


def _resolve_annotations(cls: type) -> None:
    own = inspect.get_annotations(cls)
    if not any(isinstance(value, str) for value in own.values()):
        return
    # As typing.get_type_hints does: the module's names win over the class's own.
    module_names = vars(sys.modules[cls.__module__])
    class_names = dict(vars(cls))
    cls.__annotations__ = {name: _evaluated(value, class_names, module_names) for name, value in own.items()}


def _evaluated(value: object, class_names: dict[str, object], module_names: Mapping[str, object]) -> object:
    if not isinstance(value, str):
        return value
    try:
        return eval(value, class_names, module_names)
    except NameError:
        # A name imported only for type checkers: get_type_hints could not resolve it before either.
        return value


def publish(module: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class or function in ``names`` defined in a private module."""
    for name in names:
        obj = namespace[name]
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # constants, type aliases and submodules have no __module__ of their own
        current = obj.__module__.split(".")
        if not any(part.startswith("_") for part in current):
            continue  # already shown under a public module
        if inspect.isclass(obj):
            for cls in reversed(obj.__mro__):
                if cls.__module__.startswith("resolveflow."):
                    _resolve_annotations(cls)
            _publish_methods(obj, module)
        obj.__module__ = module


def _publish_methods(cls: type, module: str) -> None:
    """The class's own methods and properties go with it (doctest and ``help`` find them there)."""
    for member in vars(cls).values():
        function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if inspect.isfunction(function) and function.__module__ == cls.__module__:
            function.__module__ = module
