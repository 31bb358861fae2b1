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
# The second page: the controls some tools take (bridge/tools/registry.py).
CONTROLS = [
    "pitch_low",
    "pitch_high",
    "density",
    "polyphony",
    "distance",
    "mode",
    "keep_hits",
    "backbone",
]
CONTROL_DEFAULTS = ["", "", "0", "0", "", "spherical", "yes", "yes"]


def test_the_dialog_shows_the_defaults_and_stores_the_answer(tmp_path):
    answer = ["drum_vae", "0.8", "6", "2", "5", "16", "D:dorian", "42", str(REPO / "README.md")]
    answer.append("11301")
    answer.append(" 30 ")  # spaces around a value are dropped
    controls = ["36", "84", "4", "2", "1.5", "Linear", "no", "NO"]
    result = run_action(Project(tracks=[], answers=[answer, controls]), "Settings", tmp_path)
    assert result["errors"] == [] and result["messages"] == []
    prompt, second = result["prompts"]
    assert prompt["title"] == "Magenta Bridge settings"
    assert len(prompt["captions"]) == len(FIELDS)
    assert prompt["values"] == DEFAULTS
    assert second["title"] == "Magenta Bridge settings: tool controls"
    assert len(second["captions"]) == len(CONTROLS)
    assert second["values"] == CONTROL_DEFAULTS
    stored = result["extstate"][SECTION]
    assert [stored[key] for key in FIELDS] == [*answer[:-1], "30"]
    assert [stored[key] for key in CONTROLS] == controls  # as typed; checked case-blind


def test_bad_answers_are_named_and_asked_again_with_the_users_text_kept(tmp_path):
    bad = ["", "hot", "0", "4", "1", "0", "auto", "-3", "", "", "60"]
    good = ["", "0.5", "2", "4", "2", "8", "off", "", "", "", "60"]
    bad_controls = ["90", "60", "65", "1.5", "5", "cubic", "maybe", "yes"]
    good_controls = ["40", "90", "0", "3", "", "linear", "yes", "no"]
    project = Project(
        tracks=[],
        settings={"bars": "8", "density": "2"},
        answers=[bad, good, bad_controls, good_controls],
    )
    result = run_action(project, "Settings", tmp_path)
    first, second, third, fourth = result["prompts"]
    assert first["values"][3] == "8"  # what is stored is shown
    assert second["values"] == bad
    assert third["values"][2] == "2"
    assert fourth["values"] == bad_controls
    page_one, page_two = result["messages"]
    assert page_one["message"].splitlines()[2:] == [
        "temperature must be a number from 0.01 to 10 (got 'hot')",
        "variations must be a whole number from 1 to 64 (got '0')",
        "steps must be a whole number from 2 to 64 (got '1')",
        "gibbs_steps must be a whole number from 1 to 16384 (got '0')",
        "seed must be a whole number from 0 to 2147483647 (got '-3')",
    ]
    assert page_two["message"].splitlines()[2:] == [
        "density must be a whole number from 0 to 64 (got '65')",
        "polyphony must be a whole number from 0 to 16 (got '1.5')",
        "distance must be a number from 0 to 4 (got '5')",
        "mode must be spherical or linear (got 'cubic')",
        "keep_hits must be yes or no (got 'maybe')",
        "pitch_low must not be above pitch_high (got 90 and 60)",
    ]
    assert [result["extstate"][SECTION][key] for key in FIELDS] == good
    assert [result["extstate"][SECTION][key] for key in CONTROLS] == good_controls


def test_cancel_keeps_the_settings(tmp_path):
    project = Project(tracks=[], settings={"variations": "9"}, answers=[None])
    result = run_action(project, "Settings", tmp_path)
    assert len(result["prompts"]) == 1 and result["messages"] == []
    assert result["extstate"][SECTION] == {"variations": "9"}


def test_cancel_on_the_second_page_keeps_its_settings_and_the_first_pages_answer(tmp_path):
    answer = [*DEFAULTS[:2], "6", *DEFAULTS[3:]]
    project = Project(tracks=[], settings={"density": "8"}, answers=[answer, None])
    result = run_action(project, "Settings", tmp_path)
    assert len(result["prompts"]) == 2 and result["messages"] == []
    stored = result["extstate"][SECTION]
    assert stored["variations"] == "6" and stored["density"] == "8"
    assert not set(CONTROLS) - {"density"} & set(stored)


def test_the_dialog_lists_the_daemons_models_and_refuses_others(settings, tmp_path):
    answer = ["nonesuch", "", "4", "4", "3", "", "auto", "7", settings["executable"]]
    answer += [settings["port"], "60"]
    fixed = ["drums", *answer[1:]]
    project = Project(tracks=[], settings=settings, answers=[answer, fixed, None])
    result = run_action(project, "Settings", tmp_path)
    assert result["errors"] == []
    first, _, controls = result["prompts"]
    assert controls["title"] == "Magenta Bridge settings: tool controls"  # no models there
    served = "folk, drums, melody_vae, drum_vae, drumify, humanize, chorales"
    assert first["title"] == f"Magenta Bridge settings (models: {served})"
    (message,) = result["messages"]
    assert message["message"].splitlines()[2:] == [
        f"model must be one the daemon serves: {served} (got 'nonesuch')"
    ]
    assert result["extstate"][SECTION]["model"] == "drums"
    (asked,) = result["executed"]
    assert asked.endswith("models --reload")  # models fetched since it started are listed too
