"""The resolveflow command, through click's runner and as a real process.

Bad input of every kind, for every command, ends in one line on stderr and exit
code 2, never a traceback; so does the command installed without its extra.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import attrs
import jsonschema
import pytest
from click.testing import CliRunner, Result

import resolveflow
from resolveflow import Action
from resolveflow.cli import main
from resolveflow.files import dump_methodology


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
    assert (code, out.strip()) == (0, "seven-as@1.1: verified, no findings")
    code, out = run("verify", "seven-as@1.0")
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
    assert code == 0 and "valid" in out and "engage@1.1" in out
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
    assert code == 2 and "invalid snapshot" in out


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
        "y",  # the customer was told what will change (prescription 1.1)
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


# --- bad input: one line on stderr, exit code 2, no traceback ------------------------------


def fails(*args: str, stdin: str | None = None, code: int = 2) -> str:
    """Run a command that must fail; return its one line of stderr."""
    result: Result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


COMMANDS_WITH_A_METHODOLOGY = [
    ("show",),
    ("diagram",),
    ("diagram", "--format", "dot"),
    ("verify",),
    ("verify", "--json"),
    ("play",),
]


def _broken_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "yaml syntax": ("bad.yaml", "resolveflow: 1\nid: [unclosed\ntitle: x\n"),
        "yaml content": ("content.yaml", "resolveflow: 1\nid: [x]\n"),
        "toml syntax": ("bad.toml", "resolveflow = 1\nid = \n"),
        "json syntax": ("bad.json", '{"resolveflow": 1,'),
        "not utf-8": ("latin.yaml", None),
        "empty": ("empty.json", ""),
    }
    out = {}
    for kind, (name, text) in files.items():
        path = tmp_path / name
        if text is None:
            path.write_bytes(b"resolveflow: 1\nid: caf\xe9\n")
        else:
            path.write_text(text, encoding="utf-8")
        out[kind] = path
    return out


@pytest.mark.parametrize("command", COMMANDS_WITH_A_METHODOLOGY, ids=" ".join)
def test_a_missing_file(command: tuple[str, ...], tmp_path: Path) -> None:
    line = fails(command[0], str(tmp_path / "missing.yaml"), *command[1:], stdin="q\n")
    assert line == f"resolveflow {command[0]}: no such file: {tmp_path / 'missing.yaml'}"


@pytest.mark.parametrize("command", [*COMMANDS_WITH_A_METHODOLOGY, ("validate",)], ids=" ".join)
def test_a_file_of_an_unknown_kind(command: tuple[str, ...], tmp_path: Path) -> None:
    text = tmp_path / "m.txt"
    text.write_text("resolveflow: 1\n", encoding="utf-8")
    line = fails(command[0], str(text), *command[1:], stdin="q\n")
    assert line.startswith(f"resolveflow {command[0]}: ")
    assert "cannot tell the format" in line and ".yaml, .yml, .toml, .json" in line


@pytest.mark.parametrize("command", [*COMMANDS_WITH_A_METHODOLOGY, ("validate",)], ids=" ".join)
def test_a_folder_instead_of_a_file(command: tuple[str, ...], tmp_path: Path) -> None:
    folder = tmp_path / "flows.yaml"
    folder.mkdir()
    line = fails(command[0], str(folder), *command[1:], stdin="q\n")
    assert "is a folder" in line or "is a directory" in line


@pytest.mark.parametrize("command", COMMANDS_WITH_A_METHODOLOGY, ids=" ".join)
def test_a_malformed_file(command: tuple[str, ...], tmp_path: Path) -> None:
    for kind, path in _broken_files(tmp_path).items():
        line = fails(command[0], str(path), *command[1:], stdin="q\n")
        assert line.startswith(f"resolveflow {command[0]}: {path}"), (kind, line)


def test_validate_reports_a_malformed_file_on_one_line_with_exit_1(tmp_path: Path) -> None:
    # Finding what is wrong with a file is validate's job: a finding, exit 1, not an error.
    for kind, path in _broken_files(tmp_path).items():
        line = fails("validate", str(path), code=1)
        assert line.startswith(str(path)), (kind, line)


def test_a_yaml_syntax_error_keeps_its_line_and_column(tmp_path: Path) -> None:
    line = fails("show", str(_broken_files(tmp_path)["yaml syntax"]))
    assert "bad.yaml:3:" in line or "bad.yaml:2:" in line


@pytest.mark.parametrize("command", COMMANDS_WITH_A_METHODOLOGY, ids=" ".join)
def test_an_unknown_methodology_or_version(command: tuple[str, ...]) -> None:
    line = fails(command[0], "seven-bs", *command[1:])
    assert line.startswith(f"resolveflow {command[0]}: unknown methodology 'seven-bs'; available: ")
    assert "seven-as" in line
    line = fails(command[0], "seven-as@9.9", *command[1:])
    assert (
        line == f"resolveflow {command[0]}: methodology 'seven-as' has no version '9.9'; versions: 1.0, 1.1"
    )
    line = fails(command[0], "[bold]x[/bold]", *command[1:])
    assert "'[bold]x[/bold]'" in line


@pytest.fixture
def marked(tmp_path: Path) -> Iterator[Path]:
    """A methodology whose texts look like rich markup and emoji codes, as a file and registered."""
    m = resolveflow.get_methodology("engage")
    first = attrs.evolve(
        m.steps[0], title="Hear [/] them :smile:", prompts=("Say [b]hi[/b]",), checklist=("[red]noted",)
    )
    odd = attrs.evolve(
        m,
        id="marked",
        title="Engage [/bold] them",
        description="A [link=x]description[/link]",
        source="[/]",
        steps=(first, *m.steps[1:]),
        outcomes=tuple(attrs.evolve(o, title=f"{o.title} [/i]") for o in m.outcomes),
    )
    path = tmp_path / "marked.yaml"
    dump_methodology(odd, path)
    resolveflow.register(odd)
    try:
        yield path
    finally:
        resolveflow.unregister("marked", odd.version, forget=True)


def test_markup_in_titles_and_guidance_is_printed_as_written(marked: Path) -> None:
    for reference in (str(marked), "marked"):
        code, out = run("show", reference)
        assert code == 0, out
        for text in ("Engage [/bold] them", "Hear [/] them :smile:", "Say [b]hi[/b]", "[ ] [red]noted"):
            assert text in out
        assert "A [link=x]description[/link]" in out and "source: [/]" in out
        assert "[/i]" in out
    code, out = run("list")
    assert code == 0 and "Engage [/bold] them" in out
    code, out = run("play", str(marked), stdin="q\n")
    assert code == 0 and "Engage [/bold] them — a training walk" in out and "Hear [/] them :smile:" in out
    assert run("verify", str(marked))[0] == 0
    assert run("diagram", str(marked))[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ("nope",),
        ("--bogus",),
        ("list", "extra"),
        ("show",),
        ("show", "a", "b"),
        ("diagram", "engage", "--format", "png"),
        ("diagram", "engage", "--case", "/no/such/case.json"),
        ("diagram", "engage", "--output"),
        ("validate",),
        ("verify", "engage", "--yaml"),
        ("schema", "--pretty"),
        ("play",),
        ("play", "engage", "--actor"),
        ("report",),
    ],
    ids=" ".join,
)
def test_bad_options(args: tuple[str, ...]) -> None:
    line = fails(*args)
    assert line.startswith("resolveflow") and line.endswith("-h')"), line


def test_bad_values_for_play_and_diagram(tmp_path: Path) -> None:
    line = fails("play", "engage", "--case-id", " ")
    assert line.startswith("resolveflow play: ") and "case_id" in line
    line = fails("play", "engage", "--save", str(tmp_path / "no" / "such" / "walk.json"), stdin="q\n")
    assert line.startswith("resolveflow play: ") and "walk.json" in line
    line = fails("diagram", "engage", "-o", str(tmp_path / "no" / "such" / "d.mmd"))
    assert line.startswith("resolveflow diagram: ") and "d.mmd" in line
    snapshot = tmp_path / "other.json"
    snapshot.write_text(json.dumps(resolveflow.open_case("engage", case_id="E").snapshot()), encoding="utf-8")
    line = fails("diagram", "prescription", "--case", str(snapshot))
    assert line.startswith("resolveflow diagram: ") and "engage@1.1" in line


def test_report_on_a_bad_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    assert fails("report", str(missing)) == f"resolveflow report: no such database file: {missing}"
    assert not missing.exists()
    other = tmp_path / "other.db"
    other.write_text("not a database, just text\n", encoding="utf-8")
    assert "cannot read the cases" in fails("report", str(other))
    assert "cannot open nosuch://x" in fails("report", "nosuch://x")
    line = fails("report", "postgresql://someone:s3cret@127.0.0.1:1/cases")
    assert "s3cret" not in line and "someone:***@" in line


def test_report_chart_must_be_svg(tmp_path: Path) -> None:
    import resolveflow.store

    db = tmp_path / "cases.db"
    store = resolveflow.store.connect(str(db))
    store.create_schema()
    store.close()
    line = fails("report", str(db), "--chart", str(tmp_path / "chart.png"))
    assert line.startswith("resolveflow report: ") and ".svg" in line


# --- installed without the extra: one line naming it ---------------------------------------

BLOCKER = """
import sys

BLOCKED = {blocked!r}


class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _Blocked())
"""


def run_without(blocked: set[str], args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed command in a process where the modules in ``blocked`` cannot be imported."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(textwrap.dedent(BLOCKER.format(blocked=blocked)), encoding="utf-8")
    source = str(Path(resolveflow.__file__).parents[1])
    inherited = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site), source, inherited) if p)}
    exe = Path(sys.executable).with_name("resolveflow")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=60, check=False, env=env, cwd=tmp_path
    )


@pytest.mark.parametrize("blocked", ["click", "rich"])
def test_without_the_cli_extra_the_command_says_what_to_install(blocked: str, tmp_path: Path) -> None:
    result = run_without({blocked}, ["list"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "resolveflow: the command needs the cli extra: pip install 'resolveflow[cli]'"
    ]
    assert result.stdout == ""


def test_without_the_sql_extra_report_says_what_to_install(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    db.write_bytes(b"")
    result = run_without({"sqlalchemy"}, ["report", str(db)], tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "resolveflow report: the command needs the sql extra: pip install 'resolveflow[cli,sql]'"
    ]
    # The rest of the command works without it.
    result = run_without({"sqlalchemy"}, ["verify", "engage"], tmp_path)
    assert result.returncode == 0, result.stderr


def test_without_pyyaml_a_yaml_file_names_the_files_extra(tmp_path: Path) -> None:
    path = tmp_path / "engage.yaml"
    dump_methodology(resolveflow.get_methodology("engage"), path)
    result = run_without({"yaml"}, ["show", str(path)], tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "resolveflow show: the command needs the files extra: pip install 'resolveflow[cli,files]'"
    ]
