"""uvicorn on a thread of the daemon, on a socket bound before it starts.

The socket is bound here, so a port in use is an OSError at once, in the daemon's start, like
OSC's; uvicorn then serves it on its own event loop. uvicorn neither configures the process's
logging nor trusts X-Forwarded-For: a client's address is who it is (job ownership).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

START_SECONDS = 10.0  # for uvicorn to start serving the bound socket
GRACE_SECONDS = 3  # open requests and event streams may finish this long at close


class HttpServer:
    """Serves `app` on host:port until close()."""

    def __init__(self, app: FastAPI, host: str, port: int):
        self.sock = _listen(host, port)
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="http", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise OSError(f"the HTTP server did not start on {host}:{port}")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(GRACE_SECONDS + 2)
        self.sock.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, IPv4 or IPv6 as the host resolves.

    Its protocol is named (IPPROTO_TCP, not 0 as socket.create_server leaves it): connections
    accepted from it inherit it, and only then does asyncio turn Nagle's algorithm off for
    them. With it on, a reply's body waits for the client's delayed ACK of its headers, and
    every request after the first on a kept-alive connection took 40 ms more."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise OSError(error.errno, f"cannot resolve {host!r}: {error.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name != "nt":  # on Windows the option would let another program take the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock
