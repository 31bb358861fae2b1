"""The configured models checked against the family table: families and configs, optional
models without their files, the default model, and which model answers a clip."""

from pathlib import Path

import pytest

from bridge.config import DEFAULT_CONFIG, load_config
from bridge.models.catalog import Catalog, CatalogError
from bridge.tools.model_choice import choose_model

REPO = Path(__file__).parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def catalog(path: Path) -> Catalog:
    return Catalog.of(load_config(path))


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("{path: x, family: jazz_rnn}", "unknown family 'jazz_rnn' for the native backend"),
        ("{path: x, family: music_vae, backend: magenta}", "unknown family 'music_vae' for the"),
        ("{path: x, family: music_vae}", "'config' names a music_vae"),
        ("{path: x, family: music_vae, config: jazz}", "unknown music_vae config 'jazz'"),
        ("{path: x, config: cat-mel_2bar_small}", "'config' names a music_vae"),
    ],
)
def test_entries_that_do_not_fit_the_family_table_are_refused_naming_file_and_model(
    tmp_path, entry, words
):
    path = write(tmp_path, f"models:\n  m: {entry}\n")
    with pytest.raises(CatalogError, match=f"{path}: model 'm'.*{words}"):
        catalog(path)


def test_an_optional_default_model_that_is_not_installed_is_refused(tmp_path):
    text = "models:\n  m: {path: x, optional: true}\n  n: {path: y}\ndefault_model: m\n"
    with pytest.raises(CatalogError, match="default_model 'm' is not among the models"):
        catalog(write(tmp_path, text))
    text = "models:\n  m: {path: x, optional: true}\n"
    with pytest.raises(CatalogError, match="only optional ones not installed"):
        catalog(write(tmp_path, text))


def test_unknown_model_names_list_the_known_ones():
    with pytest.raises(
        CatalogError,
        match="models: chorales, drum_vae, drumify, drums, folk_melody, melody_vae, poly",
    ):
        catalog(DEFAULT_CONFIG).model("nope")


def test_by_content_picks_the_model_for_the_clip_and_says_why(tmp_path):
    from bridge.music.clip import Clip, Note

    for name in ("tune", "kit"):
        (tmp_path / f"{name}.safetensors").write_bytes(b"")
    known = catalog(
        write(
            tmp_path,
            "models:\n  tune: {path: tune.safetensors}\n"
            "  kit: {path: kit.safetensors, family: drums_rnn}\n"
            "by_content: {drums: kit}\n",
        )
    )
    groove = Clip.from_notes([Note(36, 0, 0.25), Note(42, 0, 0.25)], drums=True)
    chord = Clip.from_notes([Note(60, 0, 1), Note(64, 0, 1)])
    spec, why = choose_model(known, None, groove)
    assert spec.name == "kit" and why.startswith("drums: ")
    assert choose_model(known, None, chord) == (known.models["tune"], "the default model")
    assert choose_model(known, "tune", groove) == (known.models["tune"], "named in the request")


def test_an_optional_model_without_its_file_is_left_out_and_named_when_asked_for(tmp_path):
    from bridge.music.clip import Clip, Note

    (tmp_path / "tune.safetensors").write_bytes(b"")
    known = catalog(
        write(
            tmp_path,
            "models:\n  tune: {path: tune.safetensors}\n"
            "  perf: {path: perf.mag, family: performance_rnn, optional: true,\n"
            "         description: download it from example.org}\n"
            "by_content: {polyphony: perf}\n",
        )
    )
    assert list(known.models) == ["tune"] and list(known.missing) == ["perf"]
    with pytest.raises(CatalogError, match=r"'perf' is not installed: .*perf\.mag does not exist"):
        known.model("perf")
    chord = Clip.from_notes([Note(60, 0, 1), Note(64, 0, 1)])
    spec, why = choose_model(known, None, chord)
    assert spec.name == "tune" and "perf is missing" in why


def test_an_optional_checkpoint_named_by_its_prefix_is_installed_and_loads(tmp_path):
    from bridge.models.loading import load_model

    # model.ckpt-1500.index and .data-00000-of-00001, written by Google's magenta.
    prefix = REPO / "tests/fixtures/music_vae/cat-mel_2bar_small/checkpoint/model.ckpt-1500"
    known = catalog(
        write(
            tmp_path,
            "models:\n  tune: {path: tune.safetensors}\n"
            f"  vae: {{path: '{prefix}', family: music_vae, config: cat-mel_2bar_small,\n"
            "        optional: true}\n"
            f"  gone: {{path: '{prefix}0', family: music_vae, config: cat-mel_2bar_small,\n"
            "         optional: true}\n",
        )
    )
    assert list(known.models) == ["tune", "vae"] and list(known.missing) == ["gone"]
    assert known.models["vae"].installed and not known.missing["gone"].installed
    assert load_model(known.model("vae")).z_size > 0


def test_a_tool_the_content_model_cannot_serve_gets_a_fitting_one(tmp_path):
    from bridge.music.clip import Clip, Note

    entries = {
        "tune_rnn": "{path: a, family: melody_rnn}",
        "beat_vae": "{path: b, family: music_vae, config: cat-drums_2bar_small}",
        "tune_vae": "{path: c, family: music_vae, config: cat-mel_2bar_small}",
    }
    text = "models:\n" + "".join(f"  {name}: {entry}\n" for name, entry in entries.items())
    known = catalog(write(tmp_path, text + "by_content: {melody: tune_rnn}\n"))
    is_vae = lambda spec: spec.family == "music_vae"  # noqa: E731
    tune = Clip.from_notes([Note(60, 0, 1), Note(62, 1, 1)])
    groove = Clip.from_notes([Note(36, 0, 0.25), Note(42, 0, 0.25)], drums=True)
    assert choose_model(known, None, tune)[0].name == "tune_rnn"
    assert choose_model(known, None, tune, is_vae)[0].name == "tune_vae"
    assert choose_model(known, None, groove, is_vae)[0].name == "beat_vae"
    spec, why = choose_model(known, None, None, is_vae)
    assert (spec.name, why) == ("beat_vae", "the first model serving the tool")
