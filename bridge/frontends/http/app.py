"""The REST API, the web page and /metrics as one FastAPI app over the daemon's engine.

Routes are thin: they check who asks (guard.py), read what is sent (submission.py), ask the
engine or the store, and answer JSON, files or events (jobs.py); every error is a problem
detail (problems.py). Blocking work (the store's fsyncs, MIDI parsing) runs in worker threads,
never on the event loop that serves every connection. (No `from __future__ import
annotations` here: FastAPI reads the routes' annotations, which name per-app dependencies.)
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import bridge
from bridge.config import HttpConfig, Limits
from bridge.engine.engine import Engine
from bridge.engine.jobs import Busy
from bridge.frontends.http import problems
from bridge.frontends.http.guard import Guard
from bridge.frontends.http.jobs import FINAL, HttpJobs
from bridge.frontends.http.problems import Problem
from bridge.frontends.http.schemas import (
    Health,
    HistoryEntry,
    JobAccepted,
    JobIn,
    JobView,
    ModelInfo,
    ProblemInfo,
    ToolInfo,
)
from bridge.frontends.http.submission import SLOTS, Submission, job_request, read_submission
from bridge.frontends.metrics import CONTENT_TYPE, Metrics
from bridge.store import JobRecord
from bridge.store.results import JOB_ID
from bridge.tools.params import Param
from bridge.tools.registry import TOOLS

STATIC = Path(__file__).resolve().parent / "static"
SSE = "text/event-stream"
DESCRIPTION = (
    "Magenta Bridge's REST API: the tools of the daemon's OSC API over HTTP, sharing its "
    "engine, models, store and limits. Errors are RFC 9457 problem details "
    "(application/problem+json). With `http.token` configured, send "
    "`Authorization: Bearer <token>` (health and metrics answer loopback callers without it)."
)
PROBLEMS = {
    400: "the body or a value cannot be read",
    401: "no token, or a wrong one",
    403: "a foreign web page, a wrong Host header, or another client's job",
    404: "no such job, result or preview",
    409: "the job is not in a state for this",
    413: "the body or a file is too large",
    415: "neither multipart/form-data nor application/json",
    422: "the request cannot be served as sent (tool, model, parameters, clips)",
    429: "the queue is full, or too many wrong tokens",
}


def create_app(
    engine: Engine, metrics: Metrics, config: HttpConfig, static: Path = STATIC
) -> FastAPI:
    """The app of one daemon: its engine, its metrics, its HTTP settings."""
    app = FastAPI(
        title="Magenta Bridge",
        version=bridge.__version__,
        description=DESCRIPTION,
        docs_url=None,  # Swagger UI would load scripts from a CDN: /openapi.json is the doc
        redoc_url=None,
    )
    problems.install(app)
    api = _Api(engine, config, HttpJobs(engine))
    guard = Guard(config)
    _info_routes(app, api, metrics, guard)
    _job_routes(app, api, guard)
    _page_routes(app, static)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(_CountRequests, metrics=metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class _Api:
    """What the routes share: the engine, its store and limits, the HTTP jobs."""

    def __init__(self, engine: Engine, config: HttpConfig, jobs: HttpJobs):
        self.engine = engine
        self.config = config
        self.jobs = jobs

    @property
    def limits(self) -> Limits:
        return self.engine.limits

    def record(self, job_id: str) -> JobRecord:
        """The stored job, or a Problem: 400 for an id that is not one, 404 for none."""
        if not JOB_ID.fullmatch(job_id):
            raise Problem(400, f"{job_id[:40]!r} is not a job id (like 20261126T101500-3f9a2c)")
        record = self.engine.store.get(job_id)
        if record is None:
            raise Problem(404, f"no job {job_id}", "unknown-job")
        return record

    def submit(self, submission: Submission, client: str) -> dict[str, Any]:
        try:
            job = self.engine.submit(job_request(submission, client, self.limits), self.jobs)
        except Busy as error:
            raise Problem(429, str(error), "busy", {"Retry-After": "1"}) from None
        except ValueError as error:  # RequestError, ParamError, ClipError, StoreError
            raise Problem(422, str(error), "refused") from None
        url = f"/v1/jobs/{job.job_id}"
        return {
            "job_id": job.job_id,
            "status_url": url,
            "events_url": f"{url}/events",
            "model": job.record.model,
            "model_reason": job.model_reason,
        }

    def cancel(self, job_id: str, client: str) -> dict[str, Any]:
        record = self.record(job_id)
        if record.client != client:
            raise Problem(403, f"job {job_id} belongs to another client", "not-yours")
        ended = self.jobs.record_view(record)["status"] in FINAL
        if ended or not self.engine.cancel(client, record.request_id):  # or it just ended
            status = self.jobs.record_view(self.record(job_id))["status"]
            raise Problem(409, f"job {job_id} has ended: {status}", "ended")
        return self.jobs.record_view(record)

    def result_file(self, job_id: str, index: int, suffix: str) -> Path:
        """A done job's result MIDI file (or its WAV preview) by index, from the store."""
        record = self.record(job_id)
        if record.status != "done":
            raise Problem(409, f"job {job_id} is {record.status}: it has no results", "no-results")
        midi = [path for path in record.result_paths if path.suffix == ".mid"]
        if not 0 <= index < len(midi):
            raise Problem(404, f"job {job_id} has results 0 to {len(midi) - 1}", "no-result")
        if suffix == ".mid":
            return midi[index]
        wav = [path for path in record.result_paths if path == midi[index].with_suffix(suffix)]
        if not wav:
            raise Problem(404, f"job {job_id} has no previews: ask with render 1", "no-preview")
        return wav[0]


def _info_routes(app: FastAPI, api: _Api, metrics: Metrics, guard: Guard) -> None:
    errors = _problems(401, 403, 429)
    authorised = [Depends(guard.client)]
    watched = [Depends(guard.watcher)]

    @app.get(
        "/v1/health",
        response_model=Health,
        dependencies=watched,
        responses={503: {"model": Health, "description": "a worker died"}, **errors},
    )
    def health() -> JSONResponse:
        """Whether every worker is alive, and how much work waits (for health checks)."""
        state = api.engine.health()
        ok = state.workers_alive == state.workers
        body = {"status": "ok" if ok else "degraded", "version": bridge.__version__}
        body |= {"workers_alive": state.workers_alive, "workers": state.workers}
        body |= {"queued": state.queued, "running": state.running}
        return JSONResponse(body, 200 if ok else 503)

    @app.get(
        "/v1/models", response_model=list[ModelInfo], dependencies=authorised, responses=errors
    )
    def models() -> list[dict[str, str]]:
        """The models the daemon serves."""
        return [
            {
                "name": warm.spec.name,
                "family": warm.spec.family,
                "device": warm.device,
                "content": warm.spec.content,
                "description": warm.spec.description,
            }
            for warm in api.engine.models
        ]

    @app.get("/v1/tools", response_model=list[ToolInfo], dependencies=authorised, responses=errors)
    def tools() -> list[dict[str, Any]]:
        """Every tool with its parameters, from the tool table (limits applied)."""
        return [
            {
                "name": tool.name,
                "summary": tool.summary,
                "inputs": tool.inputs,
                "params": [_param_info(param, api.limits) for param in tool.params],
            }
            for tool in TOOLS.values()
        ]

    @app.get(
        "/v1/history",
        response_model=list[HistoryEntry],
        dependencies=authorised,
        responses=_problems(401, 403, 422, 429),
    )
    def history(
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Past jobs of every frontend, newest first; page with offset until fewer than
        limit come back."""
        return [api.jobs.history_view(r) for r in api.engine.store.history(limit, None, offset)]

    @app.get(
        "/metrics",
        dependencies=watched,
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}, **errors},
    )
    def prometheus() -> Response:
        """Prometheus metrics of this daemon (text exposition format)."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)


def _job_routes(app: FastAPI, api: _Api, guard: Guard) -> None:
    Client = Annotated[str, Depends(guard.client)]
    authorised = [Depends(guard.client)]
    errors = _problems(400, 401, 403, 404, 429)

    @app.post(
        "/v1/jobs",
        status_code=202,
        response_model=JobAccepted,
        responses=_problems(400, 401, 403, 413, 415, 422, 429),
        openapi_extra={"requestBody": _job_body()},
    )
    async def submit(request: Request, client: Client) -> JSONResponse:
        """Run a tool: a multipart form (tool, params as JSON text, MIDI files clip0,
        clip1...) or JSON (tool, params, clips of notes). Params are the tool's (GET
        /v1/tools) plus model, content and render (1: WAV previews)."""
        submission = await read_submission(request, api.config.max_upload_bytes, api.limits)
        accepted = await run_in_threadpool(api.submit, submission, client)
        return JSONResponse(accepted, 202, {"Location": accepted["status_url"]})

    @app.get("/v1/jobs/{job_id}", response_model=JobView, dependencies=authorised, responses=errors)
    def job(job_id: str) -> dict[str, Any]:
        """A job: queued or running (with progress) from the engine, ended from the store."""
        return api.jobs.record_view(api.record(job_id))

    @app.delete("/v1/jobs/{job_id}", status_code=202, response_model=JobView, responses=errors)
    def cancel(job_id: str, client: Client) -> dict[str, Any]:
        """Cancel one of your jobs, queued or running; it ends as cancelled shortly."""
        return api.cancel(job_id, client)

    @app.get(
        "/v1/jobs/{job_id}/events",
        response_class=StreamingResponse,
        dependencies=authorised,
        responses={200: {"content": {SSE: {}}}, **errors},
    )
    def events(job_id: str) -> StreamingResponse:
        """Server-Sent Events: accepted, progress {progress}, then done (the job) or failed
        {error, status}; a job that has ended sends its final event at once."""
        api.record(job_id)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(api.jobs.events(job_id), headers=headers, media_type=SSE)

    @app.get(
        "/v1/jobs/{job_id}/results/{index}.mid",
        response_class=FileResponse,
        dependencies=authorised,
        responses={200: {"content": {"audio/midi": {}}}, **_problems(409), **errors},
    )
    def result(job_id: str, index: int) -> FileResponse:
        """A result as a MIDI file (index from 0)."""
        path = api.result_file(job_id, index, ".mid")
        return FileResponse(path, media_type="audio/midi", filename=f"{job_id}-{index}.mid")

    @app.get(
        "/v1/jobs/{job_id}/previews/{index}.wav",
        response_class=FileResponse,
        dependencies=authorised,
        responses={200: {"content": {"audio/wav": {}}}, **_problems(409), **errors},
    )
    def preview(job_id: str, index: int) -> FileResponse:
        """A result's audio preview, rendered when the job asked for render 1."""
        path = api.result_file(job_id, index, ".wav")
        return FileResponse(path, media_type="audio/wav", content_disposition_type="inline")


def _page_routes(app: FastAPI, static: Path) -> None:
    @app.get("/", response_class=FileResponse, include_in_schema=False)
    def page() -> FileResponse:
        index = static / "index.html"
        if not index.is_file():
            raise Problem(404, f"the web page is not installed here: {index} is missing")
        return FileResponse(index, media_type="text/html")

    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")


def _param_info(param: Param, limits: Limits) -> dict[str, Any]:
    high = param.high
    if param.limit is not None:
        cap = getattr(limits, param.limit)
        high = cap if high is None else min(high, cap)
    return {
        "name": param.name,
        "type": param.kind.__name__,
        "default": param.default,
        "min": param.low,
        "max": high,
        "choices": list(param.choices) or None,
        "help": param.help,
    }


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    problem = {"schema": {"$ref": "#/components/schemas/ProblemInfo"}}
    return {
        status: {"description": PROBLEMS[status], "content": {problems.MEDIA_TYPE: problem}}
        for status in statuses
    }


def _job_body() -> dict[str, Any]:
    form = {
        "type": "object",
        "required": ["tool"],
        "properties": {
            "tool": {"type": "string"},
            "params": {"type": "string", "description": "a JSON object of name: value"},
            **{
                slot: {"type": "string", "format": "binary", "description": "a MIDI file"}
                for slot in SLOTS[:2]
            },
        },
    }
    return {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": form},
            "application/json": {"schema": {"$ref": "#/components/schemas/JobIn"}},
        },
    }


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the schemas only named by hand (the JSON job body and the
    problem details), invalid requests documented as the problems they are answered with."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in (JobIn, ProblemInfo):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        for name in ("HTTPValidationError", "ValidationError"):  # answered as problems here
            schemas.pop(name, None)
        for operation in (op for item in document["paths"].values() for op in item.values()):
            if "422" in operation["responses"]:
                operation["responses"]["422"] = _problems(422)[422]
        app.openapi_schema = document
    return app.openapi_schema


class _CountRequests:
    """Counts every HTTP request by method, route template and status (metrics)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http_request(scope["method"], route, status)
