"""The `magenta-bridge` command, run as a user runs it, with the bundled default model."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config import MidiConfig
from bridge.frontends.midi.ports import open_ports
from bridge.music.midi import read_midi
from bridge.music.scales import parse_key

REPO = Path(__file__).parents[1]
FOLK_TUNE = REPO / "examples" / "folk_melody.mid"
# config/default.yaml's midi.api is auto: ALSA on Linux, missing where its sequencer is.
DEFAULT_MIDI_MISSING = sys.platform == "linux" and not Path("/dev/snd/seq").exists()


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bridge.frontends.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def test_help_names_every_continue_option():
    done = run("continue", "--help")
    assert done.returncode == 0
    for option in (
        "--bars",
        "--temperature",
        "--variations",
        "--seed",
        "--key",
        "--model",
        "--pitch-low",
        "--pitch-high",
        "--quantize",
        "--device",
        "--beam-size",
        "--branch-factor",
        "--steps-per-iteration",
    ):
        assert option in done.stdout


def test_continue_a_folk_tune_in_key_with_the_default_model(tmp_path):
    out = tmp_path / "out.mid"
    done = run(
        "continue",
        str(FOLK_TUNE),
        "-o",
        str(out),
        "--bars",
        "4",
        "--variations",
        "4",
        "--seed",
        "7",
        "--key",
        "F:major",
        "--temperature",
        "1.0",
    )
    assert done.returncode == 0, done.stderr
    key = parse_key("F:major")
    source = read_midi(FOLK_TUNE)
    for index in range(1, 5):
        clip = read_midi(tmp_path / f"out-{index}.mid")
        assert clip.length == 4 * source.beats_per_bar
        assert len(clip.notes) >= 4, "a trained model continues with a real phrase"
        assert all(note.pitch % 12 in key.pitch_classes for note in clip.notes)
        low, high = min(n.pitch for n in source.notes), max(n.pitch for n in source.notes)
        assert all(low - 12 <= n.pitch <= high + 12 for n in clip.notes), "stays near the tune"


def test_errors_are_one_clear_line():
    missing = run("continue", "no/such.mid", "-o", "x.mid")
    assert missing.returncode == 1
    assert "no/such.mid" in missing.stderr and "Traceback" not in missing.stderr
    unknown = run("continue", str(FOLK_TUNE), "-o", "x.mid", "--model", "nope")
    assert unknown.returncode == 1 and "folk_melody" in unknown.stderr
    bad_key = run("continue", str(FOLK_TUNE), "-o", "x.mid", "--key", "H:major")
    assert bad_key.returncode == 1 and "H:major" in bad_key.stderr


def test_the_readme_main_command_serves_the_bundled_model(tmp_path):
    """`magenta-bridge serve` with config/default.yaml: ready, answers a continue, stops."""
    import signal
    import socket

    from pythonosc.osc_packet import OscPacket

    from bridge.frontends.osc.wire import message

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge.frontends.cli",
            "serve",
            "--port",
            str(port),
            "--http-port",
            "0",
            "--data-folder",
            str(tmp_path / "data"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in serve.stdout:
            lines.append(line)
            if line.startswith("ready"):
                break
        midi = [line for line in lines if line.startswith("midi")]
        expected = "midi off: alsa: no MIDI system" if DEFAULT_MIDI_MISSING else "midi: in "
        assert len(midi) == 1 and midi[0].startswith(expected), lines
        for name, family in (
            ("folk_melody", "melody_rnn"),
            ("drums", "drums_rnn"),
            ("poly", "polyphony_rnn"),
            ("melody_vae", "music_vae"),
            ("drum_vae", "music_vae"),
            ("drumify", "music_vae"),
        ):
            assert any(line.startswith(f"model {name}: {family} on") for line in lines), lines
        for optional in ("perf", "humanize"):
            assert any(line.startswith(f"model {optional}: not installed") for line in lines)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(60)
        client.sendto(
            message("/magenta/clip/file", "r1", 0, "folk_melody.mid"), ("127.0.0.1", port)
        )
        client.sendto(message("/magenta/tool/continue", "r1", "bars", 2), ("127.0.0.1", port))
        replies = []
        while not replies or replies[-1][0] not in ("/magenta/job/done", "/magenta/error"):
            data, _ = client.recvfrom(65_536)
            replies += [(t.message.address, t.message.params) for t in OscPacket(data).messages]
        assert replies[-1][0] == "/magenta/job/done", replies[-1]
        assert read_midi(replies[-1][1][2]).length == 8.0
        client.close()
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
    assert serve.returncode == 0 and "stopped" in out


def test_ports_lists_the_jack_ports_by_option_and_by_config(jack_server, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("models:\n  m: {path: x}\nmidi: {api: jack}\n")
    midi_in, midi_out = open_ports(MidiConfig(api="jack", in_port="CLI In", out_port="CLI Out"))
    try:
        runs = [run("ports", "--api", "jack"), run("--config", str(config), "ports")]
    finally:
        midi_in.close()
        midi_out.close()
    for done in runs:
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("MIDI systems in python-rtmidi: ") and "jack" in lines[0]
        assert lines[1:] == [
            "jack ports:",
            "  inputs (they send MIDI):",
            "    Magenta Bridge Out:CLI Out",
            "  outputs (they take MIDI):",
            "    Magenta Bridge In:CLI In",
        ]


@pytest.mark.skipif(not DEFAULT_MIDI_MISSING, reason="this machine has an ALSA sequencer")
def test_ports_without_the_midi_system_is_one_clear_error():
    done = run("ports")
    assert done.returncode == 1
    assert done.stdout.startswith("MIDI systems in python-rtmidi: ")
    assert "magenta-bridge: error: alsa: no MIDI system" in done.stderr
    assert "snd-seq" in done.stderr and "Traceback" not in done.stderr


def test_each_example_continues_on_the_model_its_content_calls_for(tmp_path):
    """No --model: the groove goes to the bundled drum model, the chords to the polyphony
    model, the tune to the melody model, and each choice is reported."""
    expected = {
        "rock_groove.mid": "model drums (drum_kit, drums: it is a drum part (MIDI channel 10))",
        "pad_chords.mid": "model poly (polyphony, polyphony: notes sound together (at beat 0))",
        "folk_melody.mid": "model folk_melody (attention_rnn, melody: one note at a time)",
    }
    for name, line in expected.items():
        source = read_midi(REPO / "examples" / name)
        out = tmp_path / name
        done = run("continue", str(REPO / "examples" / name), "-o", str(out), "--seed", "1")
        assert done.returncode == 0, done.stderr
        assert line in done.stderr
        result = read_midi(out)
        assert result.notes and result.length == 4 * source.beats_per_bar
        assert result.drums == source.drums
    groove_pitches = {n.pitch for n in read_midi(REPO / "examples" / "rock_groove.mid").notes}
    assert {n.pitch for n in read_midi(tmp_path / "rock_groove.mid").notes} <= groove_pitches | {
        49,
        51,
        45,
        48,
        50,  # cymbals and toms the groove never played: Magenta's pitches
    }


def test_an_optional_model_that_is_not_installed_is_named(tmp_path):
    done = run("continue", str(FOLK_TUNE), "-o", str(tmp_path / "x.mid"), "--model", "perf")
    assert done.returncode == 1
    assert "model 'perf' is not installed" in done.stderr
    assert "performance_with_dynamics.mag" in done.stderr
    listed = run("models").stdout
    assert "perf" in listed and "[optional, not installed]" in listed


def test_models_lists_a_checkpoint_named_by_its_prefix_as_installed(tmp_path):
    prefix = REPO / "tests/fixtures/music_vae/cat-mel_2bar_small/checkpoint/model.ckpt-1500"
    vae = "family: music_vae, config: cat-mel_2bar_small"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"models:\n  vae: {{path: '{prefix}', {vae}}}\n"
        f"  spare: {{path: '{prefix}', {vae}, optional: true}}\n"
        f"  gone: {{path: '{prefix}0', {vae}, optional: true}}\n"
    )
    listed = run("--config", str(config), "models").stdout
    states = dict(re.findall(r"^[* ] (\S+) .*\[(.+)\]$", listed, re.MULTILINE))
    assert states == {"vae": "ok", "spare": "ok", "gone": "optional, not installed"}


def test_history_shows_what_a_job_was_warned_of(tmp_path):
    from bridge.music.clip import Clip, Note
    from bridge.store import ResultStore

    with ResultStore(tmp_path / "data") as store:
        job = store.accept(
            client="udp:127.0.0.1:9", request_id="r1", tool="vary", model="tunes", params={}
        )
        clip = Clip((Note(60, 0.0, 1.0),), 4.0)
        store.finish(job.job_id, [clip], {"run_s": 0.01}, warning="3 distinct variations of 4")
    config = tmp_path / "config.yaml"
    weights = REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"
    config.write_text(
        f"data_folder: {tmp_path / 'data'}\n"
        f"models: {{tunes: {{family: melody_rnn, path: {weights}}}}}\n"
    )
    done = run("--config", str(config), "history")
    assert done.returncode == 0, done.stderr
    assert "    warning: 3 distinct variations of 4" in done.stdout.splitlines()
