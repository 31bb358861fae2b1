"""The REST API of a real daemon over real sockets, as docs/http-api.md describes it: jobs from
JSON notes and MIDI uploads, their events, results, previews, cancel, timeouts, a full queue,
history, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from http_clients import EXAMPLES, Http, client_of, notes_of

import bridge
from bridge.config import Limits
from bridge.frontends.client import DaemonClient
from bridge.music.midi import read_midi
from bridge.tools.registry import TOOLS

FOLK_FILE = EXAMPLES / "folk_melody.mid"
FOLK = read_midi(FOLK_FILE)


def folk_clip() -> dict[str, Any]:
    return {"notes": notes_of(FOLK_FILE), "length": FOLK.length, "qpm": FOLK.qpm}


def continue_job(**params: Any) -> dict[str, Any]:
    return {"tool": "continue", "params": params, "clips": [folk_clip()]}


def test_health_models_and_tools_describe_the_daemon(http: Http):
    health = http.get("/v1/health")
    assert health.status == 200 and health.content_type == "application/json"
    assert health.json == {
        "status": "ok",
        "version": bridge.__version__,
        "workers_alive": 1,
        "workers": 1,
        "queued": 0,
        "running": 0,
    }
    assert http.get("/v1/models").json == [
        {
            "name": "fixture",
            "family": "melody_rnn",
            "device": "cpu",
            "content": "melody",
            "description": "",
        }
    ]
    tools = http.get("/v1/tools").json
    assert [tool["name"] for tool in tools] == list(TOOLS)
    for listed, tool in zip(tools, TOOLS.values(), strict=True):
        assert (listed["summary"], listed["inputs"]) == (tool.summary, tool.inputs)
        assert [p["name"] for p in listed["params"]] == [p.name for p in tool.params]
        for param in listed["params"]:
            assert set(param) == {"name", "type", "default", "min", "max", "choices", "help"}
    bars = next(p for p in tools[0]["params"] if p["name"] == "bars")
    assert bars == {
        "name": "bars",
        "type": "int",
        "default": 4,
        "min": 1,
        "max": Limits().max_bars,  # the daemon's limit caps the declared range
        "choices": None,
        "help": "bars to add after the clip",
    }
    interpolate = next(t for t in tools if t["name"] == "interpolate")
    mode = next(p for p in interpolate["params"] if p["name"] == "mode")
    assert mode["choices"] == ["spherical", "linear"]


def test_json_notes_are_continued_and_the_events_read_until_done(http: Http):
    reply = http.post_json("/v1/jobs", continue_job(bars=2, variations=2, seed=7))
    assert reply.status == 202, reply.body
    accepted = reply.json
    job_id = accepted["job_id"]
    assert accepted["status_url"] == f"/v1/jobs/{job_id}" == reply.headers["Location"]
    assert accepted["events_url"] == f"/v1/jobs/{job_id}/events"
    assert accepted["model"] == "fixture"
    events = list(http.events(accepted["events_url"]))
    names = [name for name, _ in events]
    assert names[0] == "accepted" and names[-1] == "done"
    assert set(names[1:-1]) <= {"progress"}
    fractions = [data["progress"] for name, data in events if name == "progress"]
    assert fractions == sorted(fractions) and all(0 < f <= 1 for f in fractions)
    done = events[-1][1]
    assert done == http.get(accepted["status_url"]).json
    assert (done["status"], done["progress"], done["error"]) == ("done", 1.0, None)
    assert [result["index"] for result in done["results"]] == [0, 1]
    for result in done["results"]:
        assert result["midi_url"] == f"/v1/jobs/{job_id}/results/{result['index']}.mid"
        assert result["preview_url"] is None
        midi = http.get(result["midi_url"])
        assert midi.status == 200 and midi.content_type == "audio/midi"
        clip = read_midi(midi.body, allow_empty=True)
        assert len(clip.notes) == result["notes_count"] and clip.length == 8.0  # two bars
    # A job that has ended sends its final event at once, to any later reader.
    assert list(http.events(accepted["events_url"])) == [("done", done)]


def test_an_uploaded_midi_file_gives_what_its_notes_give_and_renders_previews(http, daemon):
    params = '{"bars": 1, "variations": 2, "seed": 4, "render": 1}'
    # A file name that would climb out of any folder: it is never used.
    upload = http.post_form(
        "/v1/jobs",
        {"tool": "continue", "params": params},
        {"clip0": FOLK_FILE.read_bytes()},
        filename="../../../../tmp/evil.mid",
    )
    assert upload.status == 202, upload.body
    uploaded = upload.json
    done = list(http.events(uploaded["events_url"]))[-1]
    assert done[0] == "done", done
    results = done[1]["results"]
    assert len(results) == 2 and all(result["preview_url"] for result in results)
    for result in results:
        wav = http.get(result["preview_url"])
        assert wav.status == 200 and wav.content_type == "audio/wav"
        assert wav.body[:4] == b"RIFF" and wav.body[8:12] == b"WAVE" and len(wav.body) > 1000
    folder = daemon.store.job_folder(uploaded["job_id"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "input-1.mid",
        "params.json",
        "result-1.mid",
        "result-1.wav",
        "result-2.mid",
        "result-2.wav",
    ]
    # The same clip as JSON notes, the same seed: the same results.
    _, events = http.run(continue_job(bars=1, variations=2, seed=4))
    from_notes = events[-1][1]["results"]
    for a, b in zip(results, from_notes, strict=True):
        assert http.get(a["midi_url"]).body == http.get(b["midi_url"]).body
    missing = http.get(f"/v1/jobs/{uploaded['job_id']}/previews/2.wav")
    assert "has results 0 to 1" in missing.problem(404)["detail"]
    unrendered = http.get(f"{from_notes[0]['midi_url'].rsplit('/', 2)[0]}/previews/0.wav")
    assert "render 1" in unrendered.problem(404)["detail"]


def test_a_running_job_is_cancelled_by_its_client_only(make_daemon):
    daemon = make_daemon(limits={"max_bars": 2000})
    owner, other = client_of(daemon), client_of(daemon, source="127.0.0.2")
    accepted = owner.post_json("/v1/jobs", continue_job(bars=2000, variations=8)).json
    events = owner.events(accepted["events_url"])
    assert next(events)[0] == "accepted"
    assert next(events)[0] == "progress", "the job should be running"
    refused = other.delete(accepted["status_url"])
    assert "another client" in refused.problem(403)["detail"]
    cancelled = owner.delete(accepted["status_url"])
    assert cancelled.status == 202 and cancelled.json["job_id"] == accepted["job_id"]
    (final,) = [event for event in events if event[0] != "progress"]
    assert final[0] == "failed"
    assert (final[1]["error"], final[1]["status"]) == ("cancelled", "cancelled")
    view = owner.get(accepted["status_url"]).json
    assert (view["status"], view["error"], view["results"]) == ("cancelled", "cancelled", [])
    assert "has ended: cancelled" in owner.delete(accepted["status_url"]).problem(409)["detail"]


def test_a_job_past_its_time_limit_ends_as_timeout(make_daemon):
    daemon = make_daemon(limits={"max_bars": 2000}, engine={"job_timeout_s": 0.5})
    http = client_of(daemon)
    accepted, events = http.run(continue_job(bars=2000, variations=8))
    name, data = events[-1]
    assert (name, data["status"]) == ("failed", "timeout")
    assert data["error"] == "timed out after 0.5 s"
    assert http.get(accepted["status_url"]).json["status"] == "timeout"


def test_a_full_queue_answers_429_at_once(make_daemon):
    daemon = make_daemon(limits={"max_bars": 2000}, engine={"queue_size": 1})
    http = client_of(daemon)
    running = http.post_json("/v1/jobs", continue_job(bars=2000, variations=8)).json
    events = http.events(running["events_url"])
    assert [next(events)[0], next(events)[0]] == ["accepted", "progress"]
    waiting = http.post_json("/v1/jobs", continue_job(bars=2000)).json
    assert http.get(waiting["status_url"]).json["status"] == "queued"
    busy = http.post_json("/v1/jobs", continue_job(bars=1))
    problem = busy.problem(429)
    assert problem["type"].endswith(":busy") and problem["detail"].startswith("busy: 1 jobs")
    assert busy.headers["Retry-After"] == "1"
    for job in (waiting, running):
        assert http.delete(job["status_url"]).status == 202


def test_history_pages_every_frontends_jobs_newest_first(daemon, http: Http):
    ids = [http.run(continue_job(bars=1, seed=n))[0]["job_id"] for n in range(3)]
    with DaemonClient("127.0.0.1", daemon.udp.address[1], 60) as osc:
        over_osc = osc.run_tool("continue", [FOLK], {"bars": 1}).job_id
    pages = [http.get(f"/v1/history?limit=2&offset={offset}").json for offset in (0, 2, 4)]
    assert [len(page) for page in pages] == [2, 2, 0]
    jobs = pages[0] + pages[1]
    assert [job["job_id"] for job in jobs] == [over_osc, *reversed(ids)]
    created = [job["created"] for job in jobs]
    assert created == sorted(created, reverse=True)
    osc_job, *http_jobs = jobs
    assert (osc_job["frontend"], osc_job["client"][:4]) == ("osc", "tcp:")
    for job in http_jobs:
        assert (job["frontend"], job["client"], job["status"]) == ("http", "http:127.0.0.1", "done")
        assert job["request_id"].startswith("http-") and job["params"]["bars"] == 1
        assert len(job["results"]) == 1 and job["finished"] >= job["created"]
    assert http.get("/v1/history?limit=0").problem(422)
    assert http.get("/v1/history?offset=-1").problem(422)


def test_the_openapi_document_describes_every_route(http: Http):
    document = http.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == bridge.__version__
    routes = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes >= {
        ("/v1/health", "get"),
        ("/v1/models", "get"),
        ("/v1/tools", "get"),
        ("/v1/jobs", "post"),
        ("/v1/jobs/{job_id}", "get"),
        ("/v1/jobs/{job_id}", "delete"),
        ("/v1/jobs/{job_id}/events", "get"),
        ("/v1/jobs/{job_id}/results/{index}.mid", "get"),
        ("/v1/jobs/{job_id}/previews/{index}.wav", "get"),
        ("/v1/history", "get"),
        ("/metrics", "get"),
    }
    body = document["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if "$ref" in node else []
            return own + [r for v in node.values() for r in refs(v)]
        return [r for v in node for r in refs(v)] if isinstance(node, list) else []

    schemas = document["components"]["schemas"]
    for ref in refs(document):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert {"JobIn", "ClipIn", "JobView", "HistoryEntry", "ProblemInfo", "Health"} <= set(schemas)


def test_bad_requests_get_problem_details_naming_the_fault(make_daemon):
    daemon = make_daemon(http={"max_upload_bytes": 20_000})
    http = client_of(daemon)
    clips = [folk_clip()]

    def refused(document: dict[str, Any], status: int = 422) -> str:
        return http.post_json("/v1/jobs", document).problem(status)["detail"]

    assert "unknown tool 'nope'" in refused({"tool": "nope", "clips": clips})
    assert "bars must be between 1 and 64" in refused(continue_job(bars=0))
    assert "unknown parameter 'colour'" in refused(continue_job(colour=1))
    assert "render must be 0 or 1" in refused(continue_job(render=2))
    assert "unknown model 'nope'" in refused(continue_job(model="nope"))
    assert "continue takes 1 clip(s), got 0" in refused({"tool": "continue"})
    assert "clips.0.notes.0" in refused({"tool": "continue", "clips": [{"notes": [[60, 0]]}]})
    assert "tool" in refused({"params": {}})
    not_json = http.request("POST", "/v1/jobs", b"{", {"Content-Type": "application/json"})
    assert "not JSON" in not_json.problem(400)["detail"]
    text = http.request("POST", "/v1/jobs", b"tool=continue", {"Content-Type": "text/plain"})
    assert "multipart/form-data" in text.problem(415)["detail"]

    def form(fields: dict[str, str], files: dict[str, bytes], status: int) -> str:
        return http.post_form("/v1/jobs", fields, files).problem(status)["detail"]

    folk = FOLK_FILE.read_bytes()
    assert "needs a tool field" in form({}, {"clip0": folk}, 400)
    assert "params is not JSON" in form({"tool": "continue", "params": "{"}, {"clip0": folk}, 400)
    assert "JSON object" in form({"tool": "continue", "params": "[1]"}, {"clip0": folk}, 400)
    assert "unexpected form field 'colour'" in form({"tool": "continue", "colour": "red"}, {}, 400)
    assert "without gaps" in form({"tool": "continue"}, {"clip1": folk}, 400)
    assert form({"tool": "continue"}, {"clip0": b"MThd not midi"}, 422).startswith("clip0: ")
    too_large = form({"tool": "continue"}, {"clip0": bytes(30_000)}, 413)
    assert "limit is 20000 (http.max_upload_bytes)" in too_large
    assert "20000" in refused({"tool": "continue", "clips": clips * 40}, 413)

    assert http.get("/v1/jobs/..%2F..%2Fetc%2Fpasswd").problem(404)  # no route has slashes
    assert "not a job id" in http.get("/v1/jobs/x;rm").problem(400)["detail"]
    assert (
        "no job 20260101T000000-abcdef"
        in http.get("/v1/jobs/20260101T000000-abcdef").problem(404)["detail"]
    )
    assert http.get("/v1/jobs/20260101T000000-abcdef/results/0.mid").problem(404)
    assert http.delete("/v1/jobs/20260101T000000-abcdef").problem(404)
    assert http.get("/v1/jobs/20260101T000000-abcdef/results/x.mid").problem(422)
    assert http.get("/v2/nothing").problem(404)
    assert http.request("PUT", "/v1/jobs").problem(405)
    assert http.get("/v1/health").status == 200, "the daemon serves on after all of that"


def test_a_job_is_found_again_by_a_restarted_daemon(make_daemon, tmp_path):
    data = str(tmp_path / "shared-data")
    first = make_daemon(data_folder=data)
    accepted, events = client_of(first).run(continue_job(bars=1, variations=2, seed=9))
    before = events[-1][1]
    first.close()
    again = client_of(make_daemon(data_folder=data))
    assert again.get(accepted["status_url"]).json == {**before, "warning": None}
    assert list(again.events(accepted["events_url"])) == [
        ("done", again.get(accepted["status_url"]).json)
    ]
    midi = again.get(before["results"][1]["midi_url"])
    assert read_midi(midi.body, allow_empty=True).length == 4.0
