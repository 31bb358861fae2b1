"""/metrics as Prometheus scrapes it: the jobs just run over HTTP and OSC, by their labels, and
the state of the daemon; each daemon counts apart."""

from __future__ import annotations

from http_clients import EXAMPLES, Http, client_of
from prometheus_client.parser import text_string_to_metric_families

from bridge.frontends.client import DaemonClient
from bridge.music.midi import read_midi

FOLK = read_midi(EXAMPLES / "folk_melody.mid")
REQUESTS, JOBS = "magenta_bridge_requests_total", "magenta_bridge_jobs_total"
JOB = {
    "tool": "continue",
    "params": {"bars": 1, "seed": 2},
    "clips": [{"notes": [[60, 0, 1, 100, 0], [64, 1, 1, 100, 0]], "length": 4}],
}


def scrape(http: Http) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics by (name, labels)."""
    reply = http.get("/metrics")
    assert reply.status == 200 and reply.content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.body.decode())
        for sample in family.samples
    }


def value(samples: dict, metric: str, /, **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


def test_a_job_run_over_http_then_one_over_osc_are_counted_by_their_labels(daemon, http):
    job = {"tool": "continue", "model": "fixture"}
    before = scrape(http)
    assert value(before, JOBS, **job, outcome="done") == 0
    _, events = http.run(JOB)
    assert events[-1][0] == "done"
    after_http = scrape(http)
    assert value(after_http, JOBS, **job, outcome="done") == 1
    assert value(after_http, REQUESTS, frontend="http", outcome="accepted")
    assert value(after_http, REQUESTS, frontend="osc", outcome="accepted") == 0
    for histogram in ("queue_wait_seconds", "model_run_seconds", "batch_size"):
        assert value(after_http, f"magenta_bridge_{histogram}_count", **job) == 1, histogram
    end_to_end = value(after_http, "magenta_bridge_job_seconds_count", **job, outcome="done")
    assert end_to_end == 1
    assert value(after_http, "magenta_bridge_batch_size_bucket", **job, le="1.0") == 1
    posted = {"method": "POST", "route": "/v1/jobs", "status": "202"}
    assert value(after_http, "magenta_bridge_http_requests_total", **posted) == 1

    with DaemonClient("127.0.0.1", daemon.udp.address[1], 60) as osc:
        osc.run_tool("continue", [FOLK], {"bars": 1})
    after_osc = scrape(http)
    assert value(after_osc, REQUESTS, frontend="osc", outcome="accepted") == 1
    assert value(after_osc, JOBS, **job, outcome="done") == 2

    refused = http.post_json("/v1/jobs", {**JOB, "params": {"bars": 0}})
    assert refused.status == 422
    final = scrape(http)
    assert value(final, REQUESTS, frontend="http", outcome="refused") == 1
    assert value(final, JOBS, **job, outcome="done") == 2


def test_the_daemons_state_is_read_at_each_scrape(http: Http):
    samples = scrape(http)
    model = {"name": "fixture", "family": "melody_rnn", "device": "cpu", "content": "melody"}
    assert value(samples, "magenta_bridge_model_info", **model) == 1
    assert value(samples, "magenta_bridge_models_loaded") == 1
    assert value(samples, "magenta_bridge_queue_depth", device="cpu") == 0
    workers = value(samples, "magenta_bridge_workers")
    assert workers == value(samples, "magenta_bridge_workers_alive") == 1
    assert value(samples, "magenta_bridge_process_resident_memory_bytes") > 50 << 20


def test_a_cancelled_job_is_counted_as_cancelled(make_daemon):
    http = client_of(make_daemon(limits={"max_bars": 2000}))
    accepted = http.post_json("/v1/jobs", {**JOB, "params": {"bars": 2000, "variations": 8}}).json
    events = http.events(accepted["events_url"])
    assert [next(events)[0], next(events)[0]] == ["accepted", "progress"]
    assert http.delete(accepted["status_url"]).status == 202
    assert [name for name, _ in events][-1] == "failed"
    samples = scrape(http)
    labels = {"tool": "continue", "model": "fixture", "outcome": "cancelled"}
    assert value(samples, JOBS, **labels) == 1


def test_each_daemon_has_its_own_registry(make_daemon):
    first, second = client_of(make_daemon()), client_of(make_daemon())
    _, events = first.run(JOB)
    assert events[-1][0] == "done"
    done = {"tool": "continue", "model": "fixture", "outcome": "done"}
    assert value(scrape(first), JOBS, **done) == 1
    assert value(scrape(second), JOBS, **done) == 0
