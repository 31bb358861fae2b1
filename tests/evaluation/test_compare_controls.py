"""`compare` rows under Continue's controls: `poly@key=primer`, `drums@density=8,polyphony=2`.

Arguments are parsed strictly and refused in the tool's own words; the rows' samples come
through Continue, so the real runs show each control kept: every note in the primer's key,
exactly N notes in every bar, never more than the cap sounding at once."""

import json

import pytest

from bridge.config import Limits, load_config
from bridge.evaluation.comparison import compare_models
from bridge.evaluation.controls import PRIMER, parse_controls
from bridge.evaluation.model_argument import model_row, split_argument
from bridge.evaluation.samples import SampleOptions
from bridge.frontends.cli import main

LIMITS = Limits()


@pytest.mark.parametrize(
    ("argument", "split"),
    [
        ("poly", ("poly", None)),
        ("poly@density=8", ("poly", "density=8")),
        ("poly@key=primer,polyphony=3", ("poly", "key=primer,polyphony=3")),
        ("~/models@v2/attention_rnn.mag", ("~/models@v2/attention_rnn.mag", None)),
        ("~/models@v2/attention_rnn.mag@density=4", ("~/models@v2/attention_rnn.mag", "density=4")),
    ],
)
def test_an_argument_is_a_model_and_the_controls_after_its_last_at(argument, split):
    assert split_argument(argument) == split


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("key=primer", {"key": PRIMER}),
        (
            "key=F#:minor,pitch_low=48,pitch_high=72",
            {"key": "F#:minor", "pitch_low": 48, "pitch_high": 72},
        ),
        ("density=8, polyphony=3", {"density": 8, "polyphony": 3}),
        ("density=8.0", {"density": 8}),
    ],
)
def test_controls_parse_as_the_continue_tool_reads_them(text, values):
    assert dict(parse_controls(text, LIMITS).values) == values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no controls after '@'"),
        ("density", "'density' is not NAME=VALUE"),
        ("density=", "is not NAME=VALUE"),
        ("tempo=120", "unknown control 'tempo'; controls: key, pitch_low, pitch_high, density"),
        ("temperature=0.5", "unknown control 'temperature'"),
        ("density=lots", "density must be a number, got 'lots'"),
        ("density=2.5", "density must be a whole number"),
        ("density=65", "density must be between 0 and 64"),
        ("polyphony=-1", "polyphony must be between 0 and 16"),
        ("pitch_low=200", "pitch_low must be between 0 and 127"),
        ("key=H:major", "unknown key 'H:major'"),
        ("density=8,density=4", "control 'density' is given twice"),
    ],
)
def test_bad_controls_are_refused_naming_what_is_wrong(text, message):
    with pytest.raises(ValueError) as refused:
        parse_controls(text, LIMITS)
    assert message in str(refused.value)


def test_a_row_is_labelled_as_written_with_its_controls():
    row = model_row("poly@key=primer,density=8", load_config(None))
    assert row.spec.name == "poly" and row.name == "poly@key=primer,density=8"
    assert dict(row.controls.values) == {"key": PRIMER, "density": 8}
    plain = model_row("poly", load_config(None))
    assert plain.name == "poly" and not plain.controls


@pytest.mark.parametrize(
    ("argument", "message"),
    [  # the continue tool's own refusals
        ("drums@key=primer", "drums: key and pitch range apply to"),
        ("drums@pitch_low=40", "not to a drums_rnn model"),
        ("folk_melody@polyphony=2", "polyphony applies to drums or polyphony models"),
        ("poly@pitch_low=70,pitch_high=60", "pitch_low (70) must not be above pitch_high (60)"),
        ("folk_melody@key=C:major,pitch_low=61,pitch_high=61", "leave no pitch"),
        ("melody_vae@density=4", "controls are Continue's"),
        ("no_such_model@density=4", "no_such_model"),
    ],
)
def test_a_model_that_cannot_take_its_controls_is_refused(argument, message):
    with pytest.raises(ValueError) as refused:
        model_row(argument, load_config(None))
    assert message in str(refused.value)


def test_compare_refuses_bad_controls_before_reading_any_music(tmp_path, capsys):
    args = ["compare", "poly", "poly@densty=8", "--data", str(tmp_path / "none")]
    assert main([*args, "--out", str(tmp_path / "out")]) == 1
    assert "unknown control 'densty'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_row_twice_is_refused(tmp_path):
    rows = [model_row("poly@density=8", load_config(None))] * 2
    with pytest.raises(ValueError, match="poly@density=8 is given twice"):
        compare_models(rows, tmp_path, tmp_path)


def test_compare_rows_keep_key_and_density_on_held_out_chorales(chorales, tmp_path, capsys):
    out = tmp_path / "report"
    rows = ["poly", "poly@key=primer", "poly@density=6"]
    data = ["--data", str(chorales / "test"), "--train", str(chorales / "train")]
    short = ["--samples", "3", "--bars", "2", "--primer-bars", "1", "--order", "3"]
    assert main(["compare", *rows, *data, "--out", str(out), *short]) == 0
    entries = json.loads((out / "results.json").read_text())["entries"]
    plain, keyed, dense = (entries[row] for row in rows)
    assert keyed["controls"] == {"key": "primer"} and dense["controls"] == {"density": 6}
    for row in (plain, keyed, dense):
        assert row["task"] == "continue" and row["samples"] == 3 and row["refused"] == 0
    # Every note of the key=primer row is in its primer's key; the plain row strays.
    assert keyed["statistics"]["in_primer_key_ratio"] == 1.0
    assert plain["statistics"]["in_primer_key_ratio"] < 1.0
    assert keyed["statistics"]["in_scale_ratio"] == 1.0 > plain["statistics"]["in_scale_ratio"]
    # Six notes begin in every bar of every sample: mean 6, no spread.
    assert dense["statistics"]["note_density"] == 6.0
    assert dense["statistics"]["note_density_sd"] == 0.0
    assert plain["statistics"]["note_density_sd"] > 0
    # Controls act while sampling: the held-out scores are the plain row's alone.
    assert plain["likelihood"]["model"]["steps"] > 0 and keyed["likelihood"] == {}
    report = (out / "report.md").read_text()
    assert "## Density, notes at once and key" in report
    assert (
        "| poly@key=primer | key=primer | " in report
        and "| poly@density=6 | density=6 | " in report
    )
    assert "continued with key=primer (each primer's estimated key)" in report


def test_drum_rows_keep_density_and_the_cap_on_notes_at_once(grooves):
    config = load_config(None)
    rows = [model_row(argument, config) for argument in ("drums", "drums@density=8,polyphony=2")]
    options = SampleOptions(count=2, primer_bars=2, bars=2)
    comparison = compare_models(
        rows, grooves / "test", grooves / "train", options, 3, teacher_forced=False
    )
    plain, capped = (entry.statistics for entry in comparison.entries[:2])
    assert comparison.entries[1].name == "drums@density=8,polyphony=2"
    assert capped["note_density"] == 8.0 and capped["note_density_sd"] == 0.0
    assert capped["max_simultaneous_notes"] <= 2 < plain["max_simultaneous_notes"]
