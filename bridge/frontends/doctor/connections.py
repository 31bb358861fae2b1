"""Checks of the ways DAWs reach the daemon: the OSC port (free, a running daemon's, or held by
another program) and the MIDI system with its ports."""

from __future__ import annotations

import errno
import socket
import time

from bridge.config import Config
from bridge.frontends.doctor.result import Check, Status

PROBE_SECONDS = 1.0  # a running daemon answers /magenta/test in well under a millisecond
PROBE_ID = "doctor"
SOCKET_KINDS = (("UDP", socket.SOCK_DGRAM), ("TCP", socket.SOCK_STREAM))
# Where clients on this machine reach a daemon listening on every interface.
LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
SHOWN_PORTS = 6  # port names listed per direction; the rest are counted


def osc_port(config: Config, wait: float = PROBE_SECONDS) -> Check:
    """Whether `serve` can listen on osc.host:osc.port, UDP and TCP; when it cannot, whether
    a Magenta Bridge daemon already does (it answers /magenta/test) or another program."""
    from bridge.frontends.osc.access import check_listen_address

    osc, source = config.osc, config.source
    where = f"{osc.host}:{osc.port}"
    try:
        check_listen_address(osc.host, osc.token, osc.allow_without_token)
    except ValueError as error:
        fix = f"set osc.token (or osc.host: 127.0.0.1) in {source}"
        return Check("osc port", Status.FAIL, str(error), fix)
    busy = []
    for kind, socktype in SOCKET_KINDS:
        try:
            _bind(osc.host, osc.port, socktype)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                busy.append(kind)
                continue
            if error.errno == errno.EACCES:  # ports below 1024 need privileges
                setting = "osc.port: a port above 1023"
            else:  # an address this machine does not have, or a name that does not resolve
                setting = "osc.host: 127.0.0.1 (or an address of this machine)"
            problem = f"cannot listen on {where} ({kind}): {error.strerror or error}"
            return Check("osc port", Status.FAIL, problem, f"set {setting} in {source}")
    if not busy:
        return Check("osc port", Status.OK, f"{where} is free (UDP and TCP)")
    reply = daemon_status(LOOPBACK.get(osc.host, osc.host), osc.port, wait)
    if reply is not None:
        status, version = reply
        running = f"{where}: a daemon is running, version {version}"
        if status == "ok":
            return Check("osc port", Status.OK, running)
        return Check(
            "osc port",
            Status.WARN,
            f"{running}, but its status is {status!r}: a job worker has stopped",
            "restart it: stop `magenta-bridge serve` (Ctrl-C) and start it again",
        )
    free = _free_port(osc.host, osc.port + 2)  # + 1: the Max for Live device's reply port
    other = f" (e.g. {free})" if free else ""
    return Check(
        "osc port",
        Status.FAIL,
        f"{' and '.join(busy)} port {osc.port} of {osc.host} is held by another program "
        "(it does not answer /magenta/test)",
        f"stop that program, or set osc.port in {source} to a free port{other} and give the "
        "DAW side the same port (Max for Live: the device's udpsend; REAPER: Magenta Bridge - "
        "Settings, Daemon port)",
    )


def http_port(config: Config, wait: float = PROBE_SECONDS) -> Check:
    """Whether `serve` can open its HTTP port (REST, the web page, /metrics); when it is
    taken, whether by a Magenta Bridge daemon (its /v1/health answers) or another program."""
    from bridge.frontends.osc.access import check_listen_address

    http, source = config.http, config.source
    where = f"{http.host}:{http.port}"
    if not http.enabled:
        return Check("http port", Status.OK, "HTTP is turned off (http.enabled: false)")
    try:
        check_listen_address(http.host, http.token, False)
    except ValueError as error:
        return Check("http port", Status.FAIL, str(error), f"set http.token in {source}")
    try:
        _bind(http.host, http.port, socket.SOCK_STREAM)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            problem = f"cannot listen on {where}: {error.strerror or error}"
            return Check("http port", Status.FAIL, problem, f"set http.port in {source}")
    else:
        return Check("http port", Status.OK, f"{where} is free")
    health = _http_health(LOOPBACK.get(http.host, http.host), http.port, wait)
    if health is not None:
        return Check("http port", Status.OK, f"{where}: a daemon answers /v1/health ({health})")
    free = _free_port(http.host, http.port + 1)
    other = f" (e.g. {free})" if free else ""
    return Check(
        "http port",
        Status.FAIL,
        f"TCP port {http.port} of {http.host} is held by another program",
        f"stop that program, set http.port in {source} to a free port{other}, or start the "
        "daemon with `serve --no-http`",
    )


def _http_health(host: str, port: int, wait: float) -> str | None:
    """The status a daemon's /v1/health gives (None: no daemon answers there)."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{host}:{port}/v1/health", timeout=wait) as reply:
            return str(json.load(reply).get("status"))
    except urllib.error.HTTPError as error:  # 503: a daemon whose worker stopped
        return f"HTTP {error.code}" if error.code in (401, 503) else None
    except (OSError, ValueError):
        return None


def daemon_status(host: str, port: int, wait: float = PROBE_SECONDS) -> tuple[str, str] | None:
    """(status, version) from a daemon's /magenta/test reply, or None when none comes."""
    from pythonosc.osc_packet import OscPacket, ParseError

    from bridge.frontends.osc.api import ROOT
    from bridge.frontends.osc.wire import message

    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    deadline = time.monotonic() + wait
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.sendto(message(f"{ROOT}/test", PROBE_ID), address)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                packet = sock.recv(65_536)
                messages = [timed.message for timed in OscPacket(packet).messages]
            except ParseError:
                continue  # not OSC: not a daemon's reply, keep listening
            except OSError:  # the time is up, or nothing listens on that port (ICMP)
                return None
            for reply in messages:
                params = list(reply.params)
                if reply.address == f"{ROOT}/test" and params[:1] == [PROBE_ID] and len(params) > 2:
                    return str(params[1]), str(params[2])
    return None


def _bind(host: str, port: int, socktype: int) -> None:
    """Bind and let go, as the daemon's transports bind (TCP with SO_REUSEADDR, so a port
    with connections closing in TIME_WAIT counts as free, as it is for the daemon)."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socktype)[0]
    if socktype == socket.SOCK_STREAM:
        socket.create_server(address, family=family).close()
    else:
        with socket.socket(family, socktype) as sock:
            sock.bind(address)


def _free_port(host: str, start: int) -> int | None:
    """The first port from `start` on that both UDP and TCP can take now."""
    for port in range(start, min(start + 100, 65_536)):
        try:
            for _, socktype in SOCKET_KINDS:
                _bind(host, port, socktype)
        except OSError:
            continue
        return port
    return None


def midi(config: Config) -> Check:
    """The configured MIDI system and the ports it shows. Every problem is a warning: the
    daemon serves OSC without MIDI and says so once (bridge/frontends/daemon.py)."""
    from bridge.frontends.midi.ports import (
        HINTS,
        MidiUnavailable,
        available_ports,
        compiled_apis,
        resolve_api,
    )

    settings, source = config.midi, config.source
    if not settings.enabled:
        return Check("midi", Status.OK, "off (midi.enabled: false): the daemon serves OSC only")
    try:
        api = resolve_api(settings.api)
    except MidiUnavailable as error:
        built = ", ".join(compiled_apis()) or "none"
        fix = f"set midi.api in {source} to one python-rtmidi has ({built}), or midi.enabled: false"
        return Check("midi", Status.WARN, f"{error}; the daemon will serve OSC without MIDI", fix)
    try:
        ports = available_ports(api)
    except MidiUnavailable as error:
        problem = str(error).removesuffix(f"; {HINTS[api]}")  # the hint is the fix below
        return Check(
            "midi",
            Status.WARN,
            f"{problem}; the daemon will serve OSC without MIDI",
            f"{HINTS[api]}; or midi.enabled: false in {source}",
        )
    running = " (JACK server running)" if api == "jack" else ""
    listed = "; ".join(f"{kind}: {_names(ports[kind])}" for kind in ("inputs", "outputs"))
    return Check("midi", Status.OK, f"{api}{running}: {listed}")


def _names(ports: list[str]) -> str:
    shown = ", ".join(ports[:SHOWN_PORTS]) or "none"
    more = len(ports) - SHOWN_PORTS
    return f"{shown} and {more} more" if more > 0 else shown
