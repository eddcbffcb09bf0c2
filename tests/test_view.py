"""The UI contract (case.view), events and listeners, and translation catalogs."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import jsonschema
import pytest

import resolveflow
from resolveflow import Catalog
from tests.conftest import T0, FakeClock

RX_ACK = {"customer_perspective": "Billed twice.", "accepts_accountability": True}


def rx(clock: FakeClock) -> resolveflow.Case:
    return resolveflow.open_case(
        resolveflow.get_methodology("prescription", "1.0"), case_id="V-1", clock=clock
    )


# --- view ---------------------------------------------------------------------


def test_view_of_a_new_case(clock: FakeClock) -> None:
    view = rx(clock).view()
    assert view.step == {
        "id": "acknowledge",
        "title": "Acknowledge the problem",
        "prompts": list(resolveflow.get_methodology("prescription", "1.0").steps[0].prompts),
        "checklist": list(resolveflow.get_methodology("prescription", "1.0").steps[0].checklist),
    }
    assert (view.progress.position, view.progress.total) == (1, 3)
    assert view.progress.done == () and view.progress.remaining == (
        "acknowledge",
        "remedy_now",
        "prevent_recurrence",
    )
    assert [a.name for a in view.actions] == ["acknowledge_problem", "declare_cannot_satisfy"]
    assert view.outcome is None and view.history == () and view.durations == {}


def test_view_json_is_serialisable_and_forms_are_schemas(clock: FakeClock) -> None:
    case = rx(clock)
    case.fire("acknowledge_problem", RX_ACK, actor="ana")
    data = json.loads(json.dumps(case.view().to_json()))
    assert data["step"]["id"] == "remedy_now"
    assert data["progress"] == {
        "position": 2,
        "total": 3,
        "done": ["acknowledge"],
        "remaining": ["remedy_now", "prevent_recurrence"],
    }
    for action in data["actions"]:
        jsonschema.Draft202012Validator.check_schema(action["evidence_schema"])
        for prop in action["evidence_schema"]["properties"].values():
            assert prop["title"]
    assert data["history"][0]["action"] == "acknowledge_problem"


def test_progress_at_the_outcomes(clock: FakeClock) -> None:
    case = rx(clock)
    case.fire("acknowledge_problem", RX_ACK, actor="a")
    case.fire("remedy", {"action": "credit", "taken_at": T0.isoformat()}, actor="a")
    case.fire("commit_prevention", {"kind": "training", "description": "coach billing"}, actor="a")
    view = case.view()
    assert (view.progress.position, view.progress.done) == (
        3,
        ("acknowledge", "remedy_now", "prevent_recurrence"),
    )
    assert view.outcome == {"id": "resolved", "title": "Resolved", "successful": True}
    assert view.actions == ()
    failed = resolveflow.open_case(
        resolveflow.get_methodology("prescription", "1.0"), case_id="V-2", clock=clock
    )
    failed.fire("acknowledge_problem", RX_ACK, actor="a")
    failed.fire("declare_cannot_satisfy", {"reason": "wants a free car"}, actor="a")
    assert failed.view().progress.position == 2
    assert failed.view().outcome["successful"] is False  # type: ignore[index]


def test_durations_per_step() -> None:
    clock = FakeClock()
    case = resolveflow.open_case("seven-as", case_id="D", clock=clock)
    clock.advance(minutes=10)
    case.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    clock.advance(minutes=30)
    case.fire("hear_grievances", {"points": ["x"], "customer_finished": True}, actor="a")
    clock.advance(minutes=5)
    assert case.durations() == {"acknowledge": 0.0, "air_grievances": 1800.0, "apologize": 300.0}
    assert case.durations(opened_at=T0)["acknowledge"] == 600.0
    assert case.view(opened_at=T0).durations["apologize"] == 300.0


def test_view_overdue_and_time_rules(clock: FakeClock) -> None:
    case = rx(clock)
    case.fire("acknowledge_problem", RX_ACK, actor="a")
    with pytest.raises(resolveflow.InvalidInput):
        case.view(at=T0 - dt.timedelta(days=1))
    assert case.view().overdue == ()


# --- events -------------------------------------------------------------------


def test_events_for_accepted_actions_and_closing(clock: FakeClock) -> None:
    seen: list[resolveflow.Event] = []
    case = rx(clock)
    case.subscribe(seen.append)
    case.fire("acknowledge_problem", RX_ACK, actor="ana")
    case.fire("declare_cannot_satisfy", {"reason": "x"}, actor="ben")
    assert [e.type for e in seen] == ["action_accepted", "action_accepted", "case_closed"]
    first = seen[0].to_json()
    assert json.loads(json.dumps(first)) == first
    assert {k: first[k] for k in ("case_id", "seq", "action", "previous_step", "current_step", "actor")} == {
        "case_id": "V-1",
        "seq": 1,
        "action": "acknowledge_problem",
        "previous_step": "acknowledge",
        "current_step": "remedy_now",
        "actor": "ana",
    }
    assert first["methodology"] == {"id": "prescription", "version": "1.0"}
    assert seen[2].outcome == "cannot_satisfy"
    assert len({e.event_id for e in seen}) == 3


def test_event_ids_are_stable_across_restores(clock: FakeClock) -> None:
    a: list[resolveflow.Event] = []
    b: list[resolveflow.Event] = []
    one = rx(clock)
    one.subscribe(a.append)
    one.fire("acknowledge_problem", RX_ACK, actor="ana")
    two = rx(FakeClock())
    two.subscribe(b.append)
    two.fire("acknowledge_problem", RX_ACK, actor="ana")
    assert a[0].event_id == b[0].event_id


def test_refusal_events_only_when_asked(clock: FakeClock) -> None:
    plain: list[resolveflow.Event] = []
    with_refusals: list[resolveflow.Event] = []
    case = rx(clock)
    case.subscribe(plain.append)
    case.subscribe(with_refusals.append, refusals=True)
    with pytest.raises(resolveflow.Refused):
        case.fire("acknowledge_problem", {**RX_ACK, "accepts_accountability": False}, actor="ana")
    assert plain == []
    (event,) = with_refusals
    assert event.type == "action_refused"
    assert [r.code for r in event.refusals] == ["accountability_accepted"]
    assert event.to_json()["refusals"][0]["code"] == "accountability_accepted"
    assert event.previous_step == event.current_step == "acknowledge"


def test_a_failing_listener_never_loses_the_action(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    after: list[str] = []

    def broken(event: resolveflow.Event) -> None:
        raise RuntimeError("webhook down")

    case = rx(clock)
    case.subscribe(broken)
    case.subscribe(lambda e: after.append(e.type))
    with caplog.at_level(logging.ERROR, logger="resolveflow.events"):
        entry = case.fire("acknowledge_problem", RX_ACK, actor="ana")
    assert case.history == (entry,)
    assert after == ["action_accepted"]
    assert "webhook down" in caplog.text


def test_unsubscribe_and_bad_listener(clock: FakeClock) -> None:
    seen: list[resolveflow.Event] = []
    case = rx(clock)
    stop = case.subscribe(seen.append)
    stop()
    case.fire("acknowledge_problem", RX_ACK, actor="ana")
    assert seen == []
    with pytest.raises(resolveflow.InvalidInput, match="callable"):
        case.subscribe("not callable")  # type: ignore[arg-type]


def test_migration_keeps_listeners_and_reports_the_move(clock: FakeClock) -> None:
    import attrs

    seen: list[resolveflow.Event] = []
    v1 = resolveflow.get_methodology("engage", "1.0")
    v2 = attrs.evolve(v1, version="9.0")
    case = resolveflow.open_case(v1, case_id="M", clock=clock)
    case.subscribe(seen.append)
    moved = resolveflow.migrate(
        case,
        resolveflow.Migration(methodology_id="engage", from_version="1.0", to_version="9.0"),
        actor="ops",
        target=v2,
    )
    assert seen[-1].action == "migrate_version"
    moved.fire("engage_fully", {"notes": "x"}, actor="a")
    assert seen[-1].to_json()["methodology"]["version"] == "9.0"


# --- translations ---------------------------------------------------------------

PO = r"""
# French, partial
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Acknowledge the problem"
msgstr "Reconnaître le problème"

msgid "Problem acknowledged, accountability taken"
msgstr "Problème reconnu, "
"responsabilité assumée"

msgid "Acknowledging the problem means accepting accountability for your part."
msgstr "Reconnaître le problème, c'est assumer votre part de responsabilité."

msgid "refusal:not_from_this_step"
msgstr "Cette action n'est pas possible à cette étape."

msgid "Accountability accepted"
msgstr "Responsabilité assumée"
"""


def test_catalog_from_po_translates_the_view(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "fr.po"
    path.write_text(PO, encoding="utf-8")
    catalog = Catalog.from_po(path)
    assert catalog.locale == "fr" and len(catalog) == 5
    case = rx(clock)
    view = case.view(translate=catalog)
    assert view.step["title"] == "Reconnaître le problème"
    ack = next(a for a in view.actions if a.name == "acknowledge_problem")
    assert ack.title == "Problème reconnu, responsabilité assumée"
    assert ack.evidence_schema["properties"]["accepts_accountability"]["title"] == "Responsabilité assumée"
    # Untranslated messages stay English.
    assert view.step["prompts"] == list(case.current.prompts)  # type: ignore[union-attr]
    text = json.dumps(view.to_json(), ensure_ascii=False)
    assert "Reconnaître le problème" in text and case.current.prompts[0] in text  # type: ignore[union-attr]


def test_engine_refusals_translate_by_code(clock: FakeClock) -> None:
    catalog = Catalog({"refusal:not_from_this_step": "Pas à cette étape."})
    case = rx(clock)
    case.fire("acknowledge_problem", RX_ACK, actor="a")
    views = {a.name: a for a in case.view(translate=catalog).actions}
    assert "remedy" in views
    seven = resolveflow.open_case("seven-as", case_id="S", clock=clock)
    seven.fire("acknowledge_feelings", {"feelings": "upset"}, actor="a")
    refused = resolveflow.open_case("five-steps", case_id="F", clock=clock)
    decision = refused.check("apologize")
    assert decision.refusals[0].code == "not_from_this_step"
    translated = [
        r
        for a in seven.view(translate=catalog).actions
        for r in a.refusals  # seven-as at air_grievances has no refused action: nothing to translate
    ]
    assert translated == []
