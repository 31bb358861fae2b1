"""MelodyRNN's generator on real clips: shapes, placement, key lock and clear errors."""

from pathlib import Path

import pytest
import torch

from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.generation import Continuation
from bridge.models.melody_rnn import generator
from bridge.models.melody_rnn.checkpoint import build_network, save_native
from bridge.models.melody_rnn.config import CONFIGS
from bridge.models.melody_rnn.model import MelodyRnn
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.scales import parse_key

FOLK_TUNE = Path(__file__).parents[3] / "examples" / "folk_melody.mid"
BASIC_RNN = Path(__file__).parents[2] / "fixtures" / "melody_rnn" / "basic_rnn.mag"


def continue_clip(model: MelodyRnn, continuation: Continuation) -> list[Clip]:
    """One continuation, read first as the Continue tool does before accepting it."""
    generator.read(continuation)
    (clips,) = generator.continue_clips(model, [continuation], None)
    return clips


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> MelodyRnn:
    """An attention_rnn with random weights, saved and loaded through the native format."""
    torch.manual_seed(0)
    network = build_network(CONFIGS["attention_rnn"])
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0, 0.2)
    path = save_native(CONFIGS["attention_rnn"], network, tmp_path_factory.mktemp("m") / "rnd")
    return MelodyRnn.load(path, "cpu")


def test_continuations_have_the_asked_shape(model):
    clip = read_midi(FOLK_TUNE)
    request = Continuation(clip, bars=2, variations=3, sampling=SamplingOptions(seed=1))
    results = continue_clip(model, request)
    assert len(results) == 3
    for result in results:
        assert result.length == 2 * clip.beats_per_bar
        assert result.qpm == clip.qpm and result.time_signature == clip.time_signature
        assert all(0 <= n.start < result.length for n in result.notes)
    assert continue_clip(model, request) == results, "same seed, same result"


def test_key_lock_and_pitch_range_hold(model):
    clip = read_midi(FOLK_TUNE)
    key = parse_key("D:minor")
    request = Continuation(
        clip,
        bars=4,
        variations=4,
        key=key,
        pitch_range=(60, 76),
        sampling=SamplingOptions(temperature=1.5, seed=2),
    )
    notes = [n for result in continue_clip(model, request) for n in result.notes]
    assert notes, "a random model at high temperature still plays notes"
    assert all(n.pitch % 12 in key.pitch_classes and 60 <= n.pitch <= 76 for n in notes)


def test_bad_continuations_name_the_problem(model):
    clip = read_midi(FOLK_TUNE)
    with pytest.raises(ClipError, match="variations must be a whole number of at least 1"):
        continue_clip(model, Continuation(clip, variations=0))
    muted = Clip.from_notes([Note(60, 0, 1, 100, mute=True)])
    with pytest.raises(ClipError, match="no usable melody"):
        continue_clip(model, Continuation(muted))
    with pytest.raises(ClipError, match="leave no pitch"):
        continue_clip(model, Continuation(clip, key=parse_key("C:major"), pitch_range=(61, 61)))


def test_a_clip_ending_short_of_the_bar_continues_from_the_bar_line(model):
    tune = read_midi(FOLK_TUNE)  # 8 bars of 4/4
    notes = tuple(note for note in tune.notes if note.end <= 30.0)
    sampling = SamplingOptions(seed=2)
    short, whole = (
        Continuation(Clip(notes, length, tune.qpm), bars=2, variations=3, sampling=sampling)
        for length in (30.5, 32.0)
    )
    results = continue_clip(model, short)
    assert results == continue_clip(model, whole)
    assert all(result.length == 8.0 for result in results)


def test_a_greedy_magenta_bundle_holds_the_last_note_or_rests():
    """Magenta's briefly trained basic_rnn, nearly greedy, only ever holds on: the tune's last
    note, sounding to the end, goes on from beat 0; after a rest it writes nothing."""
    basic = MelodyRnn.load(BASIC_RNN, "cpu")
    tune = read_midi(FOLK_TUNE)
    assert tune.notes[-1].pitch == 65 and tune.notes[-1].end == tune.length
    greedy = SamplingOptions(temperature=0.01, seed=1)
    for result in continue_clip(basic, Continuation(tune, 2, 2, greedy)):
        assert result.notes == (Note(65, 0.0, 8.0, 100),)
    rest = Clip(tuple(note for note in tune.notes if note.end <= 28.0), tune.length, tune.qpm)
    results = continue_clip(basic, Continuation(rest, 2, 2, greedy))
    assert [(result.notes, result.length) for result in results] == [((), 8.0)] * 2
