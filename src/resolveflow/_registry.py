"""Where methodologies are found by id and version, and where each came from.

Sources, in the order they are consulted:

1. the five built-ins written in Python (``resolveflow.methodologies``);
2. the methodologies shipped as TOML files in ``resolveflow/methodologies/files``
   (parsed by the standard library's tomllib, so PyYAML is not needed; loaded
   on first use, every file of an id when that id is first asked for). A file
   is named ``<id>.toml`` (the id's first version, whose bytes never change)
   or ``<id>@<version>.toml`` (each later version, shipped beside it, so that
   cases bound to an earlier version's digest keep restoring). When this
   install cannot read them (the file loader also validates with jsonschema,
   which the ``files`` extra installs), they are left out of :func:`available`
   rather than listed and then refused;
3. plugins: every entry point in the ``resolveflow.methodologies`` group,
   whose object is a Methodology, an iterable of them, or a callable
   returning either (loaded on first use);
4. :func:`register` and :func:`load_directory` calls.

Every registration remembers its origin, so that a clash (the same id and
version with a different definition) names both. Versions compare as tuples
of numbers: ``"1.10"`` is newer than ``"1.9"``.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable
from importlib import metadata, resources
from pathlib import Path
from typing import Final

from resolveflow._digest import definition_digest
from resolveflow._file_formats import FILE_SUFFIXES
from resolveflow._methodology import Methodology
from resolveflow._shown import shown
from resolveflow.exceptions import InvalidInput, InvalidMethodology, UnknownMethodology

ENTRY_POINT_GROUP: Final = "resolveflow.methodologies"
SHIPPED_SUFFIX: Final = ".toml"  # the shipped files are TOML only: tomllib is in the standard library
SHIPPED_VERSION_MARK: Final = "@"  # <id>@<version>.toml: a later version shipped beside <id>.toml

_lock = threading.RLock()
_registry: dict[str, dict[str, tuple[Methodology, str]]] = {}
# Definitions unregistered in this process, by (id, version): digest and origin. Registering a
# different definition under a key that once had one needs force=True (see register).
_retired: dict[tuple[str, str], tuple[str, str]] = {}
_plugin_failures: dict[str, str] = {}  # entry-point name -> why it was skipped
_shipped: dict[str, list[Path]] = {}  # id -> its files (every version), not loaded yet
_unreadable: dict[str, ImportError] = {}  # id -> why this install cannot read its shipped file
_shipped_checked = False  # whether one shipped file has been opened to prove the others can be
_loaded = False


def _text(value: object) -> str:
    """An id or version as given when it is text; otherwise how an error message shows it."""
    return value if isinstance(value, str) else shown(value)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _check_addable(methodology: Methodology, origin: str, *, force: bool = False) -> None:
    """Raise what :func:`_add` would raise, changing nothing."""
    existing = _registry.get(methodology.id, {}).get(methodology.version)
    if existing is not None:
        if existing[0] != methodology and not force:
            raise InvalidMethodology(
                f"{methodology.id}@{methodology.version} from {origin} clashes with the one from "
                f"{existing[1]}: the definitions differ; give one a new version (or id), "
                "or pass force=True to replace it (cases recorded under the old one still refuse "
                "to restore under the new one)",
                where="register",
            )
        return
    retired = _retired.get(methodology.key)
    if retired is not None and not force and definition_digest(methodology) != retired[0]:
        raise InvalidMethodology(
            f"{methodology.id}@{methodology.version} from {origin} is not the definition that was "
            f"registered under this id and version before (from {retired[1]}, since unregistered): "
            "cases recorded under that one would not restore under this one. Give it a new version "
            "(or id), or pass force=True to register it anyway (those cases still refuse to restore)",
            where="register",
        )


def _add(methodology: Methodology, origin: str, *, force: bool = False) -> None:
    _check_addable(methodology, origin, force=force)
    versions = _registry.setdefault(methodology.id, {})
    existing = versions.get(methodology.version)
    if existing is not None and existing[0] == methodology:
        return
    versions[methodology.version] = (methodology, origin)
    _retired.pop(methodology.key, None)


def _entry_point_methodologies(entry_point: metadata.EntryPoint) -> list[Methodology]:
    origin = f"entry point {entry_point.name!r} ({entry_point.value})"
    try:
        found: object = entry_point.load()
        if callable(found) and not isinstance(found, Methodology):
            found = found()
    except Exception as error:
        raise InvalidMethodology(f"{origin} failed to load: {error}", where="plugin") from error
    items = [found] if isinstance(found, Methodology) else found
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        raise InvalidMethodology(
            f"{origin} gave {type(found).__name__}; expected a Methodology, an iterable of them "
            "or a callable returning either",
            where="plugin",
        )
    out = list(items)
    for item in out:
        if not isinstance(item, Methodology):
            raise InvalidMethodology(
                f"{origin} gave {shown(item)}, which is not a Methodology", where="plugin"
            )
    return out


def _ensure_loaded() -> None:
    global _loaded, _shipped_checked, _unreadable
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        from resolveflow.methodologies import BUILTINS

        for methodology in BUILTINS:
            _add(methodology, "built-in (resolveflow.methodologies)")
        folder = resources.files("resolveflow.methodologies") / "files"
        _shipped_checked, _unreadable = False, {}
        if folder.is_dir():
            for item in sorted(folder.iterdir(), key=lambda p: p.name):
                if item.name.endswith(SHIPPED_SUFFIX):
                    methodology_id, _ = _shipped_name(item.name)
                    _shipped.setdefault(methodology_id, []).append(Path(str(item)))
        _plugin_failures.clear()
        for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            origin = f"entry point {entry_point.name!r} ({entry_point.value})"
            try:
                found = _entry_point_methodologies(entry_point)
                for methodology in found:  # all of a plugin's, or none of them
                    _check_addable(methodology, origin)
            except InvalidMethodology as error:
                # One broken plugin must not make every registry call fail: it is
                # skipped, named in a warning and listed by plugin_failures().
                _plugin_failures[entry_point.name] = str(error)
                warnings.warn(f"resolveflow skipped a plugin: {error}", RuntimeWarning, stacklevel=2)
                continue
            for methodology in found:
                _add(methodology, origin)
        _loaded = True


def plugin_failures() -> dict[str, str]:
    """Entry-point plugins skipped, by name, with the reason (``resolveflow list`` shows them)."""
    _ensure_loaded()
    return dict(_plugin_failures)


def _shipped_name(name: str) -> tuple[str, str | None]:
    """The id and version a shipped file's name gives: ``heard.toml`` -> ("heard", None)."""
    stem = name.removesuffix(SHIPPED_SUFFIX)
    methodology_id, mark, version = stem.partition(SHIPPED_VERSION_MARK)
    return methodology_id, (version if mark else None)


def _check_shipped_file(methodology: Methodology, path: Path) -> None:
    """Refuse a shipped file whose name does not say what it defines (a packaging mistake)."""
    methodology_id, version = _shipped_name(path.name)
    if methodology.id != methodology_id or version not in (None, methodology.version):
        expected = methodology_id if version is None else f"{methodology_id}@{version}"
        raise InvalidMethodology(
            f"shipped file {path.name} defines {methodology.id}@{methodology.version}, but its name "
            f"says {expected}: name it {methodology.id}{SHIPPED_VERSION_MARK}{methodology.version}"
            f"{SHIPPED_SUFFIX} (or {methodology.id}{SHIPPED_SUFFIX} for the first version)",
            where="shipped file",
        )


def _open_shipped(methodology_id: str) -> bool:
    """Load and register an id's shipped files (every version) the first time it is asked for.

    Returns False when there is no such file left to load. When this install
    cannot read the files (the loader is missing a dependency), none of the
    shipped files can be read: they are all dropped from :func:`available`,
    so that no listed id is then refused, and the reason is kept for the
    error message.
    """
    paths = _shipped.get(methodology_id)
    if paths is None:
        return False
    try:
        from resolveflow._files import load_shipped

        loaded = [(load_shipped(path), path) for path in paths]
    except ImportError as error:
        with _lock:
            _unreadable.update(dict.fromkeys(_shipped, error))
            _shipped.clear()
        return False
    with _lock:
        for methodology, path in loaded:  # check all before registering any
            _check_shipped_file(methodology, path)
            _check_addable(methodology, f"shipped file {path.name}")
        for methodology, path in loaded:
            _add(methodology, f"shipped file {path.name}")
        _shipped.pop(methodology_id, None)
    return True


def _load_shipped(methodology_id: str) -> None:
    """Load a shipped file asked for by id; refuse the id when this install cannot read it."""
    if _open_shipped(methodology_id) or methodology_id in _registry:
        return
    problem = _unreadable.get(methodology_id)
    if problem is not None:
        reason = str(problem)
        if "pip install" not in reason:
            reason += "; install the files extra (pip install 'resolveflow[files]')"
        raise UnknownMethodology(
            methodology_id,
            available=available(),  # without the ids of the files that cannot be read
            hint=f"it ships as a file that this install cannot read: {reason}",
        ) from problem


def _check_shipped() -> None:
    """Open one shipped file, once, so that :func:`available` lists only what can be opened."""
    global _shipped_checked
    if _shipped_checked:
        return
    first = min(_shipped, default=None)
    if first is not None:
        _open_shipped(first)
    _shipped_checked = True


def register(methodology: Methodology, *, origin: str = "register()", force: bool = False) -> None:
    """Make a methodology available by id and version to ``get_methodology`` and ``restore``.

    Registering the very same definition twice is harmless. A different
    definition under an id and version that are registered, or that were
    registered earlier in this process and then unregistered, is refused
    naming both origins: cases recorded under one definition must not replay
    under another. ``force=True`` registers it anyway (replacing the one
    registered), and even then every case recorded under the old definition
    refuses to restore under the new one
    (:class:`~resolveflow.exceptions.DefinitionMismatch`): give a changed
    definition a new version instead, and migrate the cases.

    Args:
        methodology: the definition.
        origin: where it comes from, for error messages (e.g. your module name).
        force: replace a different definition with the same id and version.

    Raises:
        InvalidMethodology: another definition has (or had) this id and version.

    Example:
        >>> import attrs, resolveflow
        >>> mine = attrs.evolve(resolveflow.get_methodology("engage"), id="our-engage")
        >>> resolveflow.register(mine)
        >>> resolveflow.get_methodology("our-engage").version
        '1.1'
        >>> resolveflow.unregister("our-engage", "1.1")
    """
    if not isinstance(methodology, Methodology):
        raise InvalidMethodology(
            f"expected a Methodology, got {type(methodology).__name__}", where="register"
        )
    if not isinstance(force, bool):
        raise InvalidInput(f"force must be True or False, got {shown(force)}", argument="force")
    _ensure_loaded()
    _open_shipped(methodology.id)
    with _lock:
        _add(methodology, origin, force=force)


def load_directory(path: str | os.PathLike[str]) -> list[Methodology]:
    """Load and register every methodology file (``.yaml``, ``.yml``, ``.toml``, ``.json``) in a folder.

    All files are loaded before any is registered, so a folder with one bad
    file registers nothing.

    Returns:
        The methodologies registered, in file-name order.

    Raises:
        InvalidMethodologyFile: a file is invalid (file, line and column in the message).
        InvalidMethodology: two files, or a file and an earlier registration, clash.

    Example:
        >>> import tempfile, resolveflow
        >>> from resolveflow import files
        >>> folder = tempfile.mkdtemp()
        >>> mine = files.methodology_to_dict(resolveflow.get_methodology("engage"))
        >>> mine["id"] = "folder-engage"
        >>> _ = files.dump_methodology(files.methodology_from_dict(mine), folder + "/a.json")
        >>> [m.id for m in resolveflow.load_directory(folder)]
        ['folder-engage']
        >>> resolveflow.unregister("folder-engage", mine["version"])
        >>> "folder-engage" in resolveflow.available()
        False
    """
    from resolveflow._files import load_methodology

    folder = Path(path)
    if not folder.is_dir():
        raise InvalidMethodology(f"{folder} is not a directory", where="load_directory")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FILE_SUFFIXES and p.is_file())
    loaded = [(load_methodology(p), p) for p in files]
    _ensure_loaded()
    with _lock:
        # Check every clash first so that nothing is registered when one fails.
        seen: dict[tuple[str, str], tuple[Methodology, Path]] = {}
        for methodology, source in loaded:
            _open_shipped(methodology.id)
            other = seen.get(methodology.key)
            if other is not None and other[0] != methodology:
                raise InvalidMethodology(
                    f"{methodology.id}@{methodology.version} is defined differently "
                    f"in {other[1]} and {source}",
                    where="load_directory",
                )
            _check_addable(methodology, f"file {source}")
            seen[methodology.key] = (methodology, source)
        for methodology, source in loaded:
            _add(methodology, f"file {source}")
    return [m for m, _ in loaded]


def unregister(methodology_id: str, version: str, *, forget: bool = False) -> None:
    """Remove one registered version (mainly for tests of your own methodologies).

    The definition's digest is remembered: registering a *different*
    definition under the same id and version later needs ``force=True``.
    ``forget=True`` drops that memory too, for test suites that define
    throwaway methodologies under one id (``resolveflow.testing.registered``
    does this); cases still bind their own digests either way.
    """
    _ensure_loaded()
    with _lock:
        versions = _registry.get(methodology_id, {}) if isinstance(methodology_id, str) else {}
        removed = versions.pop(version, None) if isinstance(version, str) else None
        if forget:
            _retired.pop((methodology_id, version), None)
        elif removed is not None:
            _retired[removed[0].key] = (definition_digest(removed[0]), removed[1])
        if not versions and isinstance(methodology_id, str):
            _registry.pop(methodology_id, None)


def origin_of(methodology_id: str, version: str) -> str:
    """Where a registered methodology version came from (built-in, file, entry point ...)."""
    get_methodology(methodology_id, version)
    return _registry[methodology_id][version][1]


def available() -> list[str]:
    """The ids of every registered methodology, sorted: each one can be opened.

    The methodologies shipped as files are listed only when this install can
    read them (one of them is loaded to find out, the first time).

    Example:
        >>> import resolveflow
        >>> resolveflow.available()[:3]
        ['blast', 'carp', 'engage']
    """
    _ensure_loaded()
    _check_shipped()
    with _lock:
        return sorted(set(_registry) | set(_shipped))


def versions(methodology_id: str) -> list[str]:
    """The registered versions of one methodology, oldest first.

    Raises:
        UnknownMethodology: no methodology has this id.
    """
    _ensure_loaded()
    if isinstance(methodology_id, str):
        _load_shipped(methodology_id)
    found = _registry.get(methodology_id) if isinstance(methodology_id, str) else None
    if not found:
        raise UnknownMethodology(_text(methodology_id), available=available())
    return sorted(found, key=_version_key)


def resolve(methodology: Methodology | str) -> Methodology:
    """A Methodology given as itself or by registered id (latest version).

    Raises:
        InvalidInput: neither a Methodology nor text.
        UnknownMethodology: no such id.
    """
    if isinstance(methodology, Methodology):
        return methodology
    if isinstance(methodology, str):
        return get_methodology(methodology)
    raise InvalidInput(
        f"expected a Methodology or a methodology id, got {type(methodology).__name__}",
        argument="methodology",
    )


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
        raise UnknownMethodology(methodology_id, version=_text(version), available=known)
    return found[0]
