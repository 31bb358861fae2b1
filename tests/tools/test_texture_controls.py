"""Continue's density and polyphony, honoured while sampling, on the bundled trained models
and the examples: every bar starts the notes asked for, no step sounds more than the cap, and
a family that cannot honour a control refuses it by name."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.events_rnn.texture import EventEffects, Texture, TextureRule, TextureState
from bridge.models.families import FAMILIES
from bridge.music.clip import Clip
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.tools.params import parse_params
from bridge.tools.registry import TOOLS

REPO = Path(__file__).parents[2]
PRETRAINED = REPO / "models" / "pretrained"
SPECS = {
    "melody": ModelSpec("tune", "melody_rnn", PRETRAINED / "folk_attention_rnn.safetensors"),
    "drums": ModelSpec("kit", "drums_rnn", PRETRAINED / "mma_drum_kit.safetensors"),
    "chords": ModelSpec("poly", "polyphony_rnn", PRETRAINED / "bach_polyphony.safetensors"),
    "performance": ModelSpec(
        "perf", "performance_rnn", REPO / "tests/fixtures/performance_rnn/performance.mag"
    ),
}
EXAMPLES = {
    "melody": "folk_melody",
    "drums": "rock_groove",
    "chords": "pad_chords",
    "performance": "pad_chords",
}
CONTINUE = TOOLS["continue"]


@pytest.fixture(scope="module")
def models() -> dict[str, object]:
    return {kind: FAMILIES[spec.family].load(spec.path, "cpu") for kind, spec in SPECS.items()}


def continued(models: dict[str, object], kind: str, **params: object) -> list[Clip]:
    """Continue's results for the kind's example, as a client asking these parameters gets."""
    clip = read_midi(REPO / "examples" / f"{EXAMPLES[kind]}.mid")
    asked = parse_params(CONTINUE.params, {"bars": 4, "variations": 3, **params}, Limits())
    CONTINUE.check(SPECS[kind], [clip], asked, Limits())
    (results,) = CONTINUE.run(models[kind], SPECS[kind], [([clip], asked)], Limits(), None)
    return results


def notes_per_bar(clip: Clip) -> list[int]:
    """Notes starting in each bar, as a DAW's piano roll shows them."""
    bars = Counter(int(note.start // clip.beats_per_bar) for note in clip.notes)
    return [bars[bar] for bar in range(round(clip.length / clip.beats_per_bar))]


def most_at_once(clip: Clip) -> int:
    return max(
        (sum(1 for m in clip.notes if m.start <= n.start < m.end) for n in clip.notes), default=0
    )


@pytest.mark.parametrize("kind", ["melody", "drums", "chords"])
@pytest.mark.parametrize("density", [3, 8])
def test_every_bar_starts_the_notes_asked_for(models, kind, density):
    free = [notes_per_bar(clip) for clip in continued(models, kind, seed=1)]
    assert any(count != density for bars in free for count in bars), "the model's own differ"
    for seed in (1, 2):
        for clip in continued(models, kind, seed=seed, density=density):
            assert notes_per_bar(clip) == [density] * 4, f"seed {seed}"


def test_a_performance_meets_its_density_in_every_bar(models):
    for clip in continued(models, "performance", seed=4, density=6, bars=2):
        assert notes_per_bar(clip) == [6, 6]


@pytest.mark.parametrize("kind", ["drums", "chords"])
def test_no_step_sounds_more_notes_than_the_cap(models, kind):
    free = continued(models, kind, seed=3)
    assert max(most_at_once(clip) for clip in free) > 2, "the model's own play more at once"
    for clip in continued(models, kind, seed=3, polyphony=2):
        assert clip.notes and most_at_once(clip) <= 2


def test_density_and_polyphony_together_meet_both(models):
    for clip in continued(models, "chords", seed=5, density=12, polyphony=3):
        assert notes_per_bar(clip) == [12] * 4 and most_at_once(clip) <= 3


def test_a_target_out_of_reach_is_approached_as_closely_as_the_cap_allows(models):
    """40 hits a bar, one at a time: a 16-step bar holds 16, and every bar gets them."""
    for clip in continued(models, "drums", seed=7, density=40, polyphony=1, bars=2):
        assert notes_per_bar(clip) == [16, 16] and most_at_once(clip) == 1


def test_a_key_lock_holds_under_a_density_it_makes_hard(models):
    for clip in continued(models, "chords", seed=6, density=10, key="C:major", pitch_low=60):
        assert notes_per_bar(clip) == [10] * 4
        assert all(n.pitch % 12 in {0, 2, 4, 5, 7, 9, 11} and n.pitch >= 60 for n in clip.notes)


@pytest.mark.parametrize(
    ("kind", "params", "words"),
    [
        ("melody", {"polyphony": 2}, "polyphony applies to drums or polyphony models, not to a "),
        ("performance", {"polyphony": 2}, "polyphony applies to drums or polyphony models"),
    ],
)
def test_a_family_that_cannot_honour_a_control_refuses_it_by_name(kind, params, words):
    clip = read_midi(REPO / "examples" / f"{EXAMPLES[kind]}.mid")
    asked = parse_params(CONTINUE.params, params, Limits())
    with pytest.raises(ClipError, match=words):
        CONTINUE.check(SPECS[kind], [clip], asked, Limits())


def test_the_magenta_backend_refuses_density_rather_than_ignore_it():
    bundle = ModelSpec("bundle", "melody_rnn", Path("basic_rnn.mag"), backend="magenta")
    clip = read_midi(REPO / "examples" / "folk_melody.mid")
    asked = parse_params(CONTINUE.params, {"density": 4}, Limits())
    with pytest.raises(ClipError, match="density need a native model"):
        CONTINUE.check(bundle, [clip], asked, Limits())


def test_conflicting_limits_always_leave_a_row_something_to_draw():
    """Events of a toy family, a step each: 0 rests, 1 starts a note, 2 starts two. A target
    of 4 notes in a 4-step bar under a cap of one at a time, with a key lock forbidding
    event 1, leaves nothing: the target yields, the cap holds, the lock is never broken."""
    effects = EventEffects.of(starts=[0, 1, 2], sounds=[0, 1, 2], advances=[1, 1, 1])
    rule = TextureRule(Texture(notes_per_bar=4, max_polyphony=1), effects, steps_per_bar=4)
    state = TextureState([rule], offset=0)
    events = np.array([[0, 1, 2]])
    assert state.allowed(events, np.ones((1, 3), bool)).tolist() == [[False, True, False]]
    fixed = np.array([[True, False, True]])
    assert state.allowed(events, fixed).tolist() == [[True, False, False]]
    state.advance(np.array([0]))
    assert state.position.tolist() == [1.0] and state.bar_notes.tolist() == [0.0]
