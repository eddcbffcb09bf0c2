"""The resolveflow command, through click's runner and as a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import jsonschema
import pytest
from click.testing import CliRunner

import resolveflow
from resolveflow import Action
from resolveflow._files import dump_methodology
from resolveflow.cli import main


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def leaky(tmp_path: Path) -> Path:
    m = resolveflow.get_methodology("prescription")
    shortcut = Action(name="skip_prevention", sources="remedy_now", target="resolved", title="Skip")
    path = tmp_path / "leaky.yaml"
    dump_methodology(attrs.evolve(m, id="leaky", actions=(*m.actions, shortcut)), path)
    return path


def test_list_shows_every_methodology() -> None:
    code, out = run("list")
    assert code == 0
    for methodology_id in resolveflow.available():
        assert methodology_id in out


def test_show_prints_guidance_actions_and_guards() -> None:
    code, out = run("show", "seven-as")
    assert code == 0
    m = resolveflow.get_methodology("seven-as")
    for step in m.steps:
        assert step.id in out and step.prompts[0] in out
    for action in m.actions:
        assert action.name in out
    assert "guard all_plan_items_done" in out


def test_show_unknown_id_exits_2_with_the_ids() -> None:
    code, out = run("show", "seven-bs")
    assert code == 2
    assert "seven-as" in out and "unknown methodology" in out


def test_show_with_version_suffix() -> None:
    code, out = run("show", "engage@1.0")
    assert code == 0 and "engage@1.0" in out
    code, out = run("show", "engage@9.9")
    assert code == 2 and "no version '9.9'" in out


def test_verify_ok_and_json() -> None:
    code, out = run("verify", "seven-as")
    assert (code, out.strip()) == (0, "seven-as@1.0: verified, no findings")
    code, out = run("verify", "engage", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_verify_a_file_with_a_shortcut_exits_1_with_the_path(tmp_path: Path) -> None:
    code, out = run("verify", str(leaky(tmp_path)))
    assert code == 1
    assert "required_step_skippable" in out
    assert "remedy_now --skip_prevention--> resolved" in out


def test_validate(tmp_path: Path) -> None:
    good = tmp_path / "engage.yaml"
    dump_methodology(resolveflow.get_methodology("engage"), good)
    code, out = run("validate", str(good))
    assert code == 0 and "valid" in out and "engage@1.0" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        good.read_text(encoding="utf-8").replace("target: resolved", "target: nowhere"), encoding="utf-8"
    )
    code, out = run("validate", str(bad))
    assert code == 1
    assert "bad.yaml:" in out and "nowhere" in out
    code, out = run("validate", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such file" in out


def test_schema_is_a_json_schema() -> None:
    code, out = run("schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_diagram_text_formats(fmt: str, tmp_path: Path) -> None:
    code, out = run("diagram", "prescription", "--format", fmt)
    assert code == 0
    assert ("stateDiagram-v2" in out) if fmt == "mermaid" else out.lstrip().startswith("digraph")
    target = tmp_path / f"d.{fmt}"
    code, out = run("diagram", "prescription", "--format", fmt, "-o", str(target))
    assert code == 0 and target.read_text(encoding="utf-8").strip()


# Under CI=true a missing Graphviz fails the test instead of skipping it.
@pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz's dot is not installed (scripts/test installs it)",
)
def test_diagram_svg_with_a_case(tmp_path: Path) -> None:
    case = resolveflow.open_case("prescription", case_id="D-1")
    case.fire(
        "acknowledge_problem", {"customer_perspective": "late", "accepts_accountability": True}, actor="a"
    )
    snapshot = tmp_path / "case.json"
    snapshot.write_text(json.dumps(case.snapshot()), encoding="utf-8")
    code, out = run("diagram", "prescription", "--format", "svg", "--case", str(snapshot))
    assert code == 0
    root = ET.fromstring(out)
    assert root.tag.endswith("svg")
    assert "remedy_now" in out


def test_diagram_with_a_bad_snapshot(tmp_path: Path) -> None:
    broken = tmp_path / "case.json"
    broken.write_text("{not json", encoding="utf-8")
    code, out = run("diagram", "prescription", "--case", str(broken))
    assert code == 2 and "not a JSON snapshot" in out
    forged = tmp_path / "forged.json"
    snap = resolveflow.open_case("prescription", case_id="F").snapshot()
    snap["step"] = "resolved"
    forged.write_text(json.dumps(snap), encoding="utf-8")
    code, out = run("diagram", "prescription", "--case", str(forged))
    assert code == 1 and "invalid snapshot" in out


PRESCRIPTION_WALK = "\n".join(
    [
        "1",  # acknowledge_problem
        "Billed twice in March",
        "n",  # accountability not accepted: refused, explained
        "acknowledge_problem",
        "Billed twice in March",
        "y",
        "1",  # remedy
        "Credit issued",
        "now",
        "1",  # commit_prevention
        "system_fix",
        "Deduplicate invoices",
        "",
    ]
)


def test_play_walks_to_the_outcome_explaining_refusals(tmp_path: Path) -> None:
    save = tmp_path / "walk.json"
    code, out = run(
        "play", "prescription", "--actor", "trainee-7", "--save", str(save), stdin=PRESCRIPTION_WALK
    )
    assert code == 0, out
    assert "acknowledge_problem refused" in out
    assert "[accountability_accepted]" in out
    assert "Closed: Resolved" in out
    restored = resolveflow.restore(json.loads(save.read_text(encoding="utf-8")))
    assert restored.outcome is not None and restored.outcome.id == "resolved"
    assert {e.actor for e in restored.history} == {"trainee-7"}


def test_play_explains_invalid_evidence_and_quits() -> None:
    walk = "\n".join(["1", "Late", "y", "1", "Credit", "yesterday-ish", "q", ""])
    code, out = run("play", "prescription", stdin=walk)
    assert code == 0
    assert "is not valid" in out and "taken_at" in out
    assert "Closed" not in out


def test_play_rejects_unknown_choices() -> None:
    code, out = run("play", "engage", stdin="7\nfly\nq\n")
    assert code == 0
    assert "'7' is not one of" in out and "'fly' is not one of" in out


def test_report_on_a_sqlite_store(tmp_path: Path) -> None:
    import resolveflow.store

    db = tmp_path / "cases.db"
    store = resolveflow.store.connect(str(db))
    store.create_schema()
    store.open_case("prescription", case_id="R-1")
    store.fire(
        "R-1",
        "acknowledge_problem",
        {"customer_perspective": "late", "accepts_accountability": True},
        actor="a",
    )
    store.close()
    chart = tmp_path / "time.svg"
    code, out = run("report", str(db), "--chart", str(chart))
    assert code == 0, out
    assert "prescription" in out
    ET.fromstring(chart.read_text(encoding="utf-8"))


def test_the_installed_command_runs_as_a_process() -> None:
    exe = Path(sys.executable).with_name("resolveflow")
    result = subprocess.run(
        [str(exe), "play", "prescription"],
        input=PRESCRIPTION_WALK,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Closed: Resolved" in result.stdout
