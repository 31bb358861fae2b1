"""Continue drums on real grooves: shape, grid, the user's kit, and clear errors.

The model is the DrumsRNN parity fixture: magenta's drum_kit at its default size, trained
briefly by magenta itself, loaded natively.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from drum_files import sequencer_drums

from bridge.models.drums_rnn.generator import continue_drums
from bridge.models.drums_rnn.model import DrumsRnn
from bridge.models.events_rnn.sampling import SamplingOptions
from bridge.music.clip import Clip, Note
from bridge.music.drums import DrumKit, drum_class
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi

BUNDLE = Path(__file__).parents[2] / "fixtures" / "drums_rnn" / "drum_kit.mag"
BUNDLED = Path(__file__).parents[3] / "models" / "pretrained" / "mma_drum_kit.safetensors"


@pytest.fixture(scope="module")
def model() -> DrumsRnn:
    return DrumsRnn.load(BUNDLE, "cpu")


@pytest.fixture(scope="module")
def groove(render_groove) -> Clip:
    return read_midi(render_groove("stdlib/popballad", "PopBallad1", bars=4))


def test_continuations_have_the_asked_shape(model, groove):
    options = SamplingOptions(seed=1)
    results = continue_drums(model, groove, bars=2, variations=3, sampling_options=options)
    assert len(results) == 3
    kit = DrumKit.from_clip(groove)
    for result in results:
        assert result.notes, "a continuation has hits"
        assert result.length == 8.0
        assert (result.qpm, result.time_signature) == (groove.qpm, groove.time_signature)
        for note in result.notes:
            assert 0 <= note.start < result.length
            assert (note.start * 4).is_integer() and note.duration == 0.25  # 16 steps a bar
            assert note.pitch == kit.pitches[drum_class(note.pitch)]
            assert note.velocity == kit.velocities[drum_class(note.pitch)]
    assert continue_drums(model, groove, 2, 3, options) == results, "same seed, same result"
    assert len({result.notes for result in results}) == 3


def test_results_play_the_users_kit(model, groove):
    swap = {36: 35, 38: 40}  # the user's own kick and snare sounds
    notes = [
        Note(swap.get(n.pitch, n.pitch), n.start, n.duration, 50 if n.pitch == 36 else 90)
        for n in groove.notes
    ]
    clip = Clip(tuple(notes), groove.length, groove.qpm, groove.time_signature)
    results = continue_drums(model, clip, 4, 4, SamplingOptions(temperature=1.5, seed=3))
    played = {(n.pitch, n.velocity) for result in results for n in result.notes}
    kit = DrumKit.from_clip(clip)
    assert kit.pitches[:2] == (35, 40) and kit.velocities[:2] == (50, 90)
    assert all(
        (kit.pitches[drum_class(p)], kit.velocities[drum_class(p)]) == (p, v) for p, v in played
    )
    assert {35, 40} & {pitch for pitch, _ in played}
    assert not {36, 38} & {pitch for pitch, _ in played}


def test_a_waltz_goes_on_in_three(model, render_groove):
    waltz = read_midi(render_groove("stdlib/modernjazzwaltz", "ModernJazzWaltz", bars=4))
    assert waltz.time_signature == (3, 4)
    options = SamplingOptions(beam_size=2, branch_factor=2, steps_per_iteration=4, seed=5)
    (result,) = continue_drums(model, waltz, bars=3, sampling_options=options)
    assert result.length == 9.0 and result.time_signature == (3, 4)
    assert all(0 <= n.start < 9.0 for n in result.notes)


@pytest.mark.parametrize(
    ("bars", "variations", "message"),
    [(0, 1, "bars must be a whole number of at least 1"), (1, 0, "variations must")],
)
def test_bad_counts_are_refused(model, groove, bars, variations, message):
    with pytest.raises(ClipError, match=message):
        continue_drums(model, groove, bars, variations)


def test_a_melody_is_not_a_drum_clip(model):
    # Magenta's map reaches up to 87 (72 and 74 are whistle and guiro); above, no drum.
    melody = Clip.from_notes([Note(96, 0.0, 1.0), Note(98, 1.0, 1.0)])
    with pytest.raises(ClipError, match="no drum hits Magenta knows"):
        continue_drums(model, melody, 1)


def backbeat_loop(end_of_track: float | None = None) -> bytes:
    """Two bars of kick on 1 and 3, snare on 2 and 4 and eighth hats, each hit a 16th long,
    as a sequencer writes them: the file ends at the last hat's note-off, beat 7.75, unless
    `end_of_track` says later."""
    hits = [(36 if beat % 2 == 0 else 38, float(beat)) for beat in range(8)]
    hits += [(42, eighth / 2) for eighth in range(16)]
    return sequencer_drums(hits, hit_beats=0.25, end_of_track=end_of_track)


def test_a_loop_ending_a_16th_short_of_the_bar_continues_on_the_beat():
    model = DrumsRnn.load(BUNDLED, "cpu")
    short, whole = read_midi(backbeat_loop()), read_midi(backbeat_loop(end_of_track=8.0))
    options = SamplingOptions(temperature=0.5, seed=7)
    results = continue_drums(model, short, bars=2, variations=4, sampling_options=options)
    assert results == continue_drums(model, whole, 2, 4, options), "the same as 8 beats"
    for result in results:
        snares = sorted(n.start for n in result.notes if drum_class(n.pitch) == 1)
        assert snares == [1.0, 3.0, 5.0, 7.0], "on 2 and 4 of each bar"
    # A clip of 7.75 beats, as a DAW may send one, continues from the bar line too.
    assert continue_drums(model, replace(whole, length=7.75), 2, 4, options) == results
