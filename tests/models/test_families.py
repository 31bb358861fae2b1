"""The family table: every row names a model class that exists, says what it serves, and
reading it imports no PyTorch (the client and the config read it)."""

from __future__ import annotations

import importlib
import subprocess
import sys

from bridge.models.families import FAMILIES, magenta_families, native_families


def test_every_native_row_names_a_model_class_that_loads_weights():
    for family in FAMILIES.values():
        if family.model is None:
            assert family.magenta, f"{family.name} can run nowhere"
            continue
        module, _, name = family.model.partition(":")
        assert callable(getattr(importlib.import_module(module), name).load)
    assert native_families() == (
        "melody_rnn", "drums_rnn", "polyphony_rnn", "performance_rnn", "coconet", "music_vae"
    )  # fmt: skip
    assert "music_vae" not in magenta_families() and "improv_rnn" in magenta_families()


def test_what_each_family_serves():
    assert FAMILIES["drums_rnn"].content_of(None) == "drums"
    assert FAMILIES["performance_rnn"].content_of(None) == "performance"
    vae = FAMILIES["music_vae"]
    assert vae.content_of("cat-mel_2bar_small") == "melody"
    assert vae.content_of("groovae_2bar_tap_fixed_velocity") == "drums"
    assert vae.content_of("hierdec-trio_16bar") == "trio"


def test_reading_the_table_imports_no_torch():
    code = "import sys, bridge.models.families, bridge.config; print('torch' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"


def test_every_row_that_continues_names_a_generator_or_runs_on_magenta():
    for family in FAMILIES.values():
        if "continue" not in family.tools:
            assert family.generator is None, f"{family.name}: a generator no tool uses"
            continue
        if family.model is None:
            assert family.magenta and family.magenta.startswith("magenta.models.")
            continue
        generator = family.load_generator()
        assert isinstance(generator.PITCH_CONSTRAINTS, bool)
        assert generator.TEXTURE.issubset({"density", "polyphony"})
        assert callable(generator.read) and callable(generator.continue_clips)
