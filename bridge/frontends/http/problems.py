"""Every error as an RFC 9457 problem detail (`application/problem+json`), never a traceback.

Handlers cover what the routes raise (Problem), what Starlette and FastAPI raise (unknown
routes, wrong methods, malformed forms, invalid parameters) and anything else: a bug is
answered with a 500 that names only its type (the traceback goes to the daemon's log).
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error for the client: its HTTP status, a short kind (the type's last word) and a
    detail saying what to change."""

    def __init__(
        self,
        status: int,
        detail: str,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or _slug(status)
        self.headers = headers or {}


def problem_response(problem: Problem) -> JSONResponse:
    body = {
        "type": f"urn:magenta-bridge:problem:{problem.kind}",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
    }
    return JSONResponse(body, problem.status, problem.headers, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    """Answer every error of `app` as a problem detail."""
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(HTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _bug)


async def _problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return problem_response(error)


async def _http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 404:
        detail = f"no such resource: {request.url.path} (see /openapi.json)"
    return problem_response(Problem(error.status_code, detail, headers=error.headers))


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return problem_response(Problem(422, validation_detail(error.errors()), "invalid-request"))


async def _bug(request: Request, error: Exception) -> JSONResponse:
    # Starlette raises the error on after this answer, and uvicorn logs it with its traceback.
    detail = f"internal error: {type(error).__name__}; the daemon's log has the details"
    return problem_response(Problem(500, detail))


def validation_detail(errors: object) -> str:
    """Pydantic's errors in one line: where each is and what is wrong."""
    parts = []
    for error in errors if isinstance(errors, list | tuple) else []:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-")
