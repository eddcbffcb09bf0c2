"""The example help desk (examples/desk) over HTTP, with Starlette's test client.

Every page, the forms generated from ``evidence_schema`` (each widget kind, and
every registered methodology's first forms), a seven A's case walked to
resolved through the forms, and each way a submission can fail: invalid
evidence, a refusal, a stale page, a double submit.

The desk needs the ``desk`` extra (Starlette, Jinja2, uvicorn, python-multipart)
and httpx for the test client; without them these tests are skipped, except
under CI=true, where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import resolveflow
from tests.conftest import FakeClock


def _missing() -> str | None:
    """What the desk or its test client lacks here, or None."""
    for choice in ("starlette", "jinja2", "python_multipart", "uvicorn", "sqlalchemy", "httpx2|httpx"):
        if not any(importlib.util.find_spec(name) for name in choice.split("|")):
            return f"the desk needs {choice}: pip install -e '.[desk]' httpx2"
    return None


MISSING = _missing()
if MISSING and os.environ.get("CI") != "true":
    pytest.skip(MISSING, allow_module_level=True)
if not MISSING:
    from examples.desk import create_app
    from examples.desk.forms import build_fields, compact_rows, to_evidence
    from starlette.testclient import TestClient


@pytest.fixture(autouse=True)
def _desk_dependencies() -> None:
    # Under CI=true the desk must be tested: each test fails, and the rest of the suite still runs.
    if MISSING:
        pytest.fail(f"under CI=true {MISSING}", pytrace=False)


UTC = ZoneInfo("UTC")


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def desk(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """A desk on a new SQLite file with the demo cases, on the fake clock."""
    with TestClient(create_app(tmp_path / "desk.db", clock=clock)) as client:
        yield client


@pytest.fixture
def empty_desk(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "desk.db", clock=clock, demo=False)) as client:
        yield client


def form_block(page: str, action: str) -> str:
    """The HTML of the form for ``action`` on a case page."""
    match = re.search(rf'<form [^>]*id="action-{re.escape(action)}".*?</form>', page, re.S)
    assert match, f"no form for {action!r} on the page"
    return match.group(0)


def hidden(block: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', block)
    assert match, f"no {name} in the form"
    return html.unescape(match.group(1))


def input_names(block: str) -> set[str]:
    return {html.unescape(n) for n in re.findall(r'name="([^"]+)"', block)} - {
        "_expected_seq",
        "_key",
        "_submit",
    }


def submit(
    client: TestClient, case_id: str, action: str, data: dict[str, str] | None = None, **kw: Any
) -> Any:
    """Fill in and post an action's form the way a browser does (with the page's hidden fields)."""
    page = client.get(f"/cases/{case_id}").text
    block = form_block(page, action)
    body = {"_expected_seq": hidden(block, "_expected_seq"), "_key": hidden(block, "_key"), **(data or {})}
    return client.post(f"/cases/{case_id}/actions/{action}", data=body, **kw)


def open_case(client: TestClient, methodology: str, case_id: str) -> str:
    response = client.post("/cases", data={"methodology": methodology, "case_id": case_id})
    assert response.status_code == 200, response.text
    return response.text


def local(moment: dt.datetime) -> str:
    """A datetime-local input's value."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def text_of(page: str) -> str:
    """The page's text without tags, whitespace collapsed (for assertions on what a person reads)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def stored(client: TestClient, case_id: str) -> resolveflow.Case:
    app: Any = client.app
    case: resolveflow.Case = app.state.desk.store.load(case_id)
    return case


# --- the case list and demo data --------------------------------------------------------


def test_a_new_database_gets_demo_cases_across_methodologies(desk: TestClient) -> None:
    page = desk.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    for case_id in ("DESK-101", "DESK-102", "DESK-103", "DESK-104", "DESK-105", "DESK-106", "DESK-107"):
        assert case_id in text
    for title in ("seven-as", "prescription", "four-steps", "five-steps", "iso-10002"):
        assert title in text
    # Steps by title, the closed case with its outcome, the late ones flagged.
    assert "Act on the plan" in text
    assert "Waiting to talk again" in text
    assert re.search(r'id="row-DESK-101" class="late"', page.text)
    assert re.search(r'id="row-DESK-102" class="late"', page.text)
    assert not re.search(r'id="row-DESK-103" class="late"', page.text)
    closed = page.text.split('id="closed-cases"')[1]
    assert "DESK-105" in closed and "Resolved" in closed
    overdue = page.text.split('id="deadlines"')[1].split("</section>")[0]
    assert "Courier a replacement leg" in overdue and "DESK-102" in overdue


def test_an_existing_database_is_not_seeded_again(tmp_path: Path, clock: FakeClock) -> None:
    with TestClient(create_app(tmp_path / "desk.db", clock=clock)) as client:
        submit(client, "DESK-103", "acknowledge_feelings", {"feelings": "Cross about the wait."})
    with TestClient(create_app(tmp_path / "desk.db", clock=clock)) as client:
        assert stored(client, "DESK-103").step == "air_grievances"
        assert text_of(client.get("/").text).count("DESK-103") == 1


def test_a_failed_seed_leaves_no_database_and_the_next_start_seeds(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resolveflow.store

    real_fire = resolveflow.store.Store.fire
    calls = 0

    def fire_then_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("the disk went away")
        return real_fire(self, *args, **kwargs)

    monkeypatch.setattr(resolveflow.store.Store, "fire", fire_then_fail)
    with pytest.raises(RuntimeError, match="the disk went away"):
        create_app(tmp_path / "desk.db", clock=clock)
    assert calls == 5
    assert list(tmp_path.iterdir()) == []  # no desk.db, no scratch file, no journal
    monkeypatch.undo()
    with TestClient(create_app(tmp_path / "desk.db", clock=clock)) as client:
        page = client.get("/")
        assert page.status_code == 200
        for case_id in ("DESK-101", "DESK-104", "DESK-107", "DESK-108"):
            assert case_id in text_of(page.text)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("desk.db-")) == ["desk.db"]


def test_an_empty_file_is_seeded(tmp_path: Path, clock: FakeClock) -> None:
    (tmp_path / "desk.db").write_bytes(b"")
    with TestClient(create_app(tmp_path / "desk.db", clock=clock)) as client:
        assert "DESK-101" in text_of(client.get("/").text)


def test_an_existing_database_without_tables_or_cases_starts(tmp_path: Path, clock: FakeClock) -> None:
    import sqlite3

    bare = tmp_path / "bare.db"
    connection = sqlite3.connect(bare)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    with TestClient(create_app(bare, clock=clock)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "No open cases." in page.text
    # Now it has the tables and no cases: still a working, empty desk.
    with TestClient(create_app(bare, clock=clock)) as client:
        page = client.get("/")
        assert page.status_code == 200 and "No open cases." in page.text
        assert client.get("/cases/new").status_code == 200


def test_the_server_reports_a_database_it_cannot_use_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples.desk.__main__ import main

    garbage = tmp_path / "desk.db"
    garbage.write_text("this is not a database\n" * 100, encoding="utf-8")
    assert main(["--db", str(garbage), "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"resolveflow desk: cannot start on {garbage}: ")


def test_demo_data_can_be_left_out(empty_desk: TestClient) -> None:
    assert "No open cases." in empty_desk.get("/").text


# --- opening cases ----------------------------------------------------------------------


def test_the_new_case_page_offers_every_registered_methodology(desk: TestClient) -> None:
    page = desk.get("/cases/new").text
    for methodology_id in resolveflow.available():
        assert f'value="{methodology_id}"' in page


@pytest.mark.parametrize("methodology_id", resolveflow.available())
def test_any_methodology_opens_with_a_form_per_enabled_action(
    empty_desk: TestClient, methodology_id: str
) -> None:
    page = open_case(empty_desk, methodology_id, f"T-{methodology_id}")
    methodology = resolveflow.get_methodology(methodology_id)
    assert html.escape(methodology.node(methodology.initial).title, quote=False) in page
    case = stored(empty_desk, f"T-{methodology_id}")
    for action in case.actions():
        if action.enabled:
            names = input_names(form_block(page, action.name))
            for key, schema in action.evidence_schema["properties"].items():
                if schema.get("type") == "array" and schema["items"].get("type") == "object":
                    assert any(n.startswith(f"{key}[0].") for n in names), (action.name, key)
                else:
                    assert key in names, (action.name, key, names)
        else:
            assert f'id="refused-{action.name}"' in page
            assert action.refusals[0].code in page


def test_a_case_id_is_made_up_when_none_is_given(empty_desk: TestClient) -> None:
    response = empty_desk.post(
        "/cases", data={"methodology": "engage", "case_id": ""}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/cases/DESK-")


def test_opening_a_taken_or_malformed_id_says_why(desk: TestClient) -> None:
    taken = desk.post("/cases", data={"methodology": "engage", "case_id": "DESK-101"})
    assert taken.status_code == 422
    assert "already exists" in text_of(taken.text)
    malformed = desk.post("/cases", data={"methodology": "engage", "case_id": "a b/c"})
    assert malformed.status_code == 422
    assert "A case id is" in malformed.text
    unknown = desk.post("/cases", data={"methodology": "no-such", "case_id": "X-1"})
    assert unknown.status_code == 422
    assert "no-such" in text_of(unknown.text)


# --- the case page ----------------------------------------------------------------------


def test_the_case_page_shows_guidance_progress_refusals_overdue_and_history(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-101").text
    text = text_of(page)
    step = resolveflow.get_methodology("seven-as").node("act")
    assert isinstance(step, resolveflow.Step)
    heading = re.search(r'<h2 id="step-title">(.*?)</h2>', page)
    assert heading is not None and html.unescape(heading.group(1)) == step.title
    for line in (*step.prompts, *step.checklist):
        assert html.escape(line, quote=False) in page
    # Progress: five required steps passed, the sixth is current, the seventh ahead.
    assert "Step 6 of 7" in text
    assert "5 of 7 required steps passed" in text
    assert page.count('class="done"') == 5
    assert re.search(r'<li class="current" data-step="act">', page)
    # The enabled action is a form; the refused one shows code, message and what is missing.
    assert 'id="action-complete_item"' in page
    refused = page.split('id="refused-complete_plan"')[1].split("</div>")[0]
    assert "all_plan_items_done" in refused
    assert "plan_item:leg" in refused and "plan_item:call" in refused
    overdue = page.split('id="overdue"')[1].split("</section>")[0]
    assert "Courier a replacement leg" in overdue and "leg" in overdue
    assert "Refund the delivery fee" in text  # the plan, in the history
    assert text.index("#6") < text.index("#1")  # newest first
    assert "Refunded by card." in text


def test_a_side_step_and_a_missed_follow_up(desk: TestClient) -> None:
    text = text_of(desk.get("/cases/DESK-102").text)
    assert "Off the main path · next required step 5 of 7" in text
    assert "Now at a side step: Waiting to talk again." in text
    assert "follow-up Too upset to agree anything today." in text
    assert "Resume the conversation" in text  # an action that records nothing: a bare button


def test_the_diagram_highlights_the_case(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-101").text
    diagram = page.split('id="diagram"')[1]
    try:
        resolveflow.diagrams.to_svg("seven-as")
    except resolveflow.exceptions.DiagramUnavailable:
        assert "stateDiagram-v2" in diagram
        assert "class act current" in diagram
    else:
        assert "<svg" in diagram
        assert "<title>act</title>" in diagram
        assert "#e8590c" in diagram  # the current step's border colour


def test_without_graphviz_the_diagram_is_mermaid_source(
    desk: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: object, **kwargs: object) -> str:
        raise resolveflow.exceptions.DiagramUnavailable("no dot here")

    monkeypatch.setattr(resolveflow.diagrams, "to_svg", unavailable)
    page = desk.get("/cases/DESK-102").text
    source = html.unescape(page.split('<pre class="mermaid-source">')[1].split("</pre>")[0])
    assert source == resolveflow.diagrams.to_mermaid("seven-as", case=stored(desk, "DESK-102"))
    assert "class rescheduled current" in source


def test_unknown_cases_and_actions_are_404(desk: TestClient) -> None:
    assert desk.get("/cases/NOPE-1").status_code == 404
    response = desk.post("/cases/DESK-103/actions/no_such_action", data={"_expected_seq": "0"})
    assert response.status_code == 404
    assert "no_such_action" in response.text
    assert desk.post("/cases/NOPE-1/actions/x", data={"_expected_seq": "0"}).status_code == 404


# --- the forms --------------------------------------------------------------------------


def _fields(methodology: str, action: str) -> dict[str, Any]:
    spec = resolveflow.get_methodology(methodology).action(action)
    assert spec is not None
    return {f.name: f for f in build_fields(spec.evidence_schema())}


def test_each_schema_type_gets_its_widget() -> None:
    plan = _fields("seven-as", "agree_plan")
    assert plan["items"].kind == "rows"
    assert [f.name for f in plan["items"].rows[0]] == ["items[0].id", "items[0].description", "items[0].due"]
    assert [f.kind for f in plan["items"].rows[0]] == ["text", "textarea", "datetime"]
    assert plan["agreed_with"].kind == "text" and plan["agreed_with"].required
    grievances = _fields("seven-as", "hear_grievances")
    assert grievances["points"].kind == "lines"
    assert grievances["customer_finished"].kind == "checkbox"
    assert not grievances["customer_finished"].required  # unticked is an answer too
    decision = _fields("five-steps", "decide_solution")
    assert decision["value"].kind == "number" and decision["value"].minimum == 0
    assert not decision["value"].required  # anyOf [number, null]: optional
    closing = _fields("five-steps", "close_resolved")
    assert closing["minutes_taken"].kind == "integer" and closing["minutes_taken"].minimum == 0
    prevention = _fields("prescription", "commit_prevention")
    assert prevention["kind"].kind == "select"
    assert prevention["kind"].options == ("procedure_change", "training", "system_fix")
    assert prevention["description"].kind == "textarea" and prevention["description"].max_length == 2000
    odd = {f.name: f for f in build_fields({"properties": {"blob": {"type": "object"}}})}
    assert odd["blob"].kind == "json"  # no widget: typed as JSON, validated by resolveflow


def test_posted_values_become_evidence() -> None:
    spec = resolveflow.get_methodology("seven-as").action("agree_plan")
    assert spec is not None
    schema = spec.evidence_schema()
    posted = {
        "agreed_with": "Ms Ortiz",
        "items[0].id": "",
        "items[0].description": "",
        "items[0].due": "",
        "items[1].id": "leg",
        "items[1].description": "Replace\r\nthe leg",
        "items[1].due": "2026-03-04T10:30",
    }
    values = compact_rows(schema, posted)
    assert values["items[0].id"] == "leg" and "items[1].id" not in values  # the blank row is dropped
    evidence = to_evidence(schema, values, ZoneInfo("Europe/Berlin"))
    assert evidence == {
        "agreed_with": "Ms Ortiz",
        "items": [{"id": "leg", "description": "Replace\nthe leg", "due": "2026-03-04T09:30:00+00:00"}],
    }
    decide = resolveflow.get_methodology("five-steps").action("decide_solution")
    assert decide is not None
    schema = decide.evidence_schema()
    assert to_evidence(schema, {"solution": "s", "answers": "a", "value": "12.5"}, UTC)["value"] == 12.5
    assert to_evidence(schema, {"solution": "s", "answers": "a", "value": "12"}, UTC)["value"] == 12
    assert "value" not in to_evidence(schema, {"solution": "s", "answers": "a", "value": ""}, UTC)
    # What does not convert goes on as typed, for resolveflow to name the problem.
    assert to_evidence(schema, {"value": "lots"}, UTC)["value"] == "lots"
    grievances = resolveflow.get_methodology("seven-as").action("hear_grievances")
    assert grievances is not None
    evidence = to_evidence(grievances.evidence_schema(), {"points": "Late\r\n\r\n  Broken \n"}, UTC)
    assert evidence == {"points": ["Late", "Broken"], "customer_finished": False}


# --- acting through the forms -----------------------------------------------------------


def test_a_seven_as_case_walks_to_resolved_through_the_forms(
    empty_desk: TestClient, clock: FakeClock
) -> None:
    client = empty_desk
    open_case(client, "seven-as", "W-1")
    due = clock.now + dt.timedelta(days=2)
    steps: list[tuple[str, dict[str, str], str]] = [
        ("acknowledge_feelings", {"feelings": "Angry about the broken sofa."}, "air_grievances"),
        ("hear_grievances", {"points": "Broken leg\nNo call back", "customer_finished": "true"}, "apologize"),
        ("give_apology", {"statement": "I am sorry.", "admits_fault": "true"}, "assure"),
        ("give_assurance", {"commitment": "We will fix it this week."}, "agree"),
        (
            "agree_plan",
            {
                "agreed_with": "Ms Ortiz",
                "items[0].id": "leg",
                "items[0].description": "Send a new leg",
                "items[0].due": local(due),
                "items[1].id": "call",
                "items[1].description": "Call to check",
                "items[1].due": local(due + dt.timedelta(days=1)),
            },
            "act",
        ),
        ("complete_item", {"item_id": "leg"}, "act"),
        ("complete_item", {"item_id": "call", "note": "All fine."}, "act"),
        ("complete_plan", {}, "accomplish"),
        ("confirm_satisfaction", {"satisfied": "true", "comment": "Thanks!"}, "resolved"),
    ]
    for seq, (action, data, step) in enumerate(steps, start=1):
        clock.advance(minutes=5)
        response = submit(client, "W-1", action, data, follow_redirects=False)
        assert response.status_code == 303, text_of(response.text)
        assert response.headers["location"] == f"/cases/W-1?recorded={seq}"
        assert stored(client, "W-1").step == step
    page = client.get("/cases/W-1?recorded=9").text
    assert "Recorded: Customer confirms satisfaction" in text_of(page)
    assert 'id="outcome"' in page and "Closed: Resolved" in text_of(page)
    assert "7 of 7 required steps passed" in text_of(page)
    assert 'id="actions"' not in page  # nothing left to do
    case = stored(client, "W-1")
    plan = case.history[4].evidence_json
    assert plan["items"][0]["due"].startswith(due.strftime("%Y-%m-%dT%H:%M"))
    assert [e.actor for e in case.history] == ["agent"] * 9


def test_invalid_evidence_redisplays_the_form_with_field_errors(desk: TestClient) -> None:
    response = submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "   "})
    assert response.status_code == 422
    block = form_block(response.text, "acknowledge_feelings")
    assert re.search(r'class="field-error" data-for="feelings">is required', block)
    assert "Not recorded" in response.text
    assert stored(desk, "DESK-103").history == ()
    bad_number = submit(
        desk, "DESK-106", "decide_solution", {"solution": "Refund", "answers": "Time lost", "value": "-3"}
    )
    assert bad_number.status_code == 422
    block = form_block(bad_number.text, "decide_solution")
    assert re.search(r'data-for="value">must be at least 0', block)
    assert ">Refund</textarea>" in block  # what was typed is kept


def test_a_refusal_shows_its_reasons_and_keeps_the_answers(desk: TestClient) -> None:
    submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "Upset."})
    response = submit(desk, "DESK-103", "hear_grievances", {"points": "Late\nRude driver"})
    assert response.status_code == 409
    notice = response.text.split('id="notice"')[1].split("</div>")[0]
    assert "was refused" in notice
    assert "customer_finished" in notice
    assert "Let the customer finish" in notice
    block = form_block(response.text, "hear_grievances")
    assert "Late\nRude driver</textarea>" in block
    assert re.search(r'data-for="customer_finished">Let the customer finish', block)
    assert stored(desk, "DESK-103").step == "air_grievances"


def test_a_stale_page_cannot_act(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-103").text
    block = form_block(page, "acknowledge_feelings")
    seq, key = hidden(block, "_expected_seq"), hidden(block, "_key")
    first = desk.post(
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={"_expected_seq": seq, "_key": key, "feelings": "Tab one."},
        follow_redirects=False,
    )
    assert first.status_code == 303
    # A second tab rendered from the same state, with its own form key.
    second = desk.post(
        "/cases/DESK-103/actions/acknowledge_feelings",
        data={"_expected_seq": seq, "_key": "other-tab", "feelings": "Tab two."},
    )
    assert second.status_code == 409
    assert "Reload" in second.text and "Nothing was recorded" in second.text
    assert 'href="/cases/DESK-103"' in second.text
    assert len(stored(desk, "DESK-103").history) == 1


def test_a_double_submit_records_once(desk: TestClient) -> None:
    page = desk.get("/cases/DESK-103").text
    block = form_block(page, "acknowledge_feelings")
    data = {
        "_expected_seq": hidden(block, "_expected_seq"),
        "_key": hidden(block, "_key"),
        "feelings": "Once.",
    }
    url = "/cases/DESK-103/actions/acknowledge_feelings"
    first = desk.post(url, data=data, follow_redirects=False)
    again = desk.post(url, data=data, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(stored(desk, "DESK-103").history) == 1
    changed = desk.post(url, data={**data, "feelings": "Twice?"})
    assert changed.status_code == 409  # the same form cannot record something else
    assert len(stored(desk, "DESK-103").history) == 1


def test_add_another_item_keeps_what_was_typed(desk: TestClient, clock: FakeClock) -> None:
    for action, data in [
        ("acknowledge_feelings", {"feelings": "Upset."}),
        ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
        ("give_apology", {"statement": "Sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
    ]:
        submit(desk, "DESK-103", action, data, follow_redirects=False)
    due = local(clock.now + dt.timedelta(days=1))
    typed = {
        "agreed_with": "Mr Lee",
        "items[0].id": "a",
        "items[0].description": "First",
        "items[0].due": due,
    }
    response = submit(desk, "DESK-103", "agree_plan", {**typed, "_add": "items"})
    assert response.status_code == 200
    block = form_block(response.text, "agree_plan")
    assert 'name="items[1].id"' in block and 'name="items[2].id"' not in block
    assert 'value="Mr Lee"' in block and f'value="{due}"' in block
    assert stored(desk, "DESK-103").step == "agree"  # nothing was fired
    # The key is kept: the form is the same request, still to be sent.
    assert hidden(block, "_key") == hidden(form_block(response.text, "agree_plan"), "_key")


def test_plan_refusals_mark_the_item_field(desk: TestClient, clock: FakeClock) -> None:
    for action, data in [
        ("acknowledge_feelings", {"feelings": "Upset."}),
        ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
        ("give_apology", {"statement": "Sorry."}),
        ("give_assurance", {"commitment": "We will fix it."}),
    ]:
        submit(desk, "DESK-103", action, data, follow_redirects=False)
    past = local(clock.now - dt.timedelta(days=1))
    response = submit(
        desk,
        "DESK-103",
        "agree_plan",
        {"agreed_with": "Mr Lee", "items[0].id": "a", "items[0].description": "First", "items[0].due": past},
    )
    assert response.status_code == 409
    assert re.search(
        r'data-for="items\[0\]\.due">Each plan item needs', form_block(response.text, "agree_plan")
    )


def test_typed_times_are_read_in_the_desk_zone(tmp_path: Path, clock: FakeClock) -> None:
    with TestClient(create_app(tmp_path / "desk.db", clock=clock, zone="Europe/Berlin")) as client:
        for action, data in [
            ("acknowledge_feelings", {"feelings": "Upset."}),
            ("hear_grievances", {"points": "Late", "customer_finished": "true"}),
            ("give_apology", {"statement": "Sorry."}),
            ("reschedule", {"resume_at": "2026-01-06T12:00", "reason": "Needs a break."}),
        ]:
            assert submit(client, "DESK-103", action, data, follow_redirects=False).status_code == 303
        resume = stored(client, "DESK-103").history[-1].evidence_json["resume_at"]
        assert dt.datetime.fromisoformat(resume) == dt.datetime(2026, 1, 6, 11, 0, tzinfo=dt.UTC)
        page = client.get("/cases/DESK-103").text
        assert "2026-01-06 12:00 CET" in page
        assert "Times are shown in Europe/Berlin" in page


def test_the_agent_name_is_the_actor(desk: TestClient) -> None:
    response = desk.post("/agent", data={"agent": "ana", "next": "/cases/DESK-103"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/cases/DESK-103"
    submit(desk, "DESK-103", "acknowledge_feelings", {"feelings": "Upset."})
    assert stored(desk, "DESK-103").history[-1].actor == "ana"
    assert 'value="ana"' in desk.get("/").text
    elsewhere = desk.post("/agent", data={"agent": "ana", "next": "//evil.example/"}, follow_redirects=False)
    assert elsewhere.headers["location"] == "/"
