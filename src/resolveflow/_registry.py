"""Where methodologies are found by id and version.

The built-ins are registered on first use; :func:`register` adds your own.
Versions compare as tuples of numbers, so ``"1.10"`` is newer than ``"1.9"``.
"""

from __future__ import annotations

import threading

from resolveflow._methodology import Methodology
from resolveflow.exceptions import InvalidMethodology, UnknownMethodology

_lock = threading.Lock()
_registry: dict[str, dict[str, Methodology]] = {}
_loaded = False


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _ensure_builtins() -> None:
    global _loaded
    if _loaded:
        return
    from resolveflow.methodologies import BUILTINS

    with _lock:
        if _loaded:
            return
        for methodology in BUILTINS:
            _registry.setdefault(methodology.id, {})[methodology.version] = methodology
        _loaded = True


def register(methodology: Methodology) -> None:
    """Make a methodology available by id and version to ``get_methodology`` and ``restore``.

    Registering the very same definition twice is harmless; a different
    definition under an id and version that already exist is an error.

    Raises:
        InvalidMethodology: another definition already has this id and version.

    Example:
        >>> import attrs, resolveflow
        >>> mine = attrs.evolve(resolveflow.get_methodology("engage"), id="our-engage")
        >>> resolveflow.register(mine)
        >>> resolveflow.get_methodology("our-engage").version
        '1.0'
        >>> resolveflow.unregister("our-engage", "1.0")
    """
    if not isinstance(methodology, Methodology):
        raise InvalidMethodology(
            f"expected a Methodology, got {type(methodology).__name__}", where="register"
        )
    _ensure_builtins()
    with _lock:
        versions = _registry.setdefault(methodology.id, {})
        existing = versions.get(methodology.version)
        if existing is not None and existing != methodology:
            raise InvalidMethodology(
                f"{methodology.id}@{methodology.version} is already registered with a different "
                "definition; give yours a new version (or id)",
                where="register",
            )
        versions[methodology.version] = methodology


def unregister(methodology_id: str, version: str) -> None:
    """Remove one registered version (mainly for tests of your own methodologies)."""
    _ensure_builtins()
    with _lock:
        versions = _registry.get(methodology_id, {})
        versions.pop(version, None)
        if not versions:
            _registry.pop(methodology_id, None)


def available() -> list[str]:
    """The ids of every registered methodology, sorted.

    Example:
        >>> import resolveflow
        >>> resolveflow.available()[:3]
        ['engage', 'five-steps', 'four-steps']
    """
    _ensure_builtins()
    return sorted(_registry)


def versions(methodology_id: str) -> list[str]:
    """The registered versions of one methodology, oldest first.

    Raises:
        UnknownMethodology: no methodology has this id.
    """
    _ensure_builtins()
    found = _registry.get(methodology_id) if isinstance(methodology_id, str) else None
    if not found:
        raise UnknownMethodology(str(methodology_id), available=available())
    return sorted(found, key=_version_key)


def get_methodology(methodology_id: str, version: str | None = None) -> Methodology:
    """Look a methodology up by id, and by version (default: the latest).

    Raises:
        UnknownMethodology: no such id (the error lists the ids that exist) or
            no such version (it lists the versions).

    Example:
        >>> import resolveflow
        >>> m = resolveflow.get_methodology("seven-as")
        >>> m.steps[0].id, m.required_steps[-1]
        ('acknowledge', 'accomplish')
    """
    known = versions(methodology_id)
    chosen = known[-1] if version is None else version
    found = _registry[methodology_id].get(chosen) if isinstance(chosen, str) else None
    if found is None:
        raise UnknownMethodology(methodology_id, version=str(version), available=known)
    return found
