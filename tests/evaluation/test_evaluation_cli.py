"""`evaluate` and `compare` end to end on real held-out tunes and grooves, with the bundled
models and models made by Google's magenta (the parity fixtures)."""

import json
from pathlib import Path

from bridge.frontends.cli import main

REPO = Path(__file__).resolve().parents[2]
FOLK_MODEL = REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"
MAGENTA_MELODY = REPO / "tests" / "fixtures" / "melody_rnn" / "attention_rnn.mag"
PNG = b"\x89PNG\r\n\x1a\n"


def _evaluate(capsys, *args):
    capsys.readouterr()
    assert main(["evaluate", *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_scores_a_model_and_its_samples_beside_the_baseline(folk_midi, capsys):
    args = (FOLK_MODEL, "--data", folk_midi / "test", "--samples", 4, "--orders", "2,3")
    results = _evaluate(capsys, *args)
    # Teacher forcing on the held-out tunes, beside n-grams fitted on train/ (found beside).
    assert results["model"]["steps"] == results["3-gram"]["steps"] > 0
    assert results["model"]["event_nll_per_step"] < results["2-gram"]["nll_per_step"]
    samples = results["samples"]
    assert set(samples) == {"folk_attention_rnn", "3-gram", "held-out"}
    assert len(results["held_out_pieces"]) == 4
    for row in samples.values():
        assert row["samples"] == 4
        assert 0 <= row["statistics"]["pitch_class_distance"] <= 1
        assert 0.5 <= row["statistics"]["in_scale_ratio"] <= 1
    assert samples["folk_attention_rnn"]["task"] == "continue"
    assert _evaluate(capsys, *args) == results  # the same seed, the same numbers


def test_compare_writes_a_report_with_figures_and_audio(folk_midi, tmp_path, capsys):
    out = tmp_path / "report"
    models = ["folk_melody", str(MAGENTA_MELODY), "melody_vae"]
    data = ["--data", str(folk_midi / "test"), "--train", str(folk_midi / "train")]
    assert main(["compare", *models, *data, "--out", str(out), "--samples", "4", "--render"]) == 0
    report = (out / "report.md").read_text()
    for row in ("folk_melody", "attention_rnn", "melody_vae", "5-gram", "held-out"):
        assert f"| {row} |" in report
    assert "## Interpolation smoothness" in report and "| melody_vae | 0." in report
    for figure in ("metrics.png", "histograms.png", "piano_rolls.png"):
        assert (out / figure).read_bytes().startswith(PNG)
        assert f"]({figure})" in report
    results = json.loads((out / "results.json").read_text())
    entries = results["entries"]
    assert entries["melody_vae"]["task"] == "generate"
    assert entries["melody_vae"]["likelihood"]["test_windows"] > 0
    assert entries["attention_rnn"]["likelihood"]["model"]["steps"] > 0
    assert entries["held-out"]["statistics"]["pitch_class_distance"] >= 0
    wavs = sorted((out / "audio").glob("*.wav"))  # real FluidSynth, as setup.sh installs it
    assert len(wavs) == 5 * 4 and "audio/folk_melody-1.wav" in report
    assert all(wav.read_bytes().startswith(b"RIFF") for wav in wavs)


def test_evaluate_drumify_on_grooves(grooves, capsys):
    results = _evaluate(capsys, "drumify", "--data", grooves / "test", "--samples", 2)
    assert results["config"] == "groovae_2bar_tap_fixed_velocity"
    assert 0 <= results["greedy_hit_f1"] <= 1
    drumified = results["samples"]["drumify"]
    assert drumified["task"] == "drumify" and drumified["samples"] == 2
    assert drumified["statistics"]["pitch_range"] is None  # drums have no pitch range (NaN)
    assert results["samples"]["5-gram"]["task"] == "continue"


def test_compare_refuses_models_of_different_music(folk_midi, tmp_path, capsys):
    args = ["compare", "folk_melody", "drums", "--data", str(folk_midi / "test")]
    assert main([*args, "--out", str(tmp_path)]) == 1
    assert "one kind of music" in capsys.readouterr().err
