"""import_cases takes nothing on trust: every case is rebuilt from its entries through the guards.

Each test here stored a forged case on the store as it was before (issue 14):
the analytics counted it as resolved, and only a later ``load`` noticed.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import resolveflow
import resolveflow.store
from resolveflow._case import case_ledger
from resolveflow._history import HistoryEntry, entry_hash
from resolveflow.store import Store
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS


@pytest.fixture(params=STORE_APIS)
def store_api(request: pytest.FixtureRequest) -> str:
    """The store's contract: every test here runs on the synchronous Store and on the AsyncStore."""
    return str(request.param)


ENGAGE_1_0 = ("engage", "1.0")
WALK: list[tuple[str, dict[str, Any]]] = [
    ("engage_fully", {"notes": "The parcel arrived crushed."}),
    ("show_empathy", {"statement": "I see how much that spoils the gift."}),
    ("solution_accepted", {"accepted": True, "solution": "A replacement sent today."}),
]


def resolved_case(case_id: str, clock: FakeClock, methodology: resolveflow.Methodology | None = None) -> Any:
    case = resolveflow.open_case(
        methodology or resolveflow.get_methodology(*ENGAGE_1_0), case_id=case_id, clock=clock
    )
    for action, evidence in WALK:
        clock.advance(minutes=5)
        case.fire(action, evidence, actor="ana")
    assert case.step == "resolved"
    return case


def stored_ids(store: Store) -> list[str]:
    return sorted(s.case_id for s in store.cases_by_outcome("resolved")) + sorted(
        s.case_id for s in store.cases_at("engage")
    )


class ClaimsResolved(resolveflow.Case):
    """A subclass that answers ``step`` and ``history`` with whatever it likes."""

    __slots__ = ()
    forged: tuple[HistoryEntry, ...] = ()

    @property
    def step(self) -> str:
        return "resolved"

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        return self.forged


def test_a_subclass_of_case_is_refused_and_its_batch_is_not_written(store: Store, clock: FakeClock) -> None:
    honest = resolved_case("HONEST-1", clock)
    fresh = resolveflow.open_case(resolveflow.get_methodology(*ENGAGE_1_0), case_id="FORGED-1", clock=clock)
    ClaimsResolved.forged = honest.history  # entries of another case, resolved
    forged = object.__new__(ClaimsResolved)
    object.__setattr__(forged, "_ledger", case_ledger(fresh))
    object.__setattr__(forged, "_clock", clock)
    object.__setattr__(forged, "_listeners", ())
    assert forged.step == "resolved" and len(forged.history) == 3  # what it would have been stored as
    with pytest.raises(resolveflow.InvalidInput, match="subclass") as info:
        store.import_cases([honest, forged])
    assert "ClaimsResolved" in str(info.value)
    assert stored_ids(store) == []
    for case_id in ("HONEST-1", "FORGED-1"):
        with pytest.raises(resolveflow.store.CaseNotFound):
            store.load(case_id)


def test_an_entry_forged_with_a_recomputed_hash_is_refused_at_the_guard_it_skips(
    store: Store, clock: FakeClock
) -> None:
    case = resolved_case("FORGED-2", clock)
    ledger = case_ledger(case)
    last = ledger.entries[-1]
    # The customer declined, yet the entry closes the case as resolved; the chain is recomputed so
    # that only the guards can tell.
    declined = attrs.evolve(last.evidence, accepted=False)
    body = attrs.evolve(last, evidence=declined, hash="00" * 32).body()
    forged = attrs.evolve(
        last, evidence=declined, hash=entry_hash(ledger.entries[-2].hash, body, ledger.recipe)
    )
    ledger._entries[-1] = forged
    ledger._tuple = None
    assert case.verify_chain() and case.history[-1].evidence.accepted is False
    with pytest.raises(resolveflow.InvalidSnapshot) as info:
        store.import_cases([case])
    assert info.value.entry == 3
    assert "FORGED-2" in str(info.value) and "cannot be imported" in str(info.value)
    assert stored_ids(store) == []


def test_a_copy_of_a_registered_methodology_without_its_guards_is_a_definition_mismatch(
    store: Store, clock: FakeClock
) -> None:
    real = resolveflow.get_methodology(*ENGAGE_1_0)
    lax = attrs.evolve(real, actions=tuple(attrs.evolve(a, guards=()) for a in real.actions))
    case = resolveflow.open_case(lax, case_id="LAX-1", clock=clock)
    clock.advance(minutes=5)
    case.fire("engage_fully", {"notes": "Broken."}, actor="ana")
    clock.advance(minutes=5)
    case.fire("show_empathy", {"statement": "Sorry."}, actor="ana")
    clock.advance(minutes=5)
    # Refused by the real guards: the customer declined. The lax copy lets it through.
    case.fire("solution_accepted", {"accepted": False, "solution": "Nothing."}, actor="ana")
    with pytest.raises(resolveflow.exceptions.DefinitionMismatch) as info:
        store.import_cases([case])
    assert info.value.methodology_id == "engage" and info.value.version == "1.0"
    assert stored_ids(store) == []


def test_honest_cases_are_stored_as_rebuilt_and_load_the_same(store: Store, clock: FakeClock) -> None:
    cases = [resolved_case(f"OK-{n}", clock) for n in range(3)]
    assert store.import_cases(cases, batch_size=2) == 3
    for case in cases:
        loaded = store.load(case.id)
        assert loaded.history == case.history and loaded.step == "resolved"
        assert loaded.definitions == case.definitions


def test_a_case_of_an_unregistered_methodology_imports_and_is_remembered(
    store: Store, clock: FakeClock
) -> None:
    own = attrs.evolve(resolveflow.get_methodology(*ENGAGE_1_0), id="our-engage")
    case = resolved_case("OWN-1", clock, own)
    assert store.import_cases([case]) == 1
    assert store.load("OWN-1").history == case.history


def test_a_case_made_without_init_is_refused(store: Store) -> None:
    hollow = object.__new__(resolveflow.Case)
    with pytest.raises(resolveflow.InvalidInput, match="open_case or restore"):
        store.import_cases([hollow])
