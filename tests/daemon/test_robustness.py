"""Bad input of every kind gets /magenta/error with the request id, and the daemon goes on."""

from __future__ import annotations

import pytest
from osc_clients import UdpClient

from bridge.frontends.osc.wire import message

NAN = float("nan")

BAD_REQUESTS = [
    # (messages to send, expected request id, words the error must contain)
    ([("/magenta/nowhere", "u1")], "u1", "unknown address"),
    ([("/magenta/tool/continue", "p1")], "p1", "no clip was uploaded"),
    ([("/magenta/clip/begin", "b1", 0, 3)], "b1", "4 to 9 arguments"),
    ([("/magenta/clip/begin", "b2", 0, "many", 4.0)], "b2", "note_count must be a number"),
    ([("/magenta/clip/begin", "b3", 0, 10**9, 4.0)], "b3", "note count must be between"),
    ([("/magenta/clip/begin", "b4", 0, 1, NAN)], "b4", "clip length"),
    ([("/magenta/clip/begin", "b5", 0, 1, 4.0, 120.0, 4, 0)], "b5", "denominator"),
    ([("/magenta/clip/begin", "b6", 9, 1, 4.0)], "b6", "slot must be"),
    ([("/magenta/clip/notes", "n1", 0, 0, 60, 0.0, 1.0, 100, 0)], "n1", "before clip/begin"),
    (
        [("/magenta/clip/begin", "n2", 0, 1, 4.0), ("/magenta/clip/notes", "n2", 0, 0, 60, 0.0)],
        "n2",
        "notes are 5 values each",
    ),
    (
        [
            ("/magenta/clip/begin", "n3", 0, 1, 4.0),
            ("/magenta/clip/notes", "n3", 0, 0, 200, 0.0, 1.0, 100, 0),
        ],
        "n3",
        "pitch",
    ),
    (
        [
            ("/magenta/clip/begin", "n4", 0, 1, 4.0),
            ("/magenta/clip/notes", "n4", 0, 5, 60, 0.0, 1.0, 100, 0),
        ],
        "n4",
        "chunk index 5 is out of range",
    ),
    (
        [
            ("/magenta/clip/begin", "n5", 0, 1, 4.0),
            ("/magenta/clip/notes", "n5", 0, 0, 60, 0.0, 1.0, 100, 0, 62, 1.0, 1.0, 100, 0),
        ],
        "n5",
        "more notes than the 1 announced",
    ),
    (
        [
            ("/magenta/clip/begin", "n6", 0, 1, 4.0),
            ("/magenta/clip/notes", "n6", 0, 0, 60, -1.0, 1.0, 100, 0),
        ],
        "n6",
        "start",
    ),
    ([("/magenta/clip/file", "f1", 0, "../README.md")], "f1", "outside the input folder"),
    ([("/magenta/clip/file", "f2", 0, "/etc/passwd")], "f2", "outside the input folder"),
    ([("/magenta/clip/file", "f3", 0, "missing.mid")], "f3", "no file"),
    ([("/magenta/job/cancel", "c1")], "c1", "no queued or running job"),
    ([("/magenta/job/get", "g1", "../../etc")], "g1", "invalid job id"),
    ([("/magenta/job/get", "g2", "20260101T000000-abcdef")], "g2", "no job"),
    ([("/magenta/auth", "a1")], "a1", "takes 2 argument"),
]

TOOL_ERRORS = [
    (("bars", 10_000), "bars must be between 1 and 64"),
    (("bars", NAN), "bars must be a finite number"),
    (("bars", 2.5), "bars must be a whole number"),
    (("temperature", 0.0), "temperature must be between"),
    (("temperature", "hot"), "temperature must be a number"),
    (("variations", 1000), "variations must be between 1 and 64"),
    (("key", "H:major"), "unknown key"),
    (("colour", 3), "unknown parameter 'colour'"),
    (("bars",), "key/value pairs"),
    (("model", "nope"), "unknown model 'nope'"),
    (("pitch_low", 80, "pitch_high", 60), "pitch_low (80) must not be above pitch_high"),
    (("key", "C:major", "pitch_low", 61, "pitch_high", 61), "leave no pitch"),
    (("render", 7), "render must be a whole number 0..1"),
]


def assert_still_serving(client: UdpClient) -> None:
    client.send("/magenta/test", "alive")
    assert client.receive(("/magenta/test",))[-1][1][:2] == ["alive", "ok"]


@pytest.mark.parametrize(("messages", "request_id", "words"), BAD_REQUESTS)
def test_bad_requests_get_a_clear_error(udp, messages, request_id, words):
    for address, *args in messages:
        udp.send(address, *args)
    _, args = udp.receive(("/magenta/error",))[-1]
    assert args[0] == request_id
    assert words in args[1]
    assert_still_serving(udp)


@pytest.mark.parametrize(("params", "words"), TOOL_ERRORS)
def test_bad_tool_parameters_are_refused_and_the_clip_is_kept(udp, params, words):
    udp.send("/magenta/clip/file", "t", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "t", *params)
    assert udp.receive(("/magenta/error",))[-1][1] == ["t", udp_error_text(udp, words)]
    # Nothing the client sent is lost: the same upload serves a corrected request.
    udp.send("/magenta/tool/continue", "t", "bars", 1)
    assert udp.receive()[-1][0] == "/magenta/job/done"


def udp_error_text(udp, words: str) -> str:
    """The error text last received, checked to contain `words`."""
    text = udp.last_error
    assert words in text, text
    return text


@pytest.mark.parametrize(
    "packet",
    [
        b"garbage",
        b"",
        b"/magenta/test\x00\x00\x00,i\x00\x00",  # int argument without its bytes
        b"#bundle\x00" + b"\x00" * 4,  # truncated bundle
        b"\xff" * 300,
    ],
)
def test_garbage_bytes_get_an_error_and_the_daemon_goes_on(udp, packet):
    udp.send_raw(packet)
    _, args = udp.receive(("/magenta/error",))[-1]
    assert args[0] == "" and "not an OSC packet" in args[1]
    assert_still_serving(udp)


def test_an_oversized_datagram_is_refused(udp):
    udp.send_raw(message("/magenta/clip/notes", "big", 0, 0, *([60.0] * 2500)))
    _, args = udp.receive(("/magenta/error",))[-1]
    assert args[0] == "big"  # named from the datagram's head, though the rest is unread
    assert "exceeds the 8192-byte limit" in args[1]
    assert_still_serving(udp)


def test_a_bundle_of_requests_is_answered_message_by_message(udp):
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    bundle = OscBundleBuilder(IMMEDIATELY)
    for request_id in ("x1", "x2"):
        builder = OscMessageBuilder("/magenta/test")
        builder.add_arg(request_id)
        bundle.add_content(builder.build())
    udp.send_raw(bundle.build().dgram)
    first = udp.receive(("/magenta/test",))[-1][1][0]
    second = udp.receive(("/magenta/test",))[-1][1][0]
    assert {first, second} == {"x1", "x2"}


def test_token_protects_everything_but_test_and_auth(make_daemon):
    daemon = make_daemon(osc={"token": "s3cret"})
    client = UdpClient(daemon.udp.address[1])
    client.send("/magenta/models/list", "m1")
    assert "unauthorised" in client.receive(("/magenta/error",))[-1][1][1]
    client.send("/magenta/auth", "a1", "wrong")
    assert client.receive(("/magenta/error",))[-1][1] == ["a1", "wrong token"]
    client.send("/magenta/auth", "a2", "s3cret")
    assert client.receive(("/magenta/auth",))[-1][1] == ["a2", "ok"]
    client.send("/magenta/models/list", "m2")
    assert client.receive(("/magenta/models/list",))[-1][1][0] == "m2"
    client.close()
