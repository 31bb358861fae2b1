"""The daemon as other people's code meets it: several sockets per client, other hosts,
replies too large for a datagram, absurd clips, bursts, quotas, tokens, IPv6.

Every test talks to a real daemon over real loopback sockets; 127.0.0.2 stands for another
host (Linux routes all of 127/8 to loopback).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from osc_clients import REPO, TcpClient, UdpClient, upload, wait_for

from bridge.frontends.osc.access import AccessError, check_listen_address
from bridge.frontends.osc.wire import message
from bridge.music.midi import read_midi

FOLK = read_midi(REPO / "examples" / "folk_melody.mid")


def _other_host_available() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.2", 0))
        except OSError:
            return False
    return True


other_host = pytest.mark.skipif(not _other_host_available(), reason="127.0.0.2 not routable")


def test_a_client_may_upload_from_one_socket_and_ask_from_another(daemon):
    """liblo's oscsend sends each message from a new socket; replies go to a reply port."""
    port = daemon.udp.address[1]
    listener, first, second = UdpClient(port), UdpClient(port), UdpClient(port)
    reply_port = listener.sock.getsockname()[1]
    first.send("/magenta/clip/file", "r1", 0, "folk_melody.mid", reply_port)
    assert listener.receive(("/magenta/clip/ready",))[-1][1][:2] == ["r1", 0]
    second.send("/magenta/tool/continue", "r1", "bars", 1, "seed", 7, "reply_port", reply_port)
    replies = listener.receive()
    assert replies[-1][0] == "/magenta/job/done", listener.last_error
    assert any(address == "/magenta/job/result" for address, _ in replies)


@other_host
def test_another_host_never_reaches_a_clients_uploads_or_jobs(daemon):
    port = daemon.udp.address[1]
    owner, stranger = UdpClient(port), UdpClient(port, host="127.0.0.2")
    owner.send("/magenta/clip/file", "mine", 0, "folk_melody.mid")
    owner.receive(("/magenta/clip/ready",))
    stranger.send("/magenta/tool/continue", "mine", "bars", 1)
    assert "no clip was uploaded" in stranger.receive()[-1][1][1]
    stranger.send("/magenta/job/cancel", "mine")
    assert "no queued or running job" in stranger.receive()[-1][1][1]
    owner.send("/magenta/tool/continue", "mine", "bars", 1)  # the upload is still there
    assert owner.receive()[-1][0] == "/magenta/job/done"


def test_a_shared_reply_port_shares_no_authorisation(make_daemon, tmp_path):
    """osc.reply_port sends every client's replies to one port; rights stay per socket."""
    listener = UdpClient(0)
    reply_port = listener.sock.getsockname()[1]
    daemon = make_daemon(osc={"token": "s3cret", "reply_port": reply_port})
    port = daemon.udp.address[1]
    listener.port = port
    alice, bob = UdpClient(port), UdpClient(port)
    alice.send("/magenta/auth", "a", "s3cret")
    assert listener.receive(("/magenta/auth",))[-1][1] == ["a", "ok"]
    alice.send("/magenta/clip/file", "a1", 0, "folk_melody.mid")
    listener.receive(("/magenta/clip/ready",))
    for request in (("/magenta/tool/continue", "a1"), ("/magenta/job/cancel", "a1")):
        bob.send(*request)
        error = listener.receive(("/magenta/error",))[-1][1]
        assert error[0] == "a1" and error[1].startswith("unauthorised")
    alice.send("/magenta/tool/continue", "a1", "bars", 1)
    assert listener.receive()[-1][0] == "/magenta/job/done"


def test_a_reply_too_large_for_a_datagram_leaves_the_daemon_working(make_daemon):
    """64 result paths do not fit a 1024-byte job/done: they come as job/file each."""
    daemon = make_daemon(osc={"max_datagram": 1024})
    udp = UdpClient(daemon.udp.address[1])
    udp.send("/magenta/clip/file", "many", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "many", "bars", 1, "variations", 64, "seed", 1)
    replies = udp.receive()
    assert replies[-1][0] == "/magenta/job/done", udp.last_error
    files = [args for address, args in replies if address == "/magenta/job/file"]
    assert [args[1:3] for args in files] == [[index, 64] for index in range(64)]
    assert all(Path(args[3]).is_file() for args in files)
    assert max(udp.sizes) <= 1024
    assert_workers_alive(udp)
    udp.send("/magenta/clip/file", "next", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "next", "bars", 1)
    assert udp.receive()[-1][0] == "/magenta/job/done"


def test_a_query_reply_too_large_for_a_datagram_is_an_error_naming_tcp(make_daemon):
    from fixture_daemons import FIXTURE_MODEL

    models = {
        f"model-{n:02d}": {"family": "melody_rnn", "path": str(FIXTURE_MODEL)} for n in range(30)
    }
    daemon = make_daemon(osc={"max_datagram": 1024}, models=models, default_model="model-00")
    udp = UdpClient(daemon.udp.address[1])
    udp.send("/magenta/models/list", "all")
    address, args = udp.receive()[-1]
    assert address == "/magenta/error" and args[0] == "all"
    assert "1024-byte datagram limit" in args[1] and "TCP" in args[1]
    tcp = TcpClient(daemon.udp.address[1])
    tcp.send("/magenta/models/list", "all")
    assert len(tcp.receive(("/magenta/models/list",))[-1][1]) == 1 + 4 * 31  # and "fixture"
    assert_workers_alive(udp)


@pytest.mark.parametrize(
    ("begin", "notes", "words"),
    [
        ((0, 1, 1e7), None, "exceeds the 1024-beat limit"),
        ((0, 1, float("nan")), None, "exceeds the 1024-beat limit"),
        ((0, 1, 8.0), [60, 1e30, 1, 100, 0], "note 0"),
        ((0, 1, 8.0), [60, 9.0, 1, 100, 0], "note 0"),
    ],
)
def test_absurd_clips_are_refused_at_the_door(udp, begin, notes, words):
    udp.send("/magenta/clip/begin", "absurd", *begin)
    if notes is not None:
        udp.send("/magenta/clip/notes", "absurd", 0, 0, *notes)
    address, args = udp.receive(("/magenta/error", "/magenta/clip/ready"))[-1]
    assert address == "/magenta/error" and args[0] == "absurd"
    assert words in args[1]
    assert_workers_alive(udp)


def test_a_job_past_its_timeout_is_stopped_and_the_worker_goes_on(make_daemon):
    daemon = make_daemon(engine={"job_timeout_s": 0.5}, limits={"max_bars": 2000})
    udp = UdpClient(daemon.udp.address[1])
    udp.send("/magenta/clip/file", "long", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "long", "bars", 2000, "variations", 64)
    assert udp.receive()[-1][1] == ["long", "timed out after 0.5 s"]
    wait_for(lambda: daemon.engine.health().running == 0)
    assert_workers_alive(udp)


def test_midi_files_too_dense_too_large_or_cut_short_are_refused_by_name(make_daemon, tmp_path):
    import mido

    folder = tmp_path / "in"
    folder.mkdir()
    track = mido.MidiTrack()
    for _ in range(3000):
        track += [mido.Message("note_on", note=60, velocity=90, time=0)]
        track += [mido.Message("note_off", note=60, velocity=0, time=10)]
    mido.MidiFile(tracks=[track]).save(folder / "dense.mid")
    (folder / "huge.mid").write_bytes(b"MThd" + b"\0" * 5_000_000)
    (folder / "cut.mid").write_bytes((REPO / "examples" / "folk_melody.mid").read_bytes()[:40])
    daemon = make_daemon(osc={"input_folder": str(folder)}, limits={"max_notes": 1000})
    udp = UdpClient(daemon.udp.address[1])
    udp.send("/magenta/clip/file", "dense", 0, "dense.mid")
    assert "more than 1000 notes" in udp.receive()[-1][1][1]
    udp.send("/magenta/clip/file", "huge", 0, "huge.mid")
    assert "limits.max_file_bytes" in udp.receive()[-1][1][1]
    udp.send("/magenta/clip/file", "cut", 0, "cut.mid")
    reason = udp.receive()[-1][1][1].split("cannot be read as MIDI:")[-1]
    assert reason.strip(), "the error names no reason"


def test_a_burst_from_many_clients_gets_every_reply(daemon):
    """16 clients x 20 requests at once on UDP, half of them MIDI files to read: none is
    lost at the daemon's socket while it reads the files."""
    port = daemon.udp.address[1]
    clients = [UdpClient(port) for _ in range(16)]
    for n in range(10):
        for index, client in enumerate(clients):
            client.send("/magenta/clip/file", f"f{index}-{n}", 0, "folk_melody.mid")
            client.send("/magenta/test", f"t{index}-{n}")
    for index, client in enumerate(clients):
        ids = []
        while len(ids) < 20:
            replies = client.receive(("/magenta/test", "/magenta/clip/ready", "/magenta/error"))
            ids.append(replies[-1][1][0])
        expected = [f"{kind}{index}-{n}" for n in range(10) for kind in "ft"]
        assert sorted(ids) == sorted(expected), client.last_error


def test_fuzzed_packets_each_get_an_answer(udp):
    """Bit flips and cuts of requests that are all answered, alone or in a bundle: each
    fuzzed packet gets a reply (clip/begin is left out: a valid one waits for its notes)."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    bundle = OscBundleBuilder(IMMEDIATELY)
    for request_id in ("b1", "b2"):
        builder = OscMessageBuilder("/magenta/test")
        builder.add_arg(request_id)
        bundle.add_content(builder.build())
    seeds = [
        bundle.build().dgram,
        message("/magenta/test", "t1"),
        message("/magenta/tools/list", "t2"),
        message("/magenta/job/cancel", "t3"),
        message("/magenta/clip/notes", "t4", 0, 0, 60, 0.0, 1.0, 100, 0),
    ]
    rng = random.Random(15)
    udp.sock.settimeout(5)
    for n in range(400):
        packet = bytearray(rng.choice(seeds))
        if n % 3 == 0:
            packet = packet[: rng.randrange(1, len(packet))]
        for _ in range(rng.randint(1, 4)):
            packet[rng.randrange(len(packet))] ^= 1 << rng.randrange(8)
        udp.send("/magenta/test", f"before-{n}")
        udp.receive(("/magenta/test",))
        udp.send_raw(bytes(packet))
        udp.send("/magenta/test", f"after-{n}")
        replies = udp.receive(("/magenta/test",))
        while replies[-1][1][0] != f"after-{n}":
            replies += udp.receive(("/magenta/test",))
        assert len(replies) >= 2, f"packet {bytes(packet)!r} got no reply"
    assert_workers_alive(udp)


def test_one_clients_open_uploads_never_block_anothers(make_daemon):
    daemon = make_daemon(limits={"max_uploads_per_client": 4})
    port = daemon.udp.address[1]
    greedy, other = UdpClient(port), UdpClient(port)
    for n in range(4):
        greedy.send("/magenta/clip/begin", f"g{n}", 0, 5, 8.0)
    greedy.send("/magenta/clip/begin", "g4", 0, 5, 8.0)
    error = greedy.receive()[-1][1]
    assert error[0] == "g4" and "limits.max_uploads_per_client" in error[1]
    upload(other, "fine", FOLK.to_flat(), FOLK.length)
    assert other.receive(("/magenta/clip/ready",))[-1][1][0] == "fine"


def test_a_listener_beyond_loopback_needs_a_token():
    with pytest.raises(AccessError, match=r"osc\.token"):
        check_listen_address("0.0.0.0", None, False)
    check_listen_address("0.0.0.0", "s3cret", False)
    check_listen_address("0.0.0.0", None, True)  # the explicit opt-out
    check_listen_address("::1", None, False)


def test_serve_refuses_all_interfaces_without_a_token(tmp_path):
    import subprocess
    import sys

    from fixture_daemons import write_config

    config = write_config(tmp_path)
    serve = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge.frontends.cli",
            "serve",
            "--config",
            str(config),
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert serve.returncode == 1
    assert "refusing to listen on 0.0.0.0 without a token" in serve.stderr


def test_wrong_tokens_are_rate_limited_per_host(make_daemon):
    daemon = make_daemon(osc={"token": "s3cret"})
    udp = UdpClient(daemon.udp.address[1])
    for n in range(5):
        udp.send("/magenta/auth", f"w{n}", "guess")
        assert udp.receive()[-1][1] == [f"w{n}", "wrong token"]
    udp.send("/magenta/auth", "right", "s3cret")  # even the right one waits now
    assert "too many wrong tokens" in udp.receive()[-1][1][1]
    udp.send("/magenta/test", "t", udp.sock.getsockname()[1] + 1)
    assert "reply_port needs /magenta/auth" in udp.receive()[-1][1][1]


def test_ipv6_loopback_serves_udp_and_tcp(make_daemon):
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError as error:
        pytest.skip(f"no IPv6 loopback on this machine: {error}")
    daemon = make_daemon(osc={"host": "::1"})
    port = daemon.udp.address[1]
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as client:
        client.settimeout(10)
        client.sendto(message("/magenta/test", "v6"), ("::1", port))
        data, _ = client.recvfrom(65_536)
    assert b"v6" in data and b"ok" in data
    with socket.create_connection(("::1", port), timeout=10) as conn:
        tcp = TcpClient.__new__(TcpClient)
        tcp.sock, tcp.pending = conn, []
        from bridge.frontends.osc import slip

        tcp.decoder = slip.Decoder(1 << 20)
        tcp.send("/magenta/test", "v6tcp")
        assert tcp.receive(("/magenta/test",))[-1][1][:2] == ["v6tcp", "ok"]


def assert_workers_alive(client: UdpClient) -> None:
    client.send("/magenta/test", "health")
    args = client.receive(("/magenta/test",))[-1][1]
    assert args[0] == "health" and args[1] == "ok" and args[3] == args[4], args


def test_every_request_of_concurrent_tcp_clients_is_answered_once(daemon):
    """Four TCP clients continuing at once: each request ends exactly once."""
    port = daemon.udp.address[1]
    results: dict[int, list] = {}

    def client(index: int) -> None:
        tcp = TcpClient(port)
        finals = []
        for n in range(3):
            tcp.send("/magenta/clip/file", f"r{n}", 0, "folk_melody.mid")
            tcp.send("/magenta/tool/continue", f"r{n}", "bars", 1, "seed", n)
            finals.append(tcp.receive()[-1])
        tcp.send("/magenta/test", "end")
        finals += [r for r in tcp.receive(("/magenta/test",)) if r[0] != "/magenta/clip/ready"]
        results[index] = finals
        tcp.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for finals in results.values():
        assert [address for address, _ in finals] == ["/magenta/job/done"] * 3 + ["/magenta/test"]
    assert len(results) == 4


def test_the_command_line_client_presents_the_token(make_daemon, tmp_path):
    """`magenta-bridge client --token` (or $MAGENTA_BRIDGE_TOKEN) authorises its connection
    first; without it, the daemon's refusal is the client's one-line error."""
    daemon = make_daemon(osc={"token": "s3cret"})
    port = str(daemon.tcp.address[1])
    tune = REPO / "examples" / "folk_melody.mid"

    def client(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "bridge.frontends.cli", "client", "--port", port, *args]
        environment = {k: v for k, v in os.environ.items() if k != "MAGENTA_BRIDGE_TOKEN"}
        return subprocess.run(
            command,
            cwd=REPO,
            env={**environment, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    refused = client("models")
    assert refused.returncode == 1 and "unauthorised" in refused.stderr
    listed = client("--token", "s3cret", "models")
    assert listed.returncode == 0 and listed.stdout.strip(), listed.stderr
    out = tmp_path / "next.mid"
    done = client(
        "continue", str(tune), "-o", str(out), "--bars", "1", env={"MAGENTA_BRIDGE_TOKEN": "s3cret"}
    )
    assert done.returncode == 0, done.stderr
    assert read_midi(out).notes
    wrong = client("--token", "nope", "models")
    assert wrong.returncode == 1 and "wrong token" in wrong.stderr
