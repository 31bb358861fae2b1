"""Benchmark: MIDI call and response through a real JACK server (dummy driver).

1. Jitter: the player plays 64 sixteenths at 120 qpm on a virtual output; a JACK client in a
   second process records them; each onset is compared with its grid time (both sides read
   the system's monotonic clock).
2. Answer latency: a second process plays an 8-note phrase into the call-and-response input;
   the bundled folk model continues it by one bar. Reported: from the phrase's last note off
   to the answer's first note (what a player hears), and the part of it that is computing
   (from the end of the silence to the job's result), with the silence set to half a beat and
   answers starting on the next beat, the shortest settings.

    .venv/bin/python bench/bench_midi.py [--repeats 5]

Starts its own jackd (`jackd --no-realtime -d dummy -p 256`: 5.3 ms periods). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import mido  # noqa: E402
import rtmidi  # noqa: E402
import yaml  # noqa: E402

from bridge.config import load_config  # noqa: E402
from bridge.frontends.daemon import Daemon  # noqa: E402
from bridge.frontends.midi.call_response import CallAndResponse, ResponseSettings  # noqa: E402
from bridge.frontends.midi.clock import FollowingClock, InternalClock  # noqa: E402
from bridge.frontends.midi.player import Player  # noqa: E402
from bridge.music.clip import Clip, Note  # noqa: E402

PEER = REPO / "tests" / "frontends" / "midi" / "peer.py"


def start_jack() -> subprocess.Popen:
    name = f"bench-midi-{os.getpid()}"
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    server = subprocess.Popen(
        [shutil.which("jackd") or "jackd", "--no-realtime", "-n", name, "-d", "dummy", "-p", "256"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    return server


def recorder(port: str, seconds: float) -> subprocess.Popen:
    peer = subprocess.Popen(
        [sys.executable, str(PEER), "record", port, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert peer.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    return peer


def jitter_ms(repeats: int) -> list[float]:
    midi_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="Bench Player")
    midi_out.open_virtual_port("out")
    player = Player(lambda message: midi_out.send_message(message.bytes()))
    deviations = []
    for _ in range(repeats):
        peer = recorder("Bench Player:out", 9.0)
        start = time.monotonic() + 0.3
        clip = Clip.from_notes([Note(60, i / 4, 0.2) for i in range(64)], 16.0)
        player.play(clip, start, InternalClock(120.0, start))
        events = json.loads(peer.communicate(timeout=60)[0])
        ons = [at for at, data in events if data[0] & 0xF0 == 0x90]
        deviations += [abs(at - (start + i * 0.125)) * 1000 for i, at in enumerate(ons)]
    player.close()
    midi_out.delete()
    return deviations


def answer_latency(repeats: int, folder: Path) -> tuple[list[float], list[float]]:
    config = {
        "default_model": "folk",
        "models": {
            "folk": {
                "family": "melody_rnn",
                "path": str(REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"),
            }
        },
        "osc": {"port": 0},
        "data_folder": str(folder / "data"),
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    daemon = Daemon(load_config(folder / "config.yaml"), announce=lambda _: None)
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="Bench Calls In")
    midi_in.open_virtual_port("in")
    midi_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="Bench Calls Out")
    midi_out.open_virtual_port("out")
    player = Player(lambda message: midi_out.send_message(message.bytes()))
    clock = FollowingClock(120.0, time.monotonic())
    settings = ResponseSettings(silence_beats=0.5, bars=1, start_on=1.0)
    calls = CallAndResponse(daemon.engine.submit, player, clock, settings, lambda _: None)
    answered: list[float] = []
    play_answer = calls.play_answer
    calls.play_answer = lambda clip: (answered.append(time.monotonic()), play_answer(clip))
    note_offs: list[float] = []

    def receive(event: tuple, _: object) -> None:
        message, now = mido.Message.from_bytes(event[0]), time.monotonic()
        if message.type == "note_off":
            note_offs.append(now)
        calls.receive(message, now)

    midi_in.set_callback(receive)
    calls.start()
    heard, computing = [], []
    phrase = [
        [i * 0.25 + offset, [status, pitch, 90 if status == 0x90 else 0]]
        for i, pitch in enumerate([60, 62, 64, 65, 67, 65, 64, 62])
        for offset, status in ((0.0, 0x90), (0.2, 0x80))
    ]
    for _ in range(repeats):
        peer = recorder("Bench Calls Out:out", 6.0)
        subprocess.run(
            [sys.executable, str(PEER), "play", "Bench Calls In:in", json.dumps(phrase)],
            check=True,
            capture_output=True,
        )
        events = json.loads(peer.communicate(timeout=60)[0])
        ons = [at for at, data in events if data[0] & 0xF0 == 0x90 and data[2]]
        last_off = note_offs[-1]  # the call ends as the bridge hears its last key go up
        if ons and answered:
            heard.append((ons[0] - last_off) * 1000)
            silence_end = clock.time_at(clock.beat_at(last_off) + settings.silence_beats)
            computing.append((answered[-1] - silence_end) * 1000)
        time.sleep(0.5)
    calls.close()
    player.close()
    midi_in.delete()
    midi_out.delete()
    daemon.close()
    return heard, computing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    server = start_jack()
    try:
        deviations = jitter_ms(args.repeats)
        with tempfile.TemporaryDirectory() as folder:
            heard, computing = answer_latency(args.repeats, Path(folder))
    finally:
        server.terminate()
        server.wait()
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cpus, jackd dummy -p 256",
                "jitter_ms": {
                    "notes": len(deviations),
                    "median": round(statistics.median(deviations), 2),
                    "p95": round(sorted(deviations)[int(0.95 * len(deviations))], 2),
                    "max": round(max(deviations), 2),
                },
                "answer_ms": {
                    "end_of_call_to_first_note_median": round(statistics.median(heard), 1),
                    "computing_median": round(statistics.median(computing), 1),
                    "runs": len(heard),
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
