"""Who may use the daemon: where it may listen, the shared token, and failed-auth back-off.

Authorisation belongs to the socket that presented the token (a UDP host and port, or a TCP
connection), never to where replies go, so a reply port shared by many clients shares no
rights. Wrong tokens are counted per host: after a few, that host waits before trying again.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from bridge.engine.jobs import RequestError

MAX_FAILURES = 5  # wrong tokens from one host within FAILURE_WINDOW_S, then it waits
FAILURE_WINDOW_S = 60.0
MAX_AUTHORISED = 4096  # sockets remembered; the least recently seen are forgotten first
MAX_HOSTS_TRACKED = 4096  # hosts whose failures are remembered


class AccessError(ValueError):
    """The daemon must not listen as configured; the message says what to change."""


class TooManyFailures(RequestError):
    """A host sent too many wrong tokens lately; it must wait before trying again."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


OSC_FIX = (
    "Set osc.token (clients then send /magenta/auth), or, on a trusted network only, "
    "osc.allow_without_token: true (serve --allow-without-token)"
)


def check_listen_address(
    host: str, token: str | None, allow_without_token: bool, fix: str = OSC_FIX
) -> None:
    """Refuse to serve beyond this machine without a token, unless the user opted out;
    `fix` tells the user what to set (the OSC or the HTTP settings)."""
    if is_loopback(host) or token or allow_without_token:
        return
    raise AccessError(
        f"refusing to listen on {host} without a token: anyone who can reach it could run "
        f"jobs and read results. {fix}"
    )


class Access:
    """The token check, the authorised sockets and the per-host failure count."""

    def __init__(self, token: str | None, clock: Callable[[], float] = time.monotonic):
        self.token = token
        self._clock = clock
        self._lock = threading.Lock()
        self._authorised: OrderedDict[str, None] = OrderedDict()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def required(self) -> bool:
        return bool(self.token)

    def allows(self, sender: str) -> bool:
        """Whether this socket may send requests (always, when no token is configured)."""
        if not self.token:
            return True
        with self._lock:
            if sender not in self._authorised:
                return False
            self._authorised.move_to_end(sender)
            return True

    def authorise(self, host: str, sender: str, token: str) -> None:
        """Authorise `sender` if `token` is right; RequestError if wrong or if `host` failed
        too often lately (then the token is not even compared)."""
        if not self.token:
            return
        with self._lock:
            now = self._clock()
            failures = self._failures.get(host, deque())
            while failures and failures[0] < now - FAILURE_WINDOW_S:
                failures.popleft()
            if len(failures) >= MAX_FAILURES:
                wait = failures[0] + FAILURE_WINDOW_S - now
                raise TooManyFailures(
                    f"too many wrong tokens from {host}; try again in {wait:.0f} s"
                )
            if not hmac.compare_digest(token.encode(), self.token.encode()):
                failures.append(now)
                self._failures[host] = failures
                self._failures.move_to_end(host)
                while len(self._failures) > MAX_HOSTS_TRACKED:
                    self._failures.popitem(last=False)
                raise RequestError("wrong token")
            self._authorised[sender] = None
            self._authorised.move_to_end(sender)
            while len(self._authorised) > MAX_AUTHORISED:
                self._authorised.popitem(last=False)

    def forget(self, sender: str) -> None:
        """A TCP connection closed: its authorisation ends with it."""
        with self._lock:
            self._authorised.pop(sender, None)
