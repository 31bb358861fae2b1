"""The daemon's MIDI ports on a real JACK server: another process plays into the input and
records the output; listing, names, duplicates, existing ports by name, clear refusals."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest
import rtmidi
from jack_servers import start_jack, stop_jack

from bridge.config import MidiConfig
from bridge.frontends.midi.ports import (
    MidiUnavailable,
    available_ports,
    check_answers,
    compiled_apis,
    open_ports,
    resolve_api,
)

PEER = Path(__file__).with_name("peer.py")
NO_ALSA_SEQUENCER = not Path("/dev/snd/seq").exists()
JACK = MidiConfig(api="jack", in_port="Ports Test In", out_port="Ports Test Out")


@pytest.fixture
def ports(jack_server):
    midi_in, midi_out = open_ports(JACK)
    yield midi_in, midi_out
    midi_in.close()
    midi_out.close()


def test_a_second_process_plays_in_and_records_what_the_output_sends(ports):
    midi_in, midi_out = ports
    heard: list[tuple[mido.Message, float]] = []

    def echo(message: mido.Message, arrival: float) -> None:
        heard.append((message, arrival))
        midi_out.send(message)

    midi_in.subscribe(echo)
    recorder = subprocess.Popen(
        [sys.executable, str(PEER), "record", midi_out.name, "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert recorder.stdout.readline().strip() == "ready"
    time.sleep(0.2)  # JACK connects the recorder
    sent = [[0x90, 60, 100], [0xF8], [0xFA], [0x90, 64, 90], [0x80, 60, 0], [0xFC], [0x80, 64, 0]]
    played = time.monotonic()
    subprocess.run(
        [sys.executable, str(PEER), "play", midi_in.name, json.dumps([[0.0, b] for b in sent])],
        check=True,
        timeout=30,
    )
    recorded, _ = recorder.communicate(timeout=30)
    assert [data for _, data in json.loads(recorded)] == sent
    assert [message.type for message, _ in heard] == [
        *("note_on", "clock", "start", "note_on", "note_off", "stop", "note_off")
    ], "clock, start and stop reach the daemon too"
    arrivals = [arrival for _, arrival in heard]
    assert played < arrivals[0] and arrivals == sorted(arrivals) and arrivals[-1] < time.monotonic()


def test_the_ports_are_listed_by_the_names_the_daemon_reports(ports):
    midi_in, midi_out = ports
    assert (midi_in.name, midi_out.name) == (
        "Magenta Bridge In:Ports Test In",
        "Magenta Bridge Out:Ports Test Out",
    )
    listed = available_ports("jack")
    assert midi_out.name in listed["inputs"], "the daemon's output sends MIDI to others"
    assert midi_in.name in listed["outputs"]


def test_closed_ports_leave_the_system(jack_server):
    midi_in, midi_out = open_ports(JACK)
    for _ in range(2):  # closing twice is harmless, as a shutdown after a failure may
        midi_in.close()
        midi_out.close()
    midi_out.send(mido.Message("note_off", note=60))  # a late note-off after shutdown: dropped
    listed = available_ports("jack")
    assert not any("Ports Test" in name for names in listed.values() for name in names)


def test_a_second_daemon_with_the_same_port_names_is_refused(ports):
    with pytest.raises(MidiUnavailable, match=r"'Ports Test In' exists already.*another"):
        open_ports(JACK)
    assert not any("-01" in name for name in available_ports("jack")["outputs"]), "cleaned up"


def test_existing_ports_are_opened_by_name_as_on_windows(jack_server):
    """`virtual: false` connects to ports made by another program, as to loopMIDI's."""
    loop_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="loopMIDI")
    loop_out.open_virtual_port("Loop Port")
    loop_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="loopMIDI back")
    loop_in.open_virtual_port("Loop Port")
    config = MidiConfig(api="jack", in_port="Loop Port", out_port="Loop Port", virtual=False)
    midi_in, midi_out = open_ports(config)
    try:
        assert (midi_in.name, midi_out.name) == ("loopMIDI:Loop Port", "loopMIDI back:Loop Port")
        heard = []
        midi_in.subscribe(lambda message, _: heard.append(message))
        time.sleep(0.2)  # JACK makes the connections
        loop_out.send_message([0x90, 67, 80])
        midi_out.send(mido.Message("note_off", note=67))
        deadline = time.monotonic() + 5
        echoed = None
        while echoed is None and time.monotonic() < deadline:
            echoed = loop_in.get_message()
            time.sleep(0.01)
        assert heard == [mido.Message("note_on", note=67, velocity=80)]
        assert echoed is not None and echoed[0] == [0x80, 67, 64]
    finally:
        midi_in.close()
        midi_out.close()
        for port in (loop_in, loop_out):
            port.close_port()
            port.delete()


def test_a_missing_named_port_is_refused_with_the_ports_there(ports):
    config = MidiConfig(api="jack", in_port="loopMIDI Port", virtual=False)
    with pytest.raises(MidiUnavailable, match="no such port for input 'loopMIDI Port'") as error:
        open_ports(config)
    assert "Magenta Bridge Out:Ports Test Out" in str(error.value)


def test_a_jack_server_that_is_not_running_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "magenta-bridge-no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    with pytest.raises(MidiUnavailable, match=r"jack: no MIDI system .*start a JACK server"):
        open_ports(JACK)
    with pytest.raises(MidiUnavailable, match="start a JACK server"):
        available_ports("jack")


@pytest.mark.skipif(not NO_ALSA_SEQUENCER, reason="this machine has an ALSA sequencer")
def test_no_alsa_sequencer_is_one_clear_error():
    with pytest.raises(MidiUnavailable, match=r"alsa: no MIDI system .*snd-seq"):
        open_ports(MidiConfig(api="alsa"))


def test_apis_this_rtmidi_lacks_or_nobody_knows_are_refused_by_name():
    assert resolve_api("auto") == {"darwin": "coremidi", "win32": "windows"}.get(
        sys.platform, "alsa"
    )
    if "coremidi" not in compiled_apis():
        with pytest.raises(MidiUnavailable, match="coremidi: python-rtmidi here was built without"):
            open_ports(MidiConfig(api="coremidi"))
    with pytest.raises(MidiUnavailable, match="unknown MIDI api 'pipewire'"):
        resolve_api("pipewire")


def test_listed_names_match_with_or_without_client_and_rtmidis_number():
    """As rtmidi lists them on ALSA ("client:port 128:0") and Windows ("loopMIDI Port 1")."""
    from bridge.frontends.midi.ports import _matching

    listed = ["Magenta Bridge In:Magenta Bridge In 128:0", "loopMIDI Port 1", "loop:Port 2"]
    assert _matching(listed, "Magenta Bridge In") == [listed[0]]
    assert _matching(listed, "loopMIDI Port") == [listed[1]]
    assert _matching(listed, "Port 2") == [listed[2]], "a name ending in a number is kept whole"
    assert _matching(listed, "Bridge In") == []


@pytest.fixture
def wedged_jack(jack_server, monkeypatch):
    """A second JACK server, stopped (SIGSTOP) after it started: it accepts a client's
    connection and never answers, as a hung server does."""
    name = f"{jack_server}-wedged"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    server = start_jack(shutil.which("jackd"), name)
    server.send_signal(signal.SIGSTOP)
    yield name
    server.send_signal(signal.SIGCONT)
    stop_jack(server)


def test_a_wedged_jack_server_is_refused_in_seconds_not_waited_on_forever(wedged_jack):
    started = time.monotonic()
    with pytest.raises(MidiUnavailable, match=r"did not answer a client within 2 s"):
        check_answers("jack", seconds=2)
    assert time.monotonic() - started < 30  # the probe was killed, not waited on
    with pytest.raises(MidiUnavailable, match="stopped or wedged"):
        available_ports("jack")  # doctor's listing asks first too
