"""OscService apart from sockets: packets in, replies recorded by a peer that stands for a
transport, a real engine, model and store behind it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_packet import OscPacket

from bridge.config import Config, Limits, ModelEntry
from bridge.engine.engine import Engine
from bridge.engine.warm_models import WarmModels
from bridge.frontends.osc.service import OscService, OscSettings
from bridge.frontends.osc.wire import ReplyTooLarge, message
from bridge.store import ResultStore

REPO = Path(__file__).resolve().parents[3]
MODEL = REPO / "tests" / "fixtures" / "melody_rnn" / "attention_rnn.mag"


@dataclass
class Inbox:
    """Every reply any peer of one test was sent, with the port it went to."""

    replies: list[tuple[int, str, list]] = field(default_factory=list)
    final: threading.Event = field(default_factory=threading.Event)

    def of(self, address: str) -> list[list]:
        return [args for _, got, args in self.replies if got == address]


@dataclass(frozen=True)
class RecordingPeer:
    """A peer as a transport makes one: who sent, where replies go, how large they may be."""

    inbox: Inbox
    host: str = "127.0.0.1"
    source_port: int = 9000
    port: int = 9000
    max_packet: int | None = 8192

    @property
    def client(self) -> str:
        return f"udp:{self.host}"

    @property
    def sender(self) -> str:
        return f"udp:{self.host}:{self.source_port}"

    def send(self, packet: bytes) -> None:
        if self.max_packet is not None and len(packet) > self.max_packet:
            raise ReplyTooLarge(f"a reply of {len(packet)} bytes exceeds {self.max_packet}")
        for timed in OscPacket(packet).messages:
            address = timed.message.address
            self.inbox.replies.append((self.port, address, list(timed.message.params)))
            if address in ("/magenta/job/done", "/magenta/error"):
                self.inbox.final.set()

    def with_reply_port(self, port: int) -> RecordingPeer:
        return replace(self, port=port)


@pytest.fixture
def service(tmp_path):
    spec = ModelEntry("fixture", "melody_rnn", MODEL, "cpu")
    config = Config({"fixture": spec}, "fixture", limits=Limits())
    store = ResultStore(tmp_path / "data")
    engine = Engine(WarmModels.load(config), store, config.limits)
    yield OscService(engine, OscSettings(input_folder=REPO / "examples", token=None))
    engine.close()
    store.close()


def run(service: OscService, peer: RecordingPeer, *packets: bytes) -> Inbox:
    for packet in packets:
        service.handle(packet, peer)
    return peer.inbox


def test_garbage_and_empty_bundles_each_get_one_error(service):
    inbox = run(service, RecordingPeer(Inbox()), b"\x00\xff garbage")
    assert [args[0] for args in inbox.of("/magenta/error")] == [""]
    run(service, RecordingPeer(inbox), OscBundleBuilder(IMMEDIATELY).build().dgram)
    assert inbox.of("/magenta/error")[-1] == ["", "an empty OSC bundle: nothing to do"]


def test_an_upload_from_one_socket_is_continued_from_another_of_the_same_host(service):
    inbox = Inbox()
    first, second = RecordingPeer(inbox, source_port=1), RecordingPeer(inbox, source_port=2)
    run(service, first, message("/magenta/clip/file", "r", 0, "folk_melody.mid"))
    run(service, second, message("/magenta/tool/continue", "r", "bars", 1, "reply_port", 7000))
    assert inbox.final.wait(60)
    done = [(port, args) for port, address, args in inbox.replies if address.endswith("done")]
    assert len(done) == 1 and done[0][0] == 7000  # where the request said replies go


def test_another_host_has_no_clip_under_the_same_request_id(service):
    inbox = Inbox()
    run(service, RecordingPeer(inbox), message("/magenta/clip/file", "r", 0, "folk_melody.mid"))
    run(service, RecordingPeer(inbox, host="10.0.0.2"), message("/magenta/tool/continue", "r"))
    assert "no clip was uploaded" in inbox.of("/magenta/error")[-1][1]


def test_a_reply_too_large_for_the_peer_becomes_an_error_with_the_request_id(service):
    inbox = run(service, RecordingPeer(Inbox(), max_packet=64), message("/magenta/tools/list", "q"))
    (error,) = inbox.of("/magenta/error")
    assert error[0] == "q" and "exceeds 64" in error[1]


def test_the_health_check_reports_the_workers_and_the_queue(service):
    inbox = run(service, RecordingPeer(Inbox()), message("/magenta/test", "h"))
    assert inbox.of("/magenta/test") == [["h", "ok", "0.1.0", 1, 1, 0, 0]]


def test_a_token_guards_everything_but_test_and_auth_per_socket(service):
    guarded = OscService(service.engine, OscSettings(REPO / "examples", token="s3cret"))
    inbox = Inbox()
    alice, bob = RecordingPeer(inbox, source_port=1), RecordingPeer(inbox, source_port=2)
    run(guarded, alice, message("/magenta/auth", "a", "s3cret"))
    run(guarded, bob, message("/magenta/tools/list", "b"))
    run(guarded, alice, message("/magenta/tools/list", "a2"))
    assert inbox.of("/magenta/auth") == [["a", "ok"]]
    assert inbox.of("/magenta/error")[0][:1] == ["b"]
    assert "unauthorised" in inbox.of("/magenta/error")[0][1]
    assert inbox.of("/magenta/tools/list")[0][0] == "a2"


def test_a_job_answers_accepted_progress_results_then_done_under_its_request_id(service):
    inbox = Inbox()
    peer = RecordingPeer(inbox)
    run(service, peer, message("/magenta/clip/file", "j", 0, "folk_melody.mid"))
    run(service, peer, message("/magenta/tool/continue", "j", "bars", 2, "variations", 2))
    assert inbox.final.wait(60)
    job = [(address, args) for _, address, args in inbox.replies if "/job/" in address]
    order = [address.rsplit("/", 1)[1] for address, _ in job]
    assert order[0] == "accepted" and order[-1] == "done"
    assert {"progress", "result"} <= set(order) and order.index("result") > order.index("progress")
    assert all(args[0] == "j" for _, args in job)
    assert len({args[1] for address, args in job if address.endswith("result")}) == 2


def test_bad_parameters_and_unknown_addresses_are_named_with_the_request_id(service):
    inbox = Inbox()
    peer = RecordingPeer(inbox)
    run(service, peer, message("/magenta/clip/file", "p", 0, "folk_melody.mid"))
    run(service, peer, message("/magenta/tool/continue", "p", "bars", 0))
    run(service, peer, message("/magenta/tool/continue", "p", "colour", "red"))
    run(service, peer, message("/magenta/tool/dance", "q"))
    errors = inbox.of("/magenta/error")
    assert errors[0][0] == "p" and "bars must be between 1 and 64, got 0" in errors[0][1]
    assert errors[1][0] == "p" and "unknown parameter 'colour'" in errors[1][1]
    assert errors[2][0] == "q" and "dance" in errors[2][1]
    inbox.final.clear()
    run(service, peer, message("/magenta/tool/continue", "p", "bars", 1))
    assert inbox.final.wait(60) and inbox.of("/magenta/job/done"), "the clip was kept"


def test_a_waiting_job_is_cancelled_by_its_request_id(service):
    inbox = Inbox()
    peer = RecordingPeer(inbox)
    for request_id in ("long", "short"):
        run(service, peer, message("/magenta/clip/file", request_id, 0, "folk_melody.mid"))
    run(service, peer, message("/magenta/tool/continue", "long", "bars", 64, "variations", 8))
    run(service, peer, message("/magenta/tool/continue", "short", "bars", 1, "beam_size", 2))
    run(service, peer, message("/magenta/job/cancel", "short"))
    run(service, peer, message("/magenta/job/cancel", "long"))
    engine = service.engine
    deadline = time.monotonic() + 60
    while engine.health().queued + engine.health().running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ["short", "cancelled"] in inbox.of("/magenta/error")
    assert ["long", "cancelled"] in inbox.of("/magenta/error")
    assert not inbox.of("/magenta/job/done")
