"""A key lock and a pitch range on a trio MusicVAE (hierdec-trio_16bar): generate, interpolate
and vary draw the melody's and the bass's notes only at allowed pitches, each part within its
own range, and leave the drums as they were; a key leaving a part nothing is refused by name.
The model is the small one magenta trained for the parity fixtures (tests/tools/
test_latent_trio.py), run as the command line runs it (trio tools are not the daemon's)."""

from __future__ import annotations

import pytest

from bridge.config import Limits
from bridge.models.catalog import ModelSpec
from bridge.models.music_vae import model as music_vae_model
from bridge.models.music_vae.config import config_named
from bridge.models.music_vae.model import MusicVae, allowed_classes
from bridge.models.music_vae.trio_data import Trio, part_role
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi_parts
from bridge.tools.latent import run_requests
from bridge.tools.params import ParamError, parse_params
from bridge.tools.registry import TOOLS
from tests.tools.test_latent_trio import CHECKPOINT, NAME, run, song

C_MAJOR = {0, 2, 4, 5, 7, 9, 11}
LOW, HIGH = 36, 84
LOCK = {"key": "C:major", "pitch_low": LOW, "pitch_high": HIGH}


@pytest.fixture(scope="module")
def trio_vae() -> MusicVae:
    return MusicVae.load(CHECKPOINT, NAME, "cpu")


def trios(model: MusicVae, tool: str, inputs: list[Trio], **given) -> list[Trio]:
    """The tool's results, its parameters parsed as the command line parses them."""
    params = parse_params(TOOLS[tool].params, given, Limits())
    (results,) = run_requests(tool, model, [(inputs, params)])
    return results


def in_key(results: list[Trio]) -> float:
    """The share of the melody's and the bass's notes in C major and in LOW-HIGH."""
    notes = [n for trio in results for part in (trio.melody, trio.bass) for n in part.notes]
    assert notes
    kept = [n for n in notes if n.pitch % 12 in C_MAJOR and LOW <= n.pitch <= HIGH]
    return len(kept) / len(notes)


@pytest.mark.parametrize(
    ("tool", "inputs", "given"),
    [
        ("generate", [], {"variations": 2, "bars": 16}),
        ("vary", [song(16)], {"variations": 2}),
        ("interpolate", [song(16), song(16, root=57)], {"steps": 3}),
    ],
)
def test_melody_and_bass_keep_to_the_key_and_range_and_drums_are_untouched(
    trio_vae, tool, inputs, given
):
    common = {"seed": 5, "temperature": 1.0, **given}
    locked = trios(trio_vae, tool, inputs, **LOCK, **common)
    free = trios(trio_vae, tool, inputs, **common)
    assert in_key(locked) == 1.0
    assert in_key(free) < 1.0  # the same seeds stray without the lock
    assert all(trio.bass.notes for trio in locked)
    assert all(trio.drums.notes for trio in locked)
    if tool != "vary":  # vary redraws repeats, so its draws may differ; the others' match
        assert [t.drums for t in locked] == [t.drums for t in free]


def test_each_part_is_masked_within_its_own_range():
    mask = allowed_classes(config_named(NAME), range(LOW, HIGH + 1))
    melody, bass, drums = mask[:90], mask[90:180], mask[180:]
    assert mask.shape == (692,) and drums.all()
    for part in (melody, bass):
        assert part[:2].all()  # no event and note off: a part may rest and end its notes
        assert part[2:].sum() == HIGH - LOW + 1 and part[2 + LOW - 21] and part[2 + HIGH - 21]


def test_a_key_leaving_the_bass_nothing_is_refused_by_name(trio_vae, monkeypatch):
    with pytest.raises(ClipError, match=r"no allowed pitch lies in the melody range 21-108 or "
                       r"the bass range 21-108"):  # fmt: skip
        trios(trio_vae, "generate", [], key="C:major", pitch_low=0, pitch_high=20)
    # Magenta gives both parts the piano; a bass part of its own range is refused alone.
    ranges = {"melody": (21, 108), "bass": (28, 55)}
    monkeypatch.setattr(music_vae_model, "PITCH_RANGES", ranges)
    with pytest.raises(ClipError, match=r"^no allowed pitch lies in the bass range 28-55$"):
        trios(trio_vae, "generate", [], key="C:major", pitch_low=60, pitch_high=84)


def test_a_drum_model_still_refuses_a_key_naming_the_models_that_take_one():
    with pytest.raises(ClipError, match="apply to melody and trio MusicVAEs"):
        allowed_classes(config_named("cat-drums_2bar_small"), {60})
    tool = TOOLS["generate"]
    params = parse_params(tool.params, {"key": "C:major"}, Limits())
    drums = ModelSpec("drum_vae", "music_vae", CHECKPOINT, config="cat-drums_2bar_small")
    with pytest.raises(ParamError, match="apply to melody and trio MusicVAEs, not to cat-drums"):
        tool.check(drums, [], params, Limits())


def test_the_cli_generates_trios_in_key_and_refuses_an_empty_range(trio_config, tmp_path):
    out = tmp_path / "out"
    lock = f"--key C:major --pitch-low {LOW} --pitch-high {HIGH}"
    done = run(trio_config, "generate", f"--model trio --variations 2 --seed 5 {lock} -o", out)
    assert done.returncode == 0, done.stderr
    notes = []
    for path in sorted(out.iterdir()):
        parts = read_midi_parts(path)
        notes += [n for p in parts if part_role(p) in ("melody", "bass") for n in p.clip.notes]
        assert any(part_role(p) == "drums" and p.clip.notes for p in parts)
    assert notes and all(n.pitch % 12 in C_MAJOR and LOW <= n.pitch <= HIGH for n in notes)
    done = run(trio_config, "generate", "--model trio --key C:major --pitch-high 20 -o", out)
    assert done.returncode == 1
    assert "no allowed pitch lies in the melody range 21-108 or the bass range" in done.stderr
