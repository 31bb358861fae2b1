"""Fixtures shared across test folders."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

MMA_EXPORT = Path(__file__).resolve().parents[1] / "models" / "training" / "export_mma_grooves.py"

RenderGroove = Callable[..., bytes]


@pytest.fixture(scope="session")
def render_groove() -> RenderGroove:
    """A factory: render_groove("stdlib/8beat", "8Beat", bars=8) -> MIDI bytes of its drums.

    Real drum tracks rendered by Debian's mma (GPL data, so rendered here, never committed),
    through the same code as models/training/export_mma_grooves.py.
    """
    mma = shutil.which("mma")
    if mma is None:
        pytest.skip("mma missing (apt-get install mma)")
    spec = importlib.util.spec_from_file_location("export_mma_grooves", MMA_EXPORT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    cache: dict[tuple[str, str, int], bytes] = {}

    def render(file: str, name: str, bars: int = 8) -> bytes:
        key = (file, name, bars)
        if key not in cache:
            cache[key] = module.drum_part(module.render_groove(mma, file, name, bars), bars).midi
        return cache[key]

    return render


@pytest.fixture(scope="session")
def chorale_midi() -> Callable[[str], bytes]:
    """A factory: chorale_midi("bach/bwv99.6.mxl") -> MIDI bytes of that chorale, all voices.

    Real polyphony from music21's corpus (non-commercial terms, so parsed here, never
    committed), written to MIDI by music21 as models/reference/make_polyphony_rnn_fixtures.py
    does.
    """
    music21 = pytest.importorskip("music21")
    corpus = Path(music21.__file__).parent / "corpus"
    cache: dict[str, bytes] = {}

    def midi(chorale: str) -> bytes:
        if chorale not in cache:
            score = music21.converter.parse(str(corpus / chorale))
            cache[chorale] = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
        return cache[chorale]

    return midi
