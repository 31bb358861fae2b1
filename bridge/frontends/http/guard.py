"""Who may call the REST API, and who a caller is.

- A token, when configured, is sent as `Authorization: Bearer <token>` with every API
  request; wrong ones are counted per host and a host that fails too often waits (OSC's
  Access, the same rule). Health and metrics answer loopback callers without it, so a local
  health check or Prometheus needs no secret.
- A daemon listening on loopback answers only requests whose Host header names loopback:
  a web page cannot reach it through a DNS name rebound to 127.0.0.1.
- Requests that change something (POST, DELETE) from a browser page of another origin are
  refused unless `cors_origins` names it, so a page on the web cannot run jobs here.
- A client is its host, plus the token's fingerprint when tokens are on: its jobs are the
  ones it may cancel.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bridge.config import HttpConfig
from bridge.engine.jobs import RequestError
from bridge.frontends.http.problems import Problem
from bridge.frontends.osc.access import FAILURE_WINDOW_S, Access, TooManyFailures, is_loopback

BEARER = HTTPBearer(auto_error=False, description="http.token of the daemon's config")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class Guard:
    """The checks of one daemon's HTTP settings, as FastAPI dependencies."""

    def __init__(self, config: HttpConfig):
        self.token = config.token
        self.access = Access(config.token)
        self.origins = set(config.cors_origins)
        self.loopback_only = is_loopback(config.host)
        self.listen_host = config.host
        self.fingerprint = (
            hashlib.sha256(config.token.encode()).hexdigest()[:8] if config.token else ""
        )

    def client(
        self,
        request: Request,
        credentials: Credentials,
    ) -> str:
        """Check the request (host, origin, token) and name its client, e.g. http:127.0.0.1."""
        self._check_host(request)
        self._check_origin(request)
        host = _peer(request)
        if self.token:
            self._check_token(host, credentials)
        name = f"http:{f'[{host}]' if ':' in host else host}"
        return f"{name}#{self.fingerprint}" if self.fingerprint else name

    def watcher(
        self,
        request: Request,
        credentials: Credentials,
    ) -> None:
        """Health and metrics: open to loopback callers, token-guarded for others."""
        self._check_host(request)
        host = _peer(request)
        if self.token and not is_loopback(host):
            self._check_token(host, credentials)

    def _check_token(self, host: str, credentials: HTTPAuthorizationCredentials | None) -> None:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Problem(
                401,
                "this daemon has a token: send Authorization: Bearer <http.token>",
                "unauthorised",
                {"WWW-Authenticate": "Bearer"},
            )
        try:
            self.access.authorise(host, f"http:{host}", credentials.credentials)
        except TooManyFailures as error:
            retry = {"Retry-After": str(int(FAILURE_WINDOW_S))}
            raise Problem(429, str(error), "too-many-wrong-tokens", retry) from None
        except RequestError as error:
            raise Problem(401, str(error), "unauthorised", {"WWW-Authenticate": "Bearer"}) from None

    def _check_host(self, request: Request) -> None:
        if not self.loopback_only:
            return
        try:
            name = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
        except ValueError:  # a malformed Host header, e.g. an unclosed [
            name = ""
        if not (is_loopback(name) or name == self.listen_host):
            raise Problem(
                403,
                f"this daemon serves loopback only, and the Host header names {name!r}: "
                "use http://127.0.0.1 or http://localhost",
                "wrong-host",
            )

    def _check_origin(self, request: Request) -> None:
        origin = request.headers.get("origin")
        if request.method not in UNSAFE_METHODS or origin is None or origin in self.origins:
            return
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin != own:
            raise Problem(
                403,
                f"a page from {origin} may not change anything here; add it to "
                "http.cors_origins to allow it",
                "foreign-origin",
            )


def _peer(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"
