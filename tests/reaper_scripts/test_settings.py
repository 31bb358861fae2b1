"""The Settings action: REAPER's GetUserInputs dialog, checked answers, ExtState."""

from __future__ import annotations

import pytest
from reaper_project import LUA, REPO, SECTION, Project, run_action

pytestmark = pytest.mark.skipif(LUA is None, reason="lua5.4 missing (setup.sh installs it)")

FIELDS = [
    "model",
    "temperature",
    "variations",
    "bars",
    "steps",
    "gibbs_steps",
    "key",
    "seed",
    "executable",
    "port",
    "timeout",
]
DEFAULTS = ["", "", "4", "4", "3", "", "auto", "", "", "", "60"]


def test_the_dialog_shows_the_defaults_and_stores_the_answer(tmp_path):
    answer = ["drum_vae", "0.8", "6", "2", "5", "16", "D:dorian", "42", str(REPO / "README.md")]
    answer.append("11301")
    answer.append(" 30 ")  # spaces around a value are dropped
    result = run_action(Project(tracks=[], answers=[answer]), "Settings", tmp_path)
    assert result["errors"] == [] and result["messages"] == []
    (prompt,) = result["prompts"]
    assert prompt["title"] == "Magenta Bridge settings"
    assert len(prompt["captions"]) == len(FIELDS)
    assert prompt["values"] == DEFAULTS
    stored = result["extstate"][SECTION]
    assert [stored[key] for key in FIELDS] == [*answer[:-1], "30"]


def test_bad_answers_are_named_and_asked_again_with_the_users_text_kept(tmp_path):
    bad = ["", "hot", "0", "4", "1", "0", "auto", "-3", "", "", "60"]
    good = ["", "0.5", "2", "4", "2", "8", "off", "", "", "", "60"]
    project = Project(tracks=[], settings={"bars": "8"}, answers=[bad, good])
    result = run_action(project, "Settings", tmp_path)
    first, second = result["prompts"]
    assert first["values"][3] == "8"  # what is stored is shown
    assert second["values"] == bad
    (message,) = result["messages"]
    assert message["message"].splitlines()[2:] == [
        "temperature must be a number from 0.01 to 10 (got 'hot')",
        "variations must be a whole number from 1 to 64 (got '0')",
        "steps must be a whole number from 2 to 64 (got '1')",
        "gibbs_steps must be a whole number from 1 to 16384 (got '0')",
        "seed must be a whole number from 0 to 2147483647 (got '-3')",
    ]
    assert [result["extstate"][SECTION][key] for key in FIELDS] == good


def test_cancel_keeps_the_settings(tmp_path):
    project = Project(tracks=[], settings={"variations": "9"}, answers=[None])
    result = run_action(project, "Settings", tmp_path)
    assert len(result["prompts"]) == 1 and result["messages"] == []
    assert result["extstate"][SECTION] == {"variations": "9"}


def test_the_dialog_lists_the_daemons_models_and_refuses_others(settings, tmp_path):
    answer = ["nonesuch", "", "4", "4", "3", "", "auto", "7", settings["executable"]]
    answer += [settings["port"], "60"]
    fixed = ["drums", *answer[1:]]
    project = Project(tracks=[], settings=settings, answers=[answer, fixed])
    result = run_action(project, "Settings", tmp_path)
    assert result["errors"] == []
    first, _ = result["prompts"]
    served = "folk, drums, melody_vae, drum_vae, drumify, humanize, chorales"
    assert first["title"] == f"Magenta Bridge settings (models: {served})"
    (message,) = result["messages"]
    assert message["message"].splitlines()[2:] == [
        f"model must be one the daemon serves: {served} (got 'nonesuch')"
    ]
    assert result["extstate"][SECTION]["model"] == "drums"
    (asked,) = result["executed"]
    assert asked.endswith("models --reload")  # models fetched since it started are listed too
