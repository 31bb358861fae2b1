"""The Continue tool's checks, before any model runs: counts and limits by its parameter table,
then what a model's family or backend cannot honour or read, each named."""

from pathlib import Path

import pytest

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.models.generation import Continuation
from bridge.music.clip import Clip, Note
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.music.scales import parse_key
from bridge.tools.continuation import batch_key, check_continuation
from bridge.tools.params import ParamError, parse_params
from bridge.tools.registry import TOOLS

FOLK = read_midi(Path(__file__).parents[2] / "examples" / "folk_melody.mid")
MELODY = ModelSpec("tune", "melody_rnn", Path("tune.safetensors"))
DRUMS = ModelSpec("kit", "drums_rnn", Path("kit.safetensors"))
BUNDLE = ModelSpec("bundle", "melody_rnn", Path("basic_rnn.mag"), backend="magenta")


@pytest.mark.parametrize(
    ("params", "limits", "words"),
    [
        ({"bars": 9}, Limits(max_bars=8), "bars must be between 1 and 8, got 9"),
        ({"variations": 0}, Limits(), "variations must be between 1 and 64, got 0"),
        ({"beam_size": 4}, Limits(max_beam_size=2), "beam_size must be between 1 and 2, got 4"),
        ({"pitch_low": 80, "pitch_high": 60}, Limits(), r"pitch_low \(80\) must not be above"),
        ({"pitch_low": 128}, Limits(), "pitch_low must be between 0 and 127"),
    ],
)
def test_counts_and_limits_are_checked_once_by_the_parameter_table(params, limits, words):
    tool = TOOLS["continue"]
    with pytest.raises(ParamError, match=words):
        tool.check(MELODY, [FOLK], parse_params(tool.params, params, limits), limits)


def test_what_a_family_or_backend_cannot_honour_or_read_is_refused():
    keyed = Continuation(FOLK, key=parse_key("C:major"))
    check_continuation(MELODY, keyed)
    with pytest.raises(
        ClipError,
        match="key and pitch range apply to melody, performance or polyphony models, not to a "
        "drums_rnn model",
    ):
        check_continuation(DRUMS, keyed)
    with pytest.raises(ClipError, match="key and pitch range need a native model"):
        check_continuation(BUNDLE, keyed)
    muted = Continuation(Clip.from_notes([Note(60, 0, 1, 100, mute=True)]))
    with pytest.raises(ClipError, match="no usable melody"):
        check_continuation(MELODY, muted)
    check_continuation(BUNDLE, muted)  # magenta's generator reads it its own way


def test_continuations_share_a_batch_when_they_start_and_stop_alike():
    short = Clip(FOLK.notes[:10], 30.5, FOLK.qpm)
    assert batch_key(Continuation(short, bars=2)) == batch_key(Continuation(FOLK, bars=2))
    assert batch_key(Continuation(FOLK, bars=2)) != batch_key(Continuation(FOLK, bars=3))
    wide = Continuation(FOLK, bars=2, sampling=SamplingOptions(beam_size=2))
    assert batch_key(wide) != batch_key(Continuation(FOLK, bars=2))
