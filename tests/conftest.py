"""Fixtures shared across test folders."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixture_daemons import daemons
from jack_servers import start_jack, stop_jack

REPO = Path(__file__).resolve().parents[1]
MMA_EXPORT = REPO / "models" / "training" / "export_mma_grooves.py"
MUSIC_VAE_PROBE = REPO / "models" / "reference" / "music_vae_probe.py"

RenderGroove = Callable[..., bytes]


@pytest.fixture(scope="session", autouse=True)
def mlflow_store(tmp_path_factory) -> Iterator[Path]:
    """Training commands log to MLflow (bridge/training/tracking.py); during the tests they
    log to a store of their own, never to the checkout's data/mlruns."""
    store = tmp_path_factory.mktemp("mlruns")
    saved = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = store.as_uri()
    yield store
    if saved is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = saved


@pytest.fixture(scope="session")
def render_groove() -> RenderGroove:
    """A factory: render_groove("stdlib/8beat", "8Beat", bars=8) -> MIDI bytes of its drums
    (`all_tracks=True`: the whole rendering, chords and bass too, one track per instrument).

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
    cache: dict[tuple[str, str, int, bool], bytes] = {}

    def render(file: str, name: str, bars: int = 8, all_tracks: bool = False) -> bytes:
        key = (file, name, bars, all_tracks)
        if key not in cache:
            song = module.render_groove(mma, file, name, bars)
            cache[key] = song if all_tracks else module.drum_part(song, bars).midi
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


@pytest.fixture(scope="session")
def music_vae_probe(tmp_path_factory) -> Callable[..., Path]:
    """A factory: music_vae_probe("cat-mel_2bar_small", ...) -> a folder holding, per config,
    a small random-weight checkpoint made by Google's magenta and magenta's outputs for it
    (models/reference/music_vae_probe.py). One TensorFlow run per set of configs."""
    from bridge.models.magenta_backend.backend import MagentaBackendError, magenta_python

    try:
        python = magenta_python()
    except MagentaBackendError as error:
        pytest.skip(f"Google's magenta environment is missing: {error}")
    made: dict[tuple[str, ...], Path] = {}

    def probe(*configs: str) -> Path:
        if configs not in made:
            folder = tmp_path_factory.mktemp("music_vae")
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
            done = subprocess.run(
                [str(python), str(MUSIC_VAE_PROBE), str(folder), *configs],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
                env=env,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            made[configs] = folder
        return made[configs]

    return probe


@pytest.fixture(scope="session")
def jack_server() -> Iterator[str]:
    """A real JACK server (dummy driver: no sound card needed) for MIDI port tests, under a
    name of its own so a user's running server is left alone; its name is exported as
    JACK_DEFAULT_SERVER to this process and the processes it starts."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd missing (apt-get install jackd2)")
    name = f"magenta-bridge-tests-{os.getpid()}"
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"  # a client never starts a server by surprise
    server = start_jack(jackd, name)
    try:
        yield name
    finally:
        stop_jack(server)
        os.environ.pop("JACK_DEFAULT_SERVER", None)


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator:
    """Start fixture daemons (config sections as keyword arguments), closed after the test."""
    yield from daemons(tmp_path)


@pytest.fixture
def daemon(make_daemon):
    return make_daemon()
