"""A fuzz suite over the public entry points: hostile values in, only resolveflow errors out.

Each property throws values an attacker would try (deep nesting, huge
numbers, lone surrogates, control characters, extreme or broken times, odd
mapping keys) at one entry point and insists on three things: nothing but a
``ResolveflowError`` leaves it, a call that raised changed nothing, and the
memory it took stays bounded (``tracemalloc``'s peak, never wall time).

The entry points: the case (open, fire, check, restore), methodology texts,
the command (``validate``, ``show``, ``diagram``, ``verify``, ``schema`` with
hostile files and argv: an exit code and a bounded message, never a
traceback, and no file written by a command that failed), diagrams,
``verify``, ``migrate`` and ``Migration``, and the file writers (hostile
targets; what they write loads back, whatever the texts).

Extend it by adding a strategy to ``HOSTILE`` or a property below. It runs
``FUZZ_EXAMPLES`` examples per property (60 unless the environment says
otherwise); run it deeper on demand with ``RESOLVEFLOW_FUZZ_EXAMPLES=2000
pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import pathlib
import tempfile
import tracemalloc
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import resolveflow
from resolveflow import diagrams
from resolveflow.cli import main
from resolveflow.exceptions import ResolveflowError
from resolveflow.files import dump_methodology, methodology_from_text, methodology_to_dict

FUZZ_EXAMPLES = int(os.environ.get("RESOLVEFLOW_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PEAK_BYTES = 64 * 1024 * 1024  # far above any honest call, far below an alias bomb's gigabytes


def _deep(levels: int, leaf: object = None) -> object:
    value: object = leaf
    for _ in range(levels):
        value = [value]
    return value


_TEXT = st.text(st.characters(codec=None), max_size=50) | st.sampled_from(
    ["\ud800", "a\x00b", "\u2028", "x" * 10_000, "", "   ", "[/bold]", "%s%n", "\u202e"]
)


def _huge(digits: int) -> int:
    return 10**digits  # built on use: Hypothesis shows strategies with repr(), which a 5,000-digit int breaks


_NUMBERS = (
    st.integers()
    | st.sampled_from([2**53, -(2**53)])
    | st.builds(_huge, st.sampled_from([400, 5_000]))
    | st.floats()
)
_TIMES = st.sampled_from(
    [
        dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=14))),
        dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(2026, 1, 1),  # naive
    ]
) | st.datetimes(timezones=st.timezones() | st.none())
# A time zone that fails to answer is tried by tests/test_hostile_inputs.py: Hypothesis itself
# hashes generated values, which such a datetime cannot survive.
_LEAVES = st.none() | st.booleans() | _NUMBERS | _TEXT | _TIMES | st.sampled_from([b"bytes", object(), len])
HOSTILE: st.SearchStrategy[Any] = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(_TEXT, st.integers(), st.tuples(st.integers())), inner, max_size=4)
    ),
    max_leaves=12,
) | st.builds(_deep, st.sampled_from([200, 5_000, 10_000]), st.sampled_from([None, {"a": 1}, "x"]))
"""Values an attacker would send: extend it and every property below tries the new ones."""


def _bounded(call: Callable[[], object]) -> object:
    """Run ``call``: its result or its ResolveflowError; anything else, or too much memory, fails."""
    tracemalloc.start()
    try:
        try:
            outcome: object = call()
        except ResolveflowError as error:
            str(error)  # the message itself must be buildable
            outcome = error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"took {peak:,} bytes"
    return outcome


def _case() -> resolveflow.Case:
    case = resolveflow.open_case("seven-as", case_id="FZ-1")
    case.fire("acknowledge_feelings", {"feelings": "Upset about the bill."}, actor="ana")
    return case


@FUZZ
@given(action=HOSTILE | st.sampled_from(["hear_grievances", "give_apology"]), evidence=HOSTILE, actor=HOSTILE)
def test_fire_raises_only_resolveflow_errors_and_changes_nothing_on_error(
    action: Any, evidence: Any, actor: Any
) -> None:
    case = _case()
    before = case.snapshot()
    outcome = _bounded(lambda: case.fire(action, evidence, actor=actor))
    if isinstance(outcome, ResolveflowError):
        assert case.snapshot() == before


@FUZZ
@given(action=HOSTILE | st.just("hear_grievances"), evidence=HOSTILE, at=HOSTILE | _TIMES)
def test_check_answers_or_raises_only_resolveflow_errors(action: Any, evidence: Any, at: Any) -> None:
    case = _case()
    before = case.snapshot()
    _bounded(lambda: case.check(action, evidence, at=at if isinstance(at, dt.datetime) else None))
    assert case.snapshot() == before


@FUZZ
@given(evidence=HOSTILE.filter(lambda value: value is not None))
def test_check_and_fire_agree_on_any_evidence(evidence: Any) -> None:
    """Given evidence (without it, check() leaves the evidence guards pending, by design)."""
    case = _case()
    decision = _bounded(lambda: case.check("hear_grievances", evidence))
    fired = _bounded(lambda: case.fire("hear_grievances", evidence, actor="ana"))
    if isinstance(decision, resolveflow.Decision):
        assert decision.allowed == isinstance(fired, resolveflow.HistoryEntry)


_KEYS = ["format", "methodology", "case_id", "step", "outcome", "opened_with", "history"]
_ENTRY_KEYS = ["seq", "action", "from_step", "step", "actor", "at", "evidence", "hash"]


@FUZZ
@given(where=st.sampled_from(_KEYS + _ENTRY_KEYS), value=HOSTILE)
def test_restore_of_a_tampered_snapshot_raises_only_invalid_snapshot(where: str, value: Any) -> None:
    snapshot = copy.deepcopy(_case().snapshot())
    if where in _ENTRY_KEYS:
        snapshot["history"][0][where] = value
    else:
        snapshot[where] = value
    outcome = _bounded(lambda: resolveflow.restore(snapshot))
    assert isinstance(outcome, resolveflow.Case | resolveflow.InvalidSnapshot), type(outcome)


@FUZZ
@given(case_id=HOSTILE, methodology=HOSTILE | st.just("engage"))
def test_open_case_raises_only_resolveflow_errors(case_id: Any, methodology: Any) -> None:
    _bounded(lambda: resolveflow.open_case(methodology, case_id=case_id))


_SEEDS = {
    "json": '{"resolveflow": 1, "id": "fz", "version": "1.0", "x": [1, {"a": "b"}]}',
    "yaml": "resolveflow: 1\nid: fz\nanchor: &a [1, 2]\nx: [*a, *a]\n",
    "toml": 'resolveflow = 1\nid = "fz"\n[x]\na = [1, 2]\n',
}


@FUZZ
@given(fmt=st.sampled_from(sorted(_SEEDS)), cut=st.integers(0, 80), insert=_TEXT, repeat=st.integers(1, 400))
def test_methodology_text_raises_only_resolveflow_errors(
    fmt: str, cut: int, insert: str, repeat: int
) -> None:
    seed = _SEEDS[fmt]
    text = seed[:cut] + insert * min(repeat, 50) + seed[cut:]
    _bounded(lambda: methodology_from_text(text, fmt))


def test_the_fuzz_bound_catches_a_runaway() -> None:
    """The memory bound is real: an allocation past it fails the check."""
    with pytest.raises(AssertionError, match="bytes"):
        _bounded(lambda: bytearray(PEAK_BYTES + 1))


# --- the command line ----------------------------------------------------------------------

_COMMANDS = ["validate", "show", "diagram", "verify", "schema"]
_FILE_SUFFIXES = [".yaml", ".yml", ".json", ".toml", ".txt", ""]


def _hostile_file(fmt: str, cut: int, insert: str, repeat: int) -> str:
    """A methodology text with hostile text spliced in: what a tampered or truncated file holds."""
    seed = dump_methodology(resolveflow.get_methodology("engage"), fmt) if fmt in _SEEDS else ""
    return seed[:cut] + insert * repeat + seed[cut:]


_ARGS = _TEXT | st.sampled_from(
    ["--format", "svg", "dot", "--case", "--json", "-o", "-h", "--", "-", "engage@", "@1.0", "seven-as@9"]
)
_INSERTS = _TEXT | st.sampled_from(["[" * 5_000, '{"a": ' * 2_000, "9" * 5_000, "&a [*a, *a]\n", "\x00"])
_OUTPUT_BOUND = 5_000  # characters: one line of message, whatever the file or argv held


@FUZZ
@given(
    command=st.sampled_from(_COMMANDS),
    fmt=st.sampled_from([*sorted(_SEEDS), "xml"]),
    suffix=st.sampled_from(_FILE_SUFFIXES),
    cut=st.integers(0, 3_000),
    insert=_INSERTS,
    repeat=st.integers(1, 50),
    extra=st.lists(_ARGS, max_size=4),
    place=st.sampled_from(["argument", "case", "none"]),
)
def test_the_command_exits_with_a_message_never_a_traceback(
    command: str, fmt: str, suffix: str, cut: int, insert: str, repeat: int, extra: list[str], place: str
) -> None:
    """Hostile files (the methodology, or --case) and argv for every command: a message, no traceback."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m" + suffix)
        content = _hostile_file(fmt, cut, insert, repeat)
        with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="") as handle:
            handle.write(content)
        given_file = {"argument": [path], "case": ["engage", "--case", path], "none": []}[place]
        argv = [command, *given_file, *extra]
        if "-o" in argv:  # an output file, inside the folder, never beside the tests
            argv[argv.index("-o") + 1 :] = [os.path.join(folder, "out.svg")]
        before = sorted(os.listdir(folder))
        result = _bounded(lambda: CliRunner().invoke(main, argv))
        assert isinstance(result, Result)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            assert result.output.strip(), "an error needs a message"
            assert len(result.output) < _OUTPUT_BOUND, result.output[:_OUTPUT_BOUND]
            if "-o" in argv:
                assert sorted(os.listdir(folder)) == before  # a command that failed wrote nothing
        with open(path, encoding="utf-8", errors="surrogatepass", newline="") as handle:
            assert handle.read() == content  # the file given is only read


# --- diagrams ------------------------------------------------------------------------------

_DRAWERS = {"mermaid": diagrams.to_mermaid, "dot": diagrams.to_dot, "svg": diagrams.to_svg}


@FUZZ
@given(
    drawer=st.sampled_from(sorted(_DRAWERS)),
    methodology=HOSTILE | st.sampled_from(["engage", "seven-as", "engage@1.0", "Engage"]),
    case=HOSTILE | st.sampled_from(["engage", "seven-as"]),
)
def test_diagrams_draw_or_raise_only_resolveflow_errors(drawer: str, methodology: Any, case: Any) -> None:
    if case in ("engage", "seven-as"):
        case = resolveflow.open_case(case, case_id="FZ-D")
    outcome = _bounded(lambda: _DRAWERS[drawer](methodology, case=case))
    assert isinstance(outcome, str | ResolveflowError), type(outcome)


# --- verify and migrate --------------------------------------------------------------------


@FUZZ
@given(methodology=HOSTILE | st.sampled_from(["seven-as", "engage"]))
def test_verify_raises_only_resolveflow_errors(methodology: Any) -> None:
    outcome = _bounded(lambda: resolveflow.verify(methodology))
    assert isinstance(outcome, resolveflow.VerificationReport | ResolveflowError), type(outcome)


def _engage_v2() -> resolveflow.Methodology:
    return attrs.evolve(resolveflow.get_methodology("engage"), version="2.0")


_MIGRATION_KEYS = ["methodology_id", "from_version", "to_version", "steps"]


@FUZZ
@given(
    where=st.sampled_from([*_MIGRATION_KEYS, "actor", "at", "target", "case", "migration"]),
    value=HOSTILE | _TIMES,
)
def test_migrate_raises_only_resolveflow_errors_and_changes_nothing_on_error(where: str, value: Any) -> None:
    case = resolveflow.open_case("engage", case_id="FZ-M")
    before = case.snapshot()
    fields: dict[str, Any] = {
        "methodology_id": "engage",
        "from_version": "1.0",
        "to_version": "2.0",
        "steps": {},
    }
    call: dict[str, Any] = {"case": case, "actor": "ops", "at": None, "target": _engage_v2()}
    (fields if where in _MIGRATION_KEYS else call)[where] = value

    def migrate() -> resolveflow.Case:
        migration = value if where == "migration" else resolveflow.Migration(**fields)
        return resolveflow.migrate(
            call["case"], migration, actor=call["actor"], at=call["at"], target=call["target"]
        )

    outcome = _bounded(migrate)
    assert isinstance(outcome, resolveflow.Case | ResolveflowError), type(outcome)
    assert case.snapshot() == before  # the given case is never changed, moved or not


# --- file writers --------------------------------------------------------------------------

_WRITTEN_NAMES = st.sampled_from(
    [
        "m.yaml",
        "m.YML",
        "m.json",
        "m.toml",
        "m.txt",
        "m",
        ".yaml",
        "no/such/dir/m.json",
        "folder.yaml",
        "x" * 300 + ".json",
        "nul\x00.yaml",
        "bad\ud800.json",
    ]
) | _TEXT.map(lambda name: name.replace("/", "_").replace("\\", "_") + ".yaml")


def _in(folder: str, target: Any) -> Any:
    """A text target is put inside ``folder``; anything else passes as given.

    Joined as text, not with os.path.join, so that '/etc/x.yaml' stays inside too, and
    with '..' defused, so that no generated name reaches out of the folder.
    """
    return folder + os.sep + target.replace("..", "__") if isinstance(target, str) else target


@FUZZ
@given(
    methodology=HOSTILE | st.just("engage"),
    target=HOSTILE | _WRITTEN_NAMES | st.sampled_from(["yaml", "YAML", "yml", "toml", "json", "xml", ""]),
    as_path=st.booleans(),
)
def test_dump_methodology_writes_or_raises_only_resolveflow_errors(
    methodology: Any, target: Any, as_path: bool
) -> None:
    if methodology == "engage":
        methodology = resolveflow.get_methodology("engage")
    with tempfile.TemporaryDirectory() as folder:
        os.mkdir(os.path.join(folder, "folder.yaml"))
        if isinstance(target, str) and target.lower() not in ("yaml", "yml", "toml", "json"):
            target = _in(folder, target)
            target = pathlib.Path(target) if as_path and "\x00" not in target else target
        before = sorted(os.listdir(folder))
        outcome = _bounded(lambda: dump_methodology(methodology, target))
        _bounded(lambda: methodology_to_dict(methodology))
        assert isinstance(outcome, str | ResolveflowError), type(outcome)
        if isinstance(outcome, ResolveflowError):
            assert sorted(os.listdir(folder)) == before
        elif not isinstance(target, str) or target.lower() not in ("yaml", "yml", "toml", "json"):
            assert pathlib.Path(target).read_text(encoding="utf-8") == outcome  # what was returned


@FUZZ
@given(
    fmt=st.sampled_from(sorted(_SEEDS)),
    where=st.sampled_from(["title", "source", "description", "step", "guidance"]),
    text=_TEXT,
)
def test_what_a_writer_writes_loads_back_whatever_the_texts(fmt: str, where: str, text: str) -> None:
    """A methodology made with odd texts (control characters, line separators, markup) round-trips."""
    engage = resolveflow.get_methodology("engage")

    def made() -> resolveflow.Methodology:
        if where == "step":
            steps = (attrs.evolve(engage.steps[0], title=text), *engage.steps[1:])
            return attrs.evolve(engage, steps=steps)
        if where == "guidance":
            outcomes = (attrs.evolve(engage.outcomes[0], guidance=(text,)), *engage.outcomes[1:])
            return attrs.evolve(engage, outcomes=outcomes)
        return attrs.evolve(engage, **{where: text})

    methodology = _bounded(made)
    assume(isinstance(methodology, resolveflow.Methodology))  # refused when made: nothing to write
    written = _bounded(lambda: dump_methodology(methodology, fmt))
    assert isinstance(written, str), written
    assert methodology_from_text(written, fmt) == methodology
