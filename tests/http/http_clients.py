"""A REST client written from docs/http-api.md with the standard library only (http.client),
as a script or `curl` would talk to the daemon, and a config writer for HTTP daemons."""

from __future__ import annotations

import http.client
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from bridge.music.midi import read_midi

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PROBLEM = "application/problem+json"


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def problem(self, status: int) -> dict[str, Any]:
        """The problem details of an error reply, checked to be one of `status`."""
        assert self.status == status, (self.status, self.body[:500])
        assert self.content_type == PROBLEM, self.content_type
        problem = self.json
        assert set(problem) == {"type", "title", "status", "detail"}, problem
        assert problem["status"] == status and problem["detail"], problem
        assert b"Traceback" not in self.body
        return problem


@dataclass
class Http:
    """One client: a host and port, an optional token, an optional source address (another
    loopback address stands for another host)."""

    host: str
    port: int
    token: str | None = None
    source: str | None = None
    timeout: float = 60.0
    headers: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Reply:
        connection = self._connect()
        try:
            connection.request(method, path, body, self._headers(headers))
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, headers=headers)

    def delete(self, path: str) -> Reply:
        return self.request("DELETE", path)

    def post_json(self, path: str, document: Any, **headers: str) -> Reply:
        body = json.dumps(document).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json", **headers})

    def post_form(
        self,
        path: str,
        fields: dict[str, str],
        files: dict[str, bytes] | None = None,
        filename: str = "clip.mid",
    ) -> Reply:
        """multipart/form-data, written out as RFC 7578 says; every file is sent under
        `filename`."""
        boundary = f"----bridge{secrets.token_hex(8)}"
        parts = []
        for name, value in fields.items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(head.encode() + value.encode() + b"\r\n")
        for name, data in (files or {}).items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: audio/midi\r\n\r\n'
            )
            parts.append(head.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        return self.request("POST", path, body, {"Content-Type": content_type})

    def events(self, path: str) -> Iterator[tuple[str, Any]]:
        """Server-Sent Events as (event, data) read from the socket as they come, until the
        server ends the stream."""
        connection = self._connect()
        try:
            connection.request("GET", path, headers=self._headers({"Accept": "text/event-stream"}))
            response = connection.getresponse()
            assert response.status == 200, response.read()
            assert response.headers["Content-Type"].startswith("text/event-stream")
            event, data = "message", []
            for raw in response:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    yield event, json.loads("\n".join(data))
                    event, data = "message", []
        finally:
            connection.close()

    def run(self, document: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
        """POST a JSON job and follow its events to the end: (accepted reply, events)."""
        reply = self.post_json("/v1/jobs", document)
        assert reply.status == 202, reply.body
        accepted = reply.json
        return accepted, list(self.events(accepted["events_url"]))

    def _connect(self) -> http.client.HTTPConnection:
        source = (self.source, 0) if self.source else None
        return http.client.HTTPConnection(
            self.host, self.port, timeout=self.timeout, source_address=source
        )

    def _headers(self, extra: dict | None) -> dict[str, str]:
        headers = {**self.headers, **(extra or {})}
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers


def client_of(daemon: Any, **options: Any) -> Http:
    """A client of a running Daemon's HTTP server."""
    host, port = daemon.http.address
    return Http(host, port, **options)


def notes_of(path: Path) -> list[list[float]]:
    """A MIDI file's notes as the JSON body's 5-element lists."""
    clip = read_midi(path)
    return [[n.pitch, n.start, n.duration, n.velocity, n.mute] for n in clip.notes]
