"""A real HTTP server on 127.0.0.1 that serves model files in the official layout, with
HTTP Range support and switches for the ways real servers and connections fail.

It also answers as an HTTP proxy would be asked (a request line holding the whole URL),
so a test can check that urllib's proxy settings reach it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

RANGE = re.compile(r"bytes=(\d+)-$")
STALL_LIMIT_S = 20.0  # a stalled answer ends by itself then, so a broken timeout fails a test


@dataclass
class Seen:
    """One request as the server saw it."""

    target: str  # the request line's target: a path, or a whole URL through a proxy
    path: str
    range: str | None


@dataclass
class ModelServer:
    """Files by URL path, and per path a failure mode:

    cut: announce the whole length, send half the body, close the connection;
    stall: send the headers and half the body, then nothing (until the test ends);
    stall-headers: accept the connection and answer nothing;
    ignore-range: answer 200 with the whole file to a Range request;
    no-length: send the body without Content-Length, then close;
    an int: answer with that HTTP status (404, 500...).
    """

    files: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, str | int] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests_for(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]


def start(server_state: ModelServer) -> ThreadingHTTPServer:
    """Serve `server_state` on a free port of 127.0.0.1 from a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            wanted = self.headers.get("Range")
            server_state.seen.append(Seen(self.path, path, wanted))
            mode = server_state.modes.get(path)
            body = server_state.files.get(path)
            if isinstance(mode, int) or body is None:
                self._status(mode if isinstance(mode, int) else 404)
            elif mode == "stall-headers":
                server_state.release.wait(STALL_LIMIT_S)
                self.close_connection = True
            else:
                self._send(body, wanted, mode)

        def _status(self, code: int) -> None:
            message = f"status {code}\n".encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)

        def _send(self, body: bytes, wanted: str | None, mode: str | None) -> None:
            start = 0
            match = RANGE.match(wanted or "")
            if match and mode != "ignore-range":
                start = int(match.group(1))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            part = body[start:]
            if mode == "no-length":
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            if mode in ("cut", "stall"):
                self.wfile.write(part[: len(part) // 2])
                self.wfile.flush()
                if mode == "stall":
                    server_state.release.wait(STALL_LIMIT_S)
                self.close_connection = True
                return
            self.wfile.write(part)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # clients hanging up mid-body (timeouts, refused sizes) are what tests do

    httpd = Server(("127.0.0.1", 0), Handler)
    server_state.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd
