"""Tenants: a store scoped with for_tenant can neither read nor write another tenant's cases.

Every public method of the store is exercised from one tenant while another
holds cases under the same ids, the same idempotency keys and promises, on
both databases and both APIs; the other tenant's rows must come out exactly as
they went in. A test fails when a public method is added without a check here.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resolveflow
import resolveflow.store
from resolveflow.store import (
    CaseExists,
    CaseNotFound,
    DeadlineWorker,
    Listener,
    Relay,
    Store,
    metadata,
)
from tests._async_facade import blocking_async_store
from tests._store_support import ACTOR, SEVEN_AS_1_0, drive, seven_as_to_act
from tests.conftest import FakeClock
from tests.store_fixtures import STORE_APIS

# Methods that are about the store itself, not about cases: nothing of a tenant to isolate.
NOT_ABOUT_CASES = {
    "engine",
    "dialect",
    "record_refusals",
    "tenant",
    "for_tenant",
    "create_schema",
    "upgrade_schema",
    "close",
    "transaction",
}
FAR = dt.timedelta(days=400)


def public_methods() -> set[str]:
    return {name for name in dir(Store) if not name.startswith("_")} - NOT_ABOUT_CASES


def tenant_rows(engine: sa.Engine, tenant: str) -> dict[str, list[str]]:
    """Every row a tenant has in every table, as text, sorted."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if "tenant" not in table.c:
                continue
            rows = conn.execute(sa.select(table).where(table.c.tenant == tenant)).all()
            out[table.name] = sorted(json.dumps(list(row), default=str) for row in rows)
    return out


@pytest.fixture(params=STORE_APIS)
def root(request: pytest.FixtureRequest, db_url: str, clock: FakeClock) -> Iterator[Any]:
    """The store connect() returned (recording refusals), on either API."""
    if request.param == "async":
        with blocking_async_store(db_url, clock=clock, record_refusals=True) as facade:
            yield facade
        return
    with resolveflow.store.connect(db_url, clock=clock, record_refusals=True) as opened:
        opened.create_schema()
        yield opened


def acme_world(acme: Any, clock: FakeClock) -> None:
    """Cases T-1 (at act, with two promises and an idempotency key) and T-2, and a refusal."""
    acme.open_case(SEVEN_AS_1_0, case_id="T-1")
    drive(acme, "T-1", seven_as_to_act(clock, 2))
    acme.fire("T-1", "complete_item", {"item_id": "item-1"}, actor=ACTOR, idempotency_key="k-1")
    with pytest.raises(resolveflow.Refused):
        acme.fire("T-1", "complete_plan", None, actor=ACTOR)
    acme.open_case("engage", case_id="T-2")


def test_no_method_of_one_tenant_reads_or_writes_another_tenants_cases(root: Any, clock: FakeClock) -> None:
    acme, globex = root.for_tenant("acme"), root.for_tenant("globex")
    acme_world(acme, clock)
    engine = root.engine
    before = tenant_rows(engine, "acme")
    acme_events = acme.events(limit=1000)
    checked: set[str] = set()

    # Writing: the same ids and keys are another tenant's own.
    globex.open_case(SEVEN_AS_1_0, case_id="T-1")
    with pytest.raises(CaseExists):
        globex.open_case(SEVEN_AS_1_0, case_id="T-1")
    checked.add("open_case")
    entry = globex.fire(
        "T-1", "acknowledge_feelings", {"feelings": "upset"}, actor=ACTOR, idempotency_key="k-1"
    )
    assert entry.seq == 1  # acme's key k-1 stands for acme's entry 6, not for this request
    checked.add("fire")
    retried = globex.fire_with_retry(
        "T-1", "hear_grievances", {"points": ["late"], "customer_finished": True}, actor=ACTOR
    )
    assert retried.seq == 2
    checked.add("fire_with_retry")
    with pytest.raises(CaseNotFound):
        globex.fire("T-2", "engage_fully", {"notes": "not yours"}, actor=ACTOR)
    assert globex.import_cases([resolveflow.open_case("engage", case_id="T-2")]) == 1
    with pytest.raises(CaseExists):
        acme.import_cases([resolveflow.open_case("engage", case_id="T-2")])
    checked.add("import_cases")

    # Reading: only the tenant's own.
    assert globex.load("T-1").step == "apologize" and acme.load("T-1").step == "act"
    with pytest.raises(CaseNotFound):
        root.load("T-1")  # the cases stored without a tenant are a tenant of their own
    checked.add("load")
    assert globex.summary("T-1").last_seq == 2 and acme.summary("T-1").last_seq == 6
    checked.add("summary")
    assert [e.action for e in globex.history("T-1", limit=50)] == ["acknowledge_feelings", "hear_grievances"]
    checked.add("history")
    assert [s.case_id for s in globex.cases_at("act")] == []
    assert [s.case_id for s in acme.cases_at("act")] == ["T-1"]
    checked.add("cases_at")
    assert [s.case_id for s in globex.cases_by_outcome(None)] == ["T-1", "T-2"]
    checked.add("cases_by_outcome")
    assert globex.overdue(clock.now + FAR) == []
    assert [d.ref for d in acme.overdue(clock.now + FAR)] == ["item-2"]
    checked.add("overdue")
    counts = {(o.methodology_id, o.outcome): o.count for o in globex.analytics().outcomes}
    assert counts == {("seven-as", None): 1, ("engage", None): 1}
    assert globex.analytics().cases == 2 and acme.analytics().cases == 2
    assert globex.analytics().refusals == () and acme.analytics().refusals != ()
    checked.add("analytics")
    page = globex.events(limit=1000)
    assert {e.tenant for e in page} == {"globex"} and len(page) == 2
    assert all(e.envelope["tenant"] == "globex" for e in page)
    # The same case id and sequence number, another tenant: another event id.
    assert not {e.event_id for e in page} & {e.event_id for e in acme_events}
    with pytest.raises(resolveflow.InvalidInput, match="no event is at position"):
        globex.events(after=acme_events.events[0].position)
    checked.add("events")
    report = globex.verify()
    assert report.clean and report.checked == 2 and report.entries == 2
    assert acme.verify().checked == 2
    checked.add("verify")
    ring = resolveflow.KeyRing(keys={"k1": secrets.token_bytes(32)}, current="k1")
    with resolveflow.store.Store(engine, keys=ring, owns_engine=False) as keyed:
        assert keyed.for_tenant("globex").reseal().entries == 2  # acme's entries stay unsealed
    checked.add("reseal")
    clock.advance(days=2)  # every idempotency key expires
    assert globex.forget_expired_keys() == 1  # its own k-1, not acme's
    checked.add("forget_expired_keys")

    assert tenant_rows(engine, "acme") == before, "globex's store changed acme's rows"
    assert checked == public_methods(), f"no tenant check for {sorted(public_methods() - checked)}"


def test_the_root_store_clears_every_tenants_expired_keys(root: Any, clock: FakeClock) -> None:
    for tenant in ("acme", "globex"):
        scoped = root.for_tenant(tenant)
        scoped.open_case("engage", case_id="T-1")
        scoped.fire("T-1", "engage_fully", {"notes": "Broken."}, actor=ACTOR, idempotency_key="k")
    clock.advance(days=2)
    assert root.forget_expired_keys() == 2


def test_the_worker_serves_every_tenant_from_the_root_store_and_one_from_its_store(
    sync_store: Store, clock: FakeClock
) -> None:
    for tenant in ("acme", "globex"):
        scoped = sync_store.for_tenant(tenant)
        scoped.open_case(SEVEN_AS_1_0, case_id="T-1")
        drive(scoped, "T-1", seven_as_to_act(clock, 1))
    clock.advance(days=3)
    assert DeadlineWorker(sync_store.for_tenant("acme")).run_once().due == 1
    assert DeadlineWorker(sync_store).run_once().due == 1  # globex's; acme's fired already
    for tenant in ("acme", "globex"):
        fired = [e for e in sync_store.for_tenant(tenant).events(limit=100) if e.type == "deadline.due"]
        assert len(fired) == 1 and fired[0].envelope["tenant"] == tenant


def test_the_relay_takes_the_root_store_and_names_each_events_tenant(sync_store: Store) -> None:
    sync_store.for_tenant("acme").open_case("engage", case_id="T-1")
    sync_store.for_tenant("acme").fire("T-1", "engage_fully", {"notes": "x"}, actor=ACTOR)
    sync_store.open_case("engage", case_id="T-1")
    sync_store.fire("T-1", "engage_fully", {"notes": "x"}, actor=ACTOR)
    seen: list[tuple[str | None, str]] = []
    Relay(sync_store, [Listener("log", lambda e: seen.append((e.tenant, e.case_id)))]).drain()
    assert sorted(seen, key=str) == sorted([("acme", "T-1"), (None, "T-1")], key=str)
    with pytest.raises(resolveflow.InvalidInput, match="relay serves every tenant"):
        Relay(sync_store.for_tenant("acme"), [Listener("log", print)])
    with pytest.raises(resolveflow.InvalidInput, match="relay serves every tenant"):
        resolveflow.store.dead_letters(sync_store.for_tenant("acme"))


@pytest.mark.parametrize("tenant", ["", " ", "x" * 201, "a\x00b", "\ud800", 7, None])
def test_a_tenant_id_is_checked(sync_store: Store, tenant: object) -> None:
    with pytest.raises(resolveflow.InvalidInput, match="non-blank text of at most 200 characters") as info:
        sync_store.for_tenant(tenant)  # type: ignore[arg-type]
    assert info.value.argument == "tenant"


def test_a_tenants_store_cannot_lead_to_another_tenant(sync_store: Store, tmp_path: Any) -> None:
    acme = sync_store.for_tenant("acme")
    assert acme.tenant == "acme" and sync_store.tenant is None
    assert "tenant='acme'" in repr(acme)
    with pytest.raises(resolveflow.InvalidInput, match="already scoped to tenant 'acme'"):
        acme.for_tenant("globex")
    with resolveflow.store.connect(tmp_path / "t.db", tenant="acme") as scoped:
        assert scoped.tenant == "acme"
        with pytest.raises(resolveflow.InvalidInput, match="already scoped"):
            scoped.for_tenant("globex")


def test_closing_a_tenants_store_leaves_the_engine_open(sync_store: Store) -> None:
    acme = sync_store.for_tenant("acme")
    acme.open_case("engage", case_id="T-1")
    acme.close()
    assert sync_store.for_tenant("acme").summary("T-1").step == "engage"


# --- the property: whatever other tenants do, a tenant sees what it would see alone --------------

_ENGAGE = [
    ("engage_fully", {"notes": "Broken."}),
    ("show_empathy", {"statement": "That must be annoying."}),
]
_OPS = st.lists(
    st.tuples(st.sampled_from(["acme", "globex", None]), st.sampled_from(["T-1", "T-2"])),
    max_size=12,
)


def _apply(store: Store, ops: list[tuple[str | None, str]], only: str | object | None) -> None:
    steps: dict[tuple[str | None, str], int] = {}
    for tenant, case_id in ops:
        if only is not _EVERY and tenant != only:
            continue
        scoped = store if tenant is None else store.for_tenant(tenant)
        done = steps.get((tenant, case_id))
        if done is None:
            scoped.open_case("engage", case_id=case_id)
            steps[(tenant, case_id)] = 0
        elif done < len(_ENGAGE):
            action, evidence = _ENGAGE[done]
            scoped.fire(case_id, action, evidence, actor=ACTOR, idempotency_key=f"k-{done}")
            steps[(tenant, case_id)] = done + 1


_EVERY = object()


def _seen(store: Store, tenant: str | None) -> dict[str, Any]:
    scoped = store if tenant is None else store.for_tenant(tenant)
    cases = scoped.cases_by_outcome(None)
    return {
        "cases": [(s.case_id, s.step, s.last_seq) for s in cases],
        "snapshots": [scoped.load(s.case_id).snapshot() for s in cases],
        "events": [(e.event_id, e.type, e.case_id, e.seq) for e in scoped.events(limit=1000)],
        "verify": scoped.verify().checked,
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_a_tenant_sees_what_it_would_see_alone(
    tmp_path_factory: Any, ops: list[tuple[str | None, str]]
) -> None:
    folder = tmp_path_factory.mktemp("tenants")
    clock = FakeClock()
    with resolveflow.store.connect(folder / "shared.db", clock=clock) as shared:
        shared.create_schema()
        _apply(shared, ops, _EVERY)
        for tenant in ("acme", "globex", None):
            with resolveflow.store.connect(folder / f"alone-{tenant}.db", clock=FakeClock()) as alone:
                alone.create_schema()
                _apply(alone, ops, tenant)
                assert _seen(shared, tenant) == _seen(alone, tenant)
