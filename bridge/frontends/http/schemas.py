"""The JSON shapes of the REST API, as pydantic models: they check what clients send and
document what they get back (the OpenAPI document and docs/http-api.md come from them).

Other programs (the web page, container health checks) are built against these shapes:
fields may be added, never renamed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["queued", "running", "done", "failed", "cancelled", "timeout"]
# A note as AbletonOSC sends it: pitch, start and duration in beats, velocity, mute.
NoteTuple = tuple[int, float, float, int, bool]


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: a worker died (HTTP 503)")
    version: str
    workers_alive: int
    workers: int
    queued: int = Field(description="jobs waiting for a worker")
    running: int = Field(description="jobs running now")


class ModelInfo(BaseModel):
    name: str
    family: str
    device: str
    content: str = Field(description="what it is made for: melody, drums, polyphony...")
    description: str


class ParamInfo(BaseModel):
    name: str
    type: Literal["int", "float", "str", "bool"]
    default: Any = Field(description="null: none, or random for a seed")
    min: float | None
    max: float | None = Field(description="with the daemon's limits applied")
    choices: list[str] | None = Field(description="the values a text parameter takes, if fixed")
    help: str


class ToolInfo(BaseModel):
    name: str
    summary: str
    inputs: int = Field(description="clips it takes: clip0, clip1...")
    params: list[ParamInfo]


class ClipIn(BaseModel):
    """A clip as a DAW holds it."""

    model_config = ConfigDict(extra="forbid")

    notes: list[NoteTuple] = Field(
        default_factory=list, description="[pitch, start, duration, velocity, mute], beats"
    )
    length: float | None = Field(None, description="loop length in beats (default: whole bars)")
    qpm: float = 120.0
    numerator: int = 4
    denominator: int = 4
    drums: bool = Field(False, description="a drum part: pitches name drums")


class JobIn(BaseModel):
    """A tool request as JSON; `params` are the tool's (GET /v1/tools) plus `model`,
    `content` and `render`."""

    model_config = ConfigDict(extra="forbid")

    tool: str
    params: dict[str, Any] = Field(default_factory=dict)
    clips: list[ClipIn] = Field(default_factory=list, description="in slot order")


class JobAccepted(BaseModel):
    job_id: str
    status_url: str
    events_url: str
    model: str = Field(description="the model that answers")
    model_reason: str = Field(description="why: named, the clip's content, or the default")


class ResultInfo(BaseModel):
    index: int
    notes_count: int | None = Field(description="null if the stored file cannot be read")
    length: float | None = Field(description="beats")
    drums: bool | None
    midi_url: str
    preview_url: str | None = Field(description="a WAV, when the job asked for render 1")


class JobView(BaseModel):
    job_id: str
    tool: str
    model: str
    status: Status
    progress: float = Field(ge=0, le=1)
    error: str | None
    warning: str | None = Field(description="said with the results, e.g. some are silent")
    results: list[ResultInfo]


class HistoryEntry(JobView):
    request_id: str
    client: str = Field(description="who asked: http:host, udp:host, tcp:..., midi")
    frontend: str = Field(description="osc, http, midi or cli")
    created: float = Field(description="seconds since the epoch")
    finished: float | None
    params: dict[str, Any]


class ProblemInfo(BaseModel):
    """RFC 9457 problem details, sent as application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
