"""Escalations declared in methodology files: validated by the schema, built, written back, digest-neutral."""

from __future__ import annotations

import datetime as dt

import pytest

from resolveflow._escalation import Escalation
from resolveflow.exceptions import InvalidMethodologyFile
from resolveflow.files import definition_digest, methodology_from_text, methodology_to_dict

HEAD = """
resolveflow = 1
id = "escalating-file"
version = "1.0"
title = "Escalating"
source = "A methodology made up for a test."
initial = "open"
required_steps = ["open"]
roles = ["supervisor"]

[records.nudge]
title = "Nudge"

[records.nudge.fields]
note = { type = "text", title = "Note", max_length = 1000 }

[[steps]]
id = "open"
title = "Open"

[[outcomes]]
id = "done"
title = "Done"
successful = true

[[actions]]
name = "agree_plan"
title = "Plan"
sources = ["open"]
target = "open"
evidence = "plan"

[[actions]]
name = "escalate"
title = "Escalate"
sources = ["open"]
target = "open"
evidence = "nudge"

[[actions.guards]]
kind = "has_role"
role = "supervisor"

[[actions]]
name = "close"
title = "Close"
sources = ["open"]
target = "done"
"""

ESCALATION = """
[[escalations]]
kind = "plan_item"
action = "escalate"
role = "supervisor"
grace = { hours = 4, minutes = 30 }
evidence = { note = "The plan item is late." }
"""


def test_a_file_declares_an_escalation() -> None:
    methodology = methodology_from_text(HEAD + ESCALATION, "toml")
    assert methodology.escalations == (
        Escalation(
            kind="plan_item",
            action="escalate",
            role="supervisor",
            grace=dt.timedelta(hours=4, minutes=30),
            evidence={"note": "The plan item is late."},
        ),
    )
    written = methodology_to_dict(methodology)
    assert written["escalations"] == [
        {
            "kind": "plan_item",
            "action": "escalate",
            "role": "supervisor",
            "grace": {"hours": 4, "minutes": 30},
            "evidence": {"note": "The plan item is late."},
        }
    ]
    from resolveflow.files import methodology_from_dict

    assert methodology_from_dict(written).escalations == methodology.escalations
    # Operating policy: the digest is that of the same file without it.
    assert definition_digest(methodology) == definition_digest(methodology_from_text(HEAD, "toml"))


@pytest.mark.parametrize(
    ("escalation", "words"),
    [
        ('[[escalations]]\naction = "escalate"\n', "role"),
        ('[[escalations]]\naction = "escalate"\nrole = ""\n', "role"),
        ('[[escalations]]\naction = "escalate"\nrole = "supervisor"\nwhen = 1\n', "when"),
        ('[[escalations]]\naction = "nope"\nrole = "supervisor"\n', "nope"),
        ('[[escalations]]\naction = "escalate"\nrole = "manager"\n', "manager"),
        (
            '[[escalations]]\naction = "escalate"\nrole = "supervisor"\ngrace = { hours = -1 }\n',
            "escalations",
        ),
        (
            '[[escalations]]\naction = "escalate"\nrole = "supervisor"\ngrace = { days = 366, hours = 1 }\n',
            "grace",
        ),
        ('[[escalations]]\naction = "escalate"\nrole = "supervisor"\nkind = "Plan"\n', "kind"),
    ],
)
def test_bad_escalations_in_a_file_are_refused_naming_them(escalation: str, words: str) -> None:
    with pytest.raises(InvalidMethodologyFile, match=words):
        methodology_from_text(HEAD + escalation, "toml")
