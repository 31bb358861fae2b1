"""POST /v1/jobs bodies into the engine's JobRequest: a multipart form or a JSON document.

A body is read up to `http.max_upload_bytes`: a larger declared length is refused before a
byte is read, and a body without one is counted as it arrives. Uploaded files are read into
memory (or Starlette's anonymous spool files) and their file names are ignored, so nothing a
client sends ever names a path. Clips then meet the limits every frontend applies
(read_midi's note cap, the engine's check_clip); parameters go through the tool's table in
the engine's submit, as OSC's do.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from bridge.config import Limits
from bridge.engine.jobs import JobRequest
from bridge.frontends.http.problems import Problem, validation_detail
from bridge.frontends.http.schemas import ClipIn, JobIn
from bridge.music.clip import Clip
from bridge.music.content import CONTENTS
from bridge.music.errors import ClipError
from bridge.music.midi import read_midi
from bridge.tools.params import ParamError

SLOTS = tuple(f"clip{slot}" for slot in range(8))  # as OSC's clip slots 0-7
FORM_FIELDS = ("tool", "params")


@dataclass(frozen=True)
class Submission:
    """A request body as read, before the clips are parsed (which takes a worker thread)."""

    tool: str
    params: dict[str, Any]
    uploads: tuple[bytes | ClipIn, ...]  # MIDI file bytes or JSON clips, in slot order


async def read_submission(request: Request, max_bytes: int, limits: Limits) -> Submission:
    """The body of a POST /v1/jobs, or a Problem (400, 413, 415, 422)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in ("multipart/form-data", "application/json"):
        raise Problem(
            415,
            f"send multipart/form-data (tool, params, clip0...) or application/json, not "
            f"{media or 'a body without a Content-Type'}",
        )
    body = await _read_body(request, max_bytes)
    if media == "application/json":
        return _json_submission(body)
    return await _form_submission(request, body, limits)


def job_request(submission: Submission, client: str, limits: Limits) -> JobRequest:
    """The engine's request: clips parsed, the reserved parameters (model, content, render)
    taken out as OSC takes them; ValueError (ClipError, ParamError) for what cannot be."""
    params = dict(submission.params)
    model = params.pop("model", None)
    content = params.pop("content", None)
    render = params.pop("render", False)
    if model is not None and not isinstance(model, str):
        raise ParamError(f"model must be a name, got {model!r}")
    if content is not None and content not in CONTENTS:
        raise ParamError(f"content must be one of {', '.join(CONTENTS)}, got {content!r}")
    if isinstance(render, str) or render not in (0, 1):  # true and false are 1 and 0
        raise ParamError(f"render must be 0 or 1 (false or true), got {render!r}")
    clips = tuple(
        _clip(upload, SLOTS[slot], limits) for slot, upload in enumerate(submission.uploads)
    )
    return JobRequest(
        client=client,
        request_id=f"http-{secrets.token_hex(8)}",
        tool=submission.tool,
        clips=clips,
        params=params,
        model=model,
        content=content,
        render=bool(render),
    )


async def _read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(int(declared), max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(len(body), max_bytes, "at least ")
    return bytes(body)


def _too_large(size: int, limit: int, at_least: str = "") -> Problem:
    return Problem(
        413,
        f"the request body is {at_least}{size} bytes; the limit is {limit} (http.max_upload_bytes)",
        "too-large",
    )


def _json_submission(body: bytes) -> Submission:
    try:
        job = JobIn.model_validate_json(body)
    except ValidationError as error:
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            raise Problem(400, f"the body is not JSON: {error.errors()[0]['msg']}") from None
        raise Problem(422, validation_detail(error.errors()), "invalid-request") from None
    return Submission(job.tool, job.params, tuple(job.clips))


async def _form_submission(request: Request, body: bytes, limits: Limits) -> Submission:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=len(SLOTS), max_fields=len(FORM_FIELDS) + len(SLOTS)
    )
    fields: dict[str, str] = {}
    uploads: dict[int, bytes] = {}
    seen: set[str] = set()
    try:
        for name, value in form.multi_items():
            if name in seen:
                raise Problem(400, f"the form has {name!r} twice")
            seen.add(name)
            if name in SLOTS and isinstance(value, UploadFile):
                uploads[SLOTS.index(name)] = await _file(name, value, limits)
            elif name in FORM_FIELDS and isinstance(value, str):
                fields[name] = value
            elif name in SLOTS:
                raise Problem(400, f"{name} must be a file (a part with a filename), not text")
            else:
                raise Problem(
                    400,
                    f"unexpected form field {name!r}: the form takes tool, params (a JSON "
                    "object) and the files clip0, clip1...",
                )
    finally:
        await form.close()
    if "tool" not in fields:
        raise Problem(400, "the form needs a tool field (GET /v1/tools lists them)")
    if sorted(uploads) != list(range(len(uploads))):
        raise Problem(400, "clip files go in clip0, clip1... in order, without gaps")
    clips = tuple(uploads[slot] for slot in sorted(uploads))
    return Submission(fields["tool"], _params(fields.get("params", "")), clips)


async def _file(name: str, upload: UploadFile, limits: Limits) -> bytes:
    data = await upload.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise Problem(
            413,
            f"{name} is over {limits.max_file_bytes} bytes (limits.max_file_bytes)",
            "too-large",
        )
    return data


def _params(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as error:
        raise Problem(400, f"params is not JSON: {error}") from None
    if not isinstance(params, dict):
        raise Problem(400, f"params must be a JSON object of name: value, got {text[:80]!r}")
    return params


def _clip(upload: bytes | ClipIn, name: str, limits: Limits) -> Clip:
    try:
        if isinstance(upload, bytes):
            return read_midi(upload, max_notes=limits.max_notes)
        values = [value for note in upload.notes for value in note]
        time_signature = (upload.numerator, upload.denominator)
        return Clip.from_flat(values, upload.length, upload.qpm, time_signature, upload.drums)
    except ClipError as error:
        raise ClipError(f"{name}: {error}") from None
