"""The OSC API over one TCP connection with SLIP framing (OSC 1.1), on real sockets."""

from __future__ import annotations

import socket
import time

import pytest
from osc_clients import REPO, TcpClient, upload
from test_osc_udp import result_clips

from bridge.frontends.osc import slip
from bridge.frontends.osc.service import NOTE_BYTES
from bridge.frontends.osc.transport import TcpServer
from bridge.frontends.osc.wire import message
from bridge.music.midi import read_midi

FOLK = read_midi(REPO / "examples" / "folk_melody.mid")


@pytest.fixture
def tcp(daemon):
    client = TcpClient(daemon.tcp.address[1])
    yield client
    client.close()


def assert_still_serving(client: TcpClient, request_id: str = "alive") -> None:
    client.send("/magenta/test", request_id)
    assert client.receive(("/magenta/test",))[-1][1][:2] == [request_id, "ok"]


def test_continue_over_tcp_sends_each_result_in_one_message(make_daemon):
    # A small datagram limit proves TCP ignores it: results travel unsplit.
    daemon = make_daemon(osc={"max_datagram": 1024})
    client = TcpClient(daemon.tcp.address[1])
    upload(client, "t1", FOLK.to_flat(), FOLK.length, chunk_notes=4)
    assert client.receive(("/magenta/clip/ready",))[-1][1] == ["t1", 0, len(FOLK.notes)]
    client.send("/magenta/tool/continue", "t1", "bars", 8, "variations", 3, "seed", 5)
    replies = client.receive()
    addresses = [address for address, _ in replies]
    assert addresses[0] == "/magenta/job/accepted"
    assert "/magenta/job/progress" in addresses
    assert addresses[-1] == "/magenta/job/done"
    assert all(args[0] == "t1" for _, args in replies)
    results = [args for address, args in replies if address == "/magenta/job/result"]
    assert [(r[1], r[2], r[3], r[4]) for r in results] == [(i, 3, 0, 1) for i in range(3)]
    clips = result_clips(replies)
    largest = max(len(clip.notes) for clip in clips)
    assert largest * NOTE_BYTES > 1024, "the test needs a result larger than one datagram"
    job_id, *paths = replies[-1][1][1:]
    assert job_id == replies[0][1][1] and len(paths) == 3
    for clip, path in zip(clips, paths, strict=True):
        assert clip.length == 32.0
        assert [(n.pitch, n.start, n.duration) for n in read_midi(path).notes] == [
            (n.pitch, n.start, n.duration) for n in clip.notes
        ]
    assert daemon.store.get(job_id).status == "done"
    client.close()


def test_two_interleaved_requests_each_get_exactly_one_final_reply(tcp):
    tcp.send("/magenta/clip/file", "a", 0, "folk_melody.mid")
    flat = FOLK.to_flat()
    tcp.send("/magenta/clip/begin", "b", 0, len(flat) // 5, float(FOLK.length), 120.0, 4, 4)
    tcp.send("/magenta/clip/notes", "b", 0, 1, *flat[50:])
    tcp.send("/magenta/tool/continue", "a", "bars", 2, "seed", 1)
    tcp.send("/magenta/clip/notes", "b", 0, 0, *flat[:50])
    tcp.send("/magenta/tool/continue", "b", "bars", 1, "variations", 2, "seed", 2)
    finals: dict[str, list] = {"a": [], "b": []}
    replies = []
    while sum(map(len, finals.values())) < 2:
        replies += tcp.receive()
        finals[replies[-1][1][0]].append(replies[-1])
    tcp.send("/magenta/test", "after")  # any third final reply would arrive before this one
    late = tcp.receive(("/magenta/test",))
    assert len(late) == 1 and late[0][1][:3] == ["after", "ok", "0.1.0"]
    assert {k: [address for address, _ in v] for k, v in finals.items()} == {
        "a": ["/magenta/job/done"],
        "b": ["/magenta/job/done"],
    }
    assert {args[0] for _, args in replies} == {"a", "b"}
    ready = [args for address, args in replies if address == "/magenta/clip/ready"]
    assert sorted(ready) == [["a", 0, len(FOLK.notes)], ["b", 0, len(FOLK.notes)]]
    assert len(finals["a"][0][1][2:]) == 1 and len(finals["b"][0][1][2:]) == 2


def test_an_oversized_frame_is_refused_and_its_connection_closed(make_daemon):
    daemon = make_daemon(osc={"max_tcp_packet": 4096})
    port = daemon.tcp.address[1]
    client = TcpClient(port)
    # Just under the limit is fine (SLIP escapes could add a few bytes: keep a margin).
    client.send("/magenta/clip/begin", "ok", 0, 120, 480.0)
    notes = [v for i in range(120) for v in (60 + i % 12, float(i * 4), 1.0, 100, 0)]
    assert len(message("/magenta/clip/notes", "ok", 0, 0, *notes)) < 3900
    client.send("/magenta/clip/notes", "ok", 0, 0, *notes)
    assert client.receive(("/magenta/clip/ready",))[-1][1] == ["ok", 0, 120]
    client.send("/magenta/clip/notes", "big", 0, 0, *([60.0] * 1000))
    assert client.receive()[-1] == (
        "/magenta/error",
        ["", "an OSC packet over 4096 bytes was sent; closing the connection"],
    )
    with pytest.raises(ConnectionError):
        client.receive(("/magenta/test",))
    client.close()
    again = TcpClient(port)
    assert_still_serving(again)
    again.close()


@pytest.mark.parametrize(
    "frame",
    [
        b"garbage",
        b"/magenta/test\x00\x00\x00,i\x00\x00",  # int argument without its bytes
        bytes([slip.ESC, 0x01, 0xFF, 0xFE]),  # an escape SLIP does not define
        b"\xff" * 300,
    ],
)
def test_garbage_inside_a_frame_gets_an_error_and_the_connection_goes_on(tcp, frame):
    tcp.sock.sendall(bytes([slip.END]) + frame + bytes([slip.END]))
    _, args = tcp.receive(("/magenta/error",))[-1]
    assert args[0] == "" and "not an OSC packet" in args[1]
    assert_still_serving(tcp)


def test_a_client_hanging_up_mid_job_leaves_the_daemon_serving(make_daemon):
    daemon = make_daemon(limits={"max_bars": 400})
    port = daemon.tcp.address[1]
    leaver = TcpClient(port)
    leaver.send("/magenta/clip/file", "gone", 0, "folk_melody.mid")
    leaver.receive(("/magenta/clip/ready",))
    leaver.send("/magenta/tool/continue", "gone", "bars", 150, "variations", 4)
    job_id = leaver.receive(("/magenta/job/accepted",))[-1][1][1]
    leaver.close()
    client = TcpClient(port)
    assert_still_serving(client)
    client.send("/magenta/clip/file", "next", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "next", "bars", 1)
    assert client.receive()[-1][0] == "/magenta/job/done"
    # The abandoned job ran to the end (it was queued first) and its results were kept.
    record = daemon.store.get(job_id)
    assert record.status == "done" and len(record.result_paths) == 4
    assert all(path.is_file() for path in record.result_paths)
    assert job_id in [r.job_id for r in daemon.store.history()]
    client.close()


class _LargeReplies:
    """A stand-in service that answers any packet with more bytes than the kernel buffers."""

    COUNT, SIZE = 48, 256 * 1024  # 12 MB: loopback buffers hold about 4 MB each way

    def handle(self, packet: bytes, peer) -> None:
        for index in range(self.COUNT):
            peer.send(message("/big", index, bytes([index]) * self.SIZE))

    def forget(self, peer) -> None:
        """No authorisation to end with the connection."""


def test_a_client_that_reads_slowly_still_gets_every_reply_whole():
    """The real TCP transport with a stand-in service: replies wait for a slow reader."""
    server = TcpServer(_LargeReplies(), "127.0.0.1", 0, max_packet=4096)
    client = TcpClient.__new__(TcpClient)
    client.sock = socket.socket()
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.sock.settimeout(5)
    client.sock.connect(server.address)
    client.decoder, client.pending = slip.Decoder(1 << 24), []
    try:
        client.send("/go")
        time.sleep(1.0)  # busy elsewhere, as a DAW's main thread can be; not an assertion
        replies = []
        while len(replies) < _LargeReplies.COUNT:
            replies += client.receive(("/big",))
        assert [args[0] for _, args in replies] == list(range(_LargeReplies.COUNT))
        assert all(args[1] == bytes([args[0]]) * _LargeReplies.SIZE for _, args in replies)
    finally:
        client.close()
        server.close()


def test_osc_1_0_length_prefixed_clients_are_understood_and_answered_in_kind(daemon):
    """liblo's osc.tcp:// and other OSC 1.0 clients prefix packets with their size."""
    import struct

    from pythonosc.osc_packet import OscPacket

    from bridge.frontends.osc.wire import message

    with socket.create_connection(daemon.tcp.address, timeout=20) as sock:
        for request_id in ("p1", "p2"):
            packet = message("/magenta/test", request_id)
            sock.sendall(struct.pack(">i", len(packet)) + packet)
        replies, buffer = [], b""
        while len(replies) < 2:
            buffer += sock.recv(65_536)
            while len(buffer) >= 4 and len(buffer) >= 4 + struct.unpack(">i", buffer[:4])[0]:
                size = struct.unpack(">i", buffer[:4])[0]
                replies += [t.message.params for t in OscPacket(buffer[4 : 4 + size]).messages]
                buffer = buffer[4 + size :]
    assert [reply[:3] for reply in replies] == [["p1", "ok", "0.1.0"], ["p2", "ok", "0.1.0"]]
