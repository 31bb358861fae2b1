"""`evaluate` and `compare` on Coconet: held-out NLL beside per-voice Markov chains, and the
part-writing statistics of its harmonizations beside the held-out chorales', on real Bach
chorales (music21's corpus, written to MIDI here) with the bundled model."""

import json

import numpy as np

from bridge.config import load_config
from bridge.evaluation.comparison import compare_models
from bridge.evaluation.model_argument import model_spec
from bridge.evaluation.samples import SampleOptions
from bridge.frontends.cli import main
from bridge.models.coconet.generator import read_voices, voice_pitches

SHORT = ["--samples", "3", "--bars", "2", "--primer-bars", "1"]


def test_evaluate_scores_coconet_and_its_part_writing(chorales, capsys):
    capsys.readouterr()
    assert main(["evaluate", "chorales", "--data", str(chorales / "test"), *SHORT]) == 0
    results = json.loads(capsys.readouterr().out)
    # Teacher forcing on the held-out chorales, baselines fitted on train/ (found beside).
    nll = {name: results[name]["nll"] for name in ("model", "markov", "unigram")}
    assert 0 < nll["model"] < nll["markov"] < nll["unigram"]
    assert results["model"]["harmonization_nll"] < results["markov"]["harmonization_nll"]
    samples = results["samples"]
    assert set(samples) == {"chorales", "5-gram", "held-out"}
    made, real = samples["chorales"], samples["held-out"]
    assert made["task"] == "harmonize" and made["samples"] == 3
    for row in (made, real):
        stats = row["statistics"]
        for share in ("crossing_share", "parallel_fifths_share", "parallel_octaves_share"):
            assert 0 <= stats[share] <= 1
        assert 0.8 <= stats["in_key_ratio"] <= 1
        assert stats["bass_lowest"] < stats["tenor_mean"] < stats["soprano_highest"]
    assert "crossing_share" not in samples["5-gram"]["statistics"]  # continuations: no voices


def test_harmonizations_keep_the_soprano_they_were_given(chorales):
    spec = model_spec("chorales", load_config(None))
    options = SampleOptions(count=3, primer_bars=1, bars=2)
    comparison = compare_models([spec], chorales / "test", chorales / "train", options, 3)
    coconet, _, held_out = comparison.entries
    assert len(coconet.samples.voices) == len(held_out.samples.voices) == 3
    for piece, voices in zip(comparison.pieces, coconet.samples.voices, strict=True):
        assert voices.shape == (32, 4)
        soprano = read_voices(piece.reference)[0]
        np.testing.assert_array_equal(voices[:, 0], voice_pitches([soprano], 8.0)[:, 0])
        assert not np.isnan(voices[:, 1:]).all()
    # The held-out voices are the files' tracks: soprano above bass at every step both sing.
    for voices in held_out.samples.voices:
        both = ~np.isnan(voices[:, 0]) & ~np.isnan(voices[:, 3])
        assert both.any() and (voices[both, 0] > voices[both, 3]).all()


def test_compare_reports_coconet_beside_the_polyphony_model(chorales, tmp_path, capsys):
    out = tmp_path / "report"
    data = ["--data", str(chorales / "test"), "--out", str(out)]
    assert main(["compare", "chorales", "poly", *data, *SHORT]) == 0
    report = (out / "report.md").read_text()
    assert "## Held-out likelihood (Coconet, orderless masks, per note)" in report
    assert "## Part writing (four voices)" in report
    part_writing = report.split("## Part writing (four voices)")[1].split("##")[0]
    assert "| chorales |" in part_writing and "| held-out |" in part_writing
    assert "| poly |" not in part_writing  # a continuation is not four voices
    entries = json.loads((out / "results.json").read_text())["entries"]
    assert entries["chorales"]["likelihood"]["model"]["nll"] > 0
    assert entries["poly"]["task"] == "continue"
