"""The OSC API over real UDP sockets: the documented life cycle of a request, end to end."""

from __future__ import annotations

import wave

from osc_clients import REPO, UdpClient, upload

from bridge.music.clip import Clip
from bridge.music.midi import read_midi
from bridge.music.scales import parse_key

FOLK = read_midi(REPO / "examples" / "folk_melody.mid")


def result_clips(replies: list) -> list[Clip]:
    """Reassemble result clips from /magenta/job/result chunks (any order)."""
    parts: dict[int, dict] = {}
    for address, args in replies:
        if address == "/magenta/job/result":
            _, index, _, chunk, _, length, _drums, *values = args
            parts.setdefault(index, {"length": length})[chunk] = values
    clips = []
    for index in sorted(parts):
        length = parts[index].pop("length")
        flat = [v for chunk in sorted(parts[index]) for v in parts[index][chunk]]
        clips.append(Clip.from_flat(flat, length, FOLK.qpm, FOLK.time_signature))
    return clips


def test_health_check_answers_with_the_request_id(udp):
    udp.send("/magenta/test", "hello")
    # status, version, workers alive of workers, jobs queued, jobs running
    health = ["hello", "ok", "0.1.0", 1, 1, 0, 0]
    assert udp.receive(("/magenta/test",)) == [("/magenta/test", health)]


def test_models_and_tools_are_listed(udp):
    udp.send("/magenta/models/list", "m")
    listed = udp.receive(("/magenta/models/list",))[-1][1]
    assert listed == ["m", "fixture", "melody_rnn", "cpu", "melody"]
    udp.send("/magenta/tools/list", "t")
    assert "continue" in udp.receive(("/magenta/tools/list",))[-1][1]


def test_an_upload_names_its_reply_port(udp):
    """clip/begin's last argument: the upload's replies and errors, clip/notes' too, go there."""
    listener = UdpClient(udp.port)
    port = listener.sock.getsockname()[1]
    udp.send("/magenta/clip/begin", "up", 0, 1, 4.0, 120.0, 4, 4, 0, port)
    udp.send("/magenta/clip/notes", "up", 0, 0, 60, 0.0, 1.0, 100, 0)
    assert listener.receive(("/magenta/clip/ready",)) == [("/magenta/clip/ready", ["up", 0, 1])]
    udp.send("/magenta/clip/begin", "up2", 0, 2, 4.0, 120.0, 4, 4, 0, port)
    udp.send("/magenta/clip/notes", "up2", 0, 0, 60, 0.0, 1.0, 100)  # four values, not five
    (address, args) = listener.receive(("/magenta/error",))[-1]
    assert address == "/magenta/error" and args[0] == "up2" and "5 values each" in args[1]
    udp.send("/magenta/clip/begin", "up3", 0, 10**6, 4.0, 120.0, 4, 4, 0, port)
    (address, args) = listener.receive(("/magenta/error",))[-1]
    assert args[0] == "up3" and "note count must be between 0 and" in args[1]
    listener.close()


def test_queries_answer_at_a_reply_port(udp):
    """A Max device hears only its udpreceive port: every query may name it."""
    listener = UdpClient(udp.port)
    port = listener.sock.getsockname()[1]
    udp.send("/magenta/test", "h", port)
    assert listener.receive(("/magenta/test",))[-1][1][:3] == ["h", "ok", "0.1.0"]
    udp.send("/magenta/models/list", "m", port)
    assert listener.receive(("/magenta/models/list",))[-1][1][:2] == ["m", "fixture"]
    udp.send("/magenta/tools/list", "t", port)
    assert "vary" in listener.receive(("/magenta/tools/list",))[-1][1]
    udp.send("/magenta/test", "h", port, "extra")
    assert "at most" in udp.receive(("/magenta/error",))[-1][1][1]
    listener.close()


def test_continue_a_clip_uploaded_in_chunks_out_of_order(daemon, udp):
    flat = FOLK.to_flat()
    chunks = (len(flat) // 5 + 3) // 4
    upload(udp, "r1", flat, FOLK.length, chunk_notes=4, order=list(reversed(range(chunks))))
    assert udp.receive(("/magenta/clip/ready",))[-1][1] == ["r1", 0, len(FOLK.notes)]
    udp.send("/magenta/tool/continue", "r1", "bars", 2, "variations", 3, "seed", 7, "key", "F")
    replies = udp.receive()
    addresses = [address for address, _ in replies]
    assert addresses[0] == "/magenta/job/accepted"
    assert "/magenta/job/progress" in addresses
    assert addresses[-1] == "/magenta/job/done"
    job_id = replies[0][1][1]
    done = replies[-1][1]
    assert done[:2] == ["r1", job_id] and len(done[2:]) == 3
    clips = result_clips(replies)
    assert len(clips) == 3
    f_major = parse_key("F:major").pitch_classes
    for clip, path in zip(clips, done[2:], strict=True):
        assert clip.length == 8.0
        assert clip.notes and {n.pitch % 12 for n in clip.notes} <= f_major
        saved = read_midi(path)  # the daemon's copy equals what was sent
        assert [(n.pitch, n.start, n.duration) for n in saved.notes] == [
            (n.pitch, n.start, n.duration) for n in clip.notes
        ]
    record = daemon.store.get(job_id)
    assert record.status == "done" and record.request_id == "r1"
    assert record.params["bars"] == 2 and record.params["key"] == "F"
    assert read_midi(record.input_paths[0]).notes == FOLK.notes


def test_same_seed_gives_the_same_continuation(udp):
    outcomes = []
    for request in ("a", "b"):
        udp.send("/magenta/clip/file", request, 0, "folk_melody.mid")
        udp.receive(("/magenta/clip/ready",))
        udp.send("/magenta/tool/continue", request, "bars", 2, "seed", 11, "temperature", 1.2)
        outcomes.append(result_clips(udp.receive())[0].notes)
    assert outcomes[0] == outcomes[1]


def test_replies_never_exceed_the_datagram_limit(make_daemon):
    daemon = make_daemon(osc={"max_datagram": 1024})
    client = UdpClient(daemon.udp.address[1])
    client.send("/magenta/clip/file", "big", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "big", "bars", 16, "variations", 2, "temperature", 1.5)
    replies = client.receive()
    assert replies[-1][0] == "/magenta/job/done"
    chunk_counts = [args[4] for address, args in replies if address == "/magenta/job/result"]
    assert max(chunk_counts) > 1, "the test needs results split over several datagrams"
    assert max(client.sizes) <= 1024
    assert sum(len(c.notes) for c in result_clips(replies)) > 40
    client.close()


def test_past_results_can_be_fetched_again_by_job_id(udp):
    udp.send("/magenta/clip/file", "first", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "first", "bars", 2, "variations", 2)
    original = udp.receive()
    job_id = original[-1][1][1]
    udp.send("/magenta/job/get", "again", job_id)
    fetched = udp.receive()
    assert fetched[-1][1][:2] == ["again", job_id]
    assert [c.notes for c in result_clips(fetched)] == [c.notes for c in result_clips(original)]


def test_cancel_stops_a_running_job(make_daemon):
    daemon = make_daemon(limits={"max_bars": 2000})
    client = UdpClient(daemon.udp.address[1])
    client.send("/magenta/clip/file", "long", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "long", "bars", 2000, "variations", 8)
    accepted = client.receive(("/magenta/job/accepted",))
    client.send("/magenta/job/cancel", "long")
    replies = client.receive()
    assert replies[-1] == ("/magenta/error", ["long", "cancelled"])
    assert daemon.store.get(accepted[-1][1][1]).status == "cancelled"
    client.close()


def test_a_job_past_its_timeout_fails_with_a_message(make_daemon):
    daemon = make_daemon(engine={"job_timeout_s": 0.2}, limits={"max_bars": 2000})
    client = UdpClient(daemon.udp.address[1])
    client.send("/magenta/clip/file", "slow", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "slow", "bars", 2000, "variations", 8)
    replies = client.receive()
    assert replies[-1] == ("/magenta/error", ["slow", "timed out after 0.2 s"])
    client.close()


def test_a_full_queue_answers_busy_at_once(make_daemon):
    daemon = make_daemon(engine={"queue_size": 1}, limits={"max_bars": 2000})
    client = UdpClient(daemon.udp.address[1])
    for request in ("j1", "j2", "j3", "j4"):
        client.send("/magenta/clip/file", request, 0, "folk_melody.mid")
        client.receive(("/magenta/clip/ready",))
    for request in ("j1", "j2", "j3", "j4"):
        client.send("/magenta/tool/continue", request, "bars", 100, "variations", 4)
    finals: dict[str, tuple] = {}
    while len(finals) < 4:
        for address, args in client.receive():
            if address in ("/magenta/job/done", "/magenta/error"):
                finals[args[0]] = (address, args)
    busy = [args for address, args in finals.values() if "busy" in str(args)]
    assert busy, "with one queue slot and four long jobs, some must be refused"
    assert any(address == "/magenta/job/done" for address, _ in finals.values())
    client.close()


def test_render_writes_a_wav_preview(udp):
    udp.send("/magenta/clip/file", "wav", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "wav", "bars", 1, "render", 1)
    replies = udp.receive()
    previews = [args for address, args in replies if address == "/magenta/job/preview"]
    assert len(previews) == 1
    with wave.open(previews[0][2]) as wav:
        assert wav.getnchannels() == 2
        seconds = wav.getnframes() / wav.getframerate()
    bar_seconds = 4 * 60 / FOLK.qpm
    assert bar_seconds < seconds < bar_seconds + 2


def test_reply_port_sends_a_jobs_replies_elsewhere(udp):
    listener = UdpClient(udp.port)
    udp.send("/magenta/clip/file", "rp", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    port = listener.sock.getsockname()[1]
    udp.send("/magenta/tool/continue", "rp", "bars", 1, "reply_port", port)
    assert listener.receive()[-1][0] == "/magenta/job/done"
    # A refused request's error goes there too: Max's udpsend sends from a random port.
    udp.send("/magenta/clip/file", "bad", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "bad", "temperature", 99, "reply_port", port)
    (address, args) = listener.receive()[-1]
    assert address == "/magenta/error" and args[0] == "bad" and "temperature" in args[1]
    # So can a request for a finished job's results again.
    udp.send("/magenta/clip/file", "again", 0, "folk_melody.mid")
    udp.receive(("/magenta/clip/ready",))
    udp.send("/magenta/tool/continue", "again", "bars", 1)
    job_id = udp.receive()[-1][1][1]
    udp.send("/magenta/job/get", "again", job_id, port)
    replies = listener.receive()
    assert replies[-1][0] == "/magenta/job/done" and replies[-1][1][1] == job_id
    udp.send("/magenta/job/get", "missing", "no-such-job", port)
    (address, args) = listener.receive()[-1]
    assert address == "/magenta/error" and args[0] == "missing" and "no-such-job" in args[1]
    listener.close()


def test_without_a_soundfont_only_render_requests_fail(make_daemon, tmp_path):
    daemon = make_daemon(soundfont=str(tmp_path / "missing.sf2"))
    client = UdpClient(daemon.udp.address[1])
    client.send("/magenta/clip/file", "w", 0, "folk_melody.mid")
    client.receive(("/magenta/clip/ready",))
    client.send("/magenta/tool/continue", "w", "bars", 1, "render", 1)
    assert "audio preview is not available" in client.receive()[-1][1][1]
    client.send("/magenta/tool/continue", "w", "bars", 1)
    assert client.receive()[-1][0] == "/magenta/job/done"
    client.close()
