"""The daemon assembled: store, warm models (here, or on Ray Serve with `ray.enabled`), job
engine, OSC over UDP and TCP, HTTP, MIDI ports, metrics.

The one place that knows every layer, so it sits in the top one, beside the CLI that
starts it; each layer only knows the ones below it.
"""

from __future__ import annotations

import errno
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge.config import Config, MidiConfig, OscConfig, load_config
from bridge.engine.engine import Engine, Renderer
from bridge.engine.warm_models import Reloaded, WarmModel, WarmModels
from bridge.frontends.http.app import create_app
from bridge.frontends.http.server import HttpServer
from bridge.frontends.metrics import Metrics
from bridge.frontends.midi.call_response import CallAndResponse, settings_from
from bridge.frontends.midi.clock import FollowingClock
from bridge.frontends.midi.player import Player
from bridge.frontends.midi.ports import MidiInput, MidiOutput, MidiUnavailable, open_ports
from bridge.frontends.osc.access import check_listen_address
from bridge.frontends.osc.service import OscService, OscSettings
from bridge.frontends.osc.transport import TcpServer, UdpServer
from bridge.render import RenderError, find_soundfont, render_clip
from bridge.store import ResultStore
from bridge.tools.registry import TOOLS

if TYPE_CHECKING:
    from bridge.engine.ray_serve.cluster import RayServing

FREE_PORT_ATTEMPTS = 8  # port 0: numbers free for UDP tried, until TCP has the same one
HTTP_FIX = (
    "Set http.token (clients then send Authorization: Bearer <token>), or serve HTTP on "
    "loopback only (http.host: 127.0.0.1)"
)


class Daemon:
    """A running daemon; `close()` stops it, finishing the job in flight."""

    def __init__(self, config: Config, announce: Callable[[str], None] = print):
        osc, http = config.osc, config.http
        check_listen_address(osc.host, osc.token, osc.allow_without_token)
        if http.enabled:
            check_listen_address(http.host, http.token, False, HTTP_FIX)
        self.store = ResultStore(config.data_folder)
        recovered = self.store.recover()
        if recovered:
            announce(f"marked {recovered} job(s) left unfinished by the last run as failed")
        self.ray: RayServing | None = None  # None: the models run in this process
        try:
            self.ray = _join_ray(config, announce)
            self.models = WarmModels.load(
                config,
                lambda warm: announce(_model_line(warm)),
                self.ray.load if self.ray else None,
            )
        except BaseException:
            if self.ray is not None:
                self.ray.close()  # the applications deployed so far go too
            self.store.close()
            raise
        for spec in self.models.catalog.missing.values():
            announce(f"model {spec.name}: not installed, skipped ({spec.path} does not exist)")
        renderer = _renderer(config, announce)
        self.metrics = Metrics()  # this daemon's own registry, scraped at /metrics
        self.engine = Engine(
            self.models,
            self.store,
            config.limits,
            queue_size=config.engine.queue_size,
            job_timeout=config.engine.job_timeout_s,
            renderer=renderer,
            observer=self.metrics,
        )
        self.metrics.track(self.engine)
        self.config_source = config.source
        self.announce = announce
        self.service = OscService(self.engine, OscSettings(osc.input_folder, osc.token))
        self.service.reload_models = self.reload_models
        self._listen(config)
        self.midi_in, self.midi_out = _midi_ports(config.midi, announce)  # None without MIDI
        self.player: Player | None = None
        self.calls: CallAndResponse | None = None
        if self.midi_in is not None and self.midi_out is not None:
            self.player = Player(self.midi_out.send)
            continuing = self._continuing()
            self.calls = CallAndResponse(
                self.engine.submit,
                self.player,
                FollowingClock(config.midi.tempo, time.monotonic()),
                settings_from(config.midi, continuing),
                announce,
            )
            self.midi_in.subscribe(self.calls.receive)
            self.calls.start()
            self.service.midi = self.calls  # OSC jobs may play results; controls are learnt
        host, port = self.udp.address
        announce(
            f"ready: OSC on udp://{host}:{port} and tcp://{host}:{port} (SLIP); "
            f"HTTP {f'on {self.http.url}' if self.http else 'off'}; results in {self.store.root}"
        )

    def _listen(self, config: Config) -> None:
        """Open the OSC sockets and the HTTP server; if one cannot listen, close what opened
        and say which address failed."""
        osc, http = config.osc, config.http
        opened: list[UdpServer | TcpServer] = []
        where = f"{osc.host}:{osc.port}"
        try:
            self.udp, self.tcp = self._listen_osc(osc)
            opened += [self.udp, self.tcp]
            where = f"{http.host}:{http.port} (HTTP)"
            self.http = None
            if http.enabled:
                app = create_app(self.engine, self.metrics, http)
                self.http = HttpServer(app, http.host, http.port)
        except OSError as error:
            for server in opened:
                server.close()
            self.engine.close()
            self.store.close()
            if self.ray is not None:
                self.ray.close()
            reason = error.strerror or str(error)
            raise OSError(error.errno, f"cannot listen on {where}: {reason}") from None

    def _listen_osc(self, osc: OscConfig) -> tuple[UdpServer, TcpServer]:
        """UDP and TCP on one port number. With port 0 the number is UDP's free one, which a
        TCP socket of another program may hold: then another number is tried."""
        attempts = 1 if osc.port else FREE_PORT_ATTEMPTS
        while True:
            attempts -= 1
            udp = UdpServer(self.service, osc.host, osc.port, osc.max_datagram, osc.reply_port)
            try:
                return udp, TcpServer(self.service, osc.host, udp.address[1], osc.max_tcp_packet)
            except OSError as error:
                udp.close()
                if error.errno != errno.EADDRINUSE or attempts == 0:
                    raise

    def reload_models(self) -> Reloaded:
        """Read the config file again and serve the models it names now (see
        Engine.reload_models); the MIDI model control follows."""
        reloaded = self.engine.reload_models(
            load_config(self.config_source), lambda warm: self.announce(_model_line(warm))
        )
        for warm in reloaded.removed:
            if warm.spec.name not in reloaded.kept + reloaded.loaded:
                self.announce(f"model {warm.spec.name}: no longer served")
        if self.calls is not None:
            self.calls.serve_models(self._continuing())
        return reloaded

    def _continuing(self) -> tuple[str, ...]:
        return tuple(m.spec.name for m in self.models if TOOLS["continue"].serves(m.spec))

    def close(self) -> None:
        # The engine first, while the sockets are open: the job in flight finishes and
        # every waiting client hears how its job ended; new jobs are refused meanwhile.
        if self.calls is not None:
            self.calls.close()  # no new calls; an answer still computing may yet arrive
        self.engine.close()
        if self.player is not None:
            self.player.close()  # every note it started ends before the ports close
        for port in (self.midi_in, self.midi_out):
            if port is not None:
                port.close()
        if self.http is not None:
            self.http.close()  # open event streams have had their jobs' last events
        self.udp.close()
        self.tcp.close()
        self.store.close()
        if self.ray is not None:
            self.ray.close()  # after the engine: no batch is still on a replica


def _join_ray(config: Config, announce: Callable[[str], None]) -> RayServing | None:
    """With `ray.enabled` (serve --ray): the cluster the models are served on; Ray is only
    imported then."""
    if not config.ray.enabled:
        return None
    from bridge.engine import ray_serve

    serving = ray_serve.connect(config.ray)
    announce(serving.describe())
    return serving


def _midi_ports(
    midi: MidiConfig, announce: Callable[[str], None]
) -> tuple[MidiInput | None, MidiOutput | None]:
    """The MIDI ports when the config wants them; a missing MIDI system is only a warning,
    since the OSC side serves without it."""
    if not midi.enabled:
        return None, None
    try:
        midi_in, midi_out = open_ports(midi)
    except MidiUnavailable as error:
        announce(f"midi off: {error}")
        return None, None
    announce(f"midi: in {midi_in.name!r}, out {midi_out.name!r} ({midi_in.api})")
    return midi_in, midi_out


def _model_line(warm: WarmModel) -> str:
    return (
        f"model {warm.spec.name}: {warm.spec.family} on {warm.device}, "
        f"loaded in {warm.load_seconds * 1000:.0f} ms"
    )


def _renderer(config: Config, announce: Callable[[str], None]) -> Renderer | None:
    """Audio previews when a SoundFont is found; without one, only `render 1` requests fail."""
    try:
        soundfont = find_soundfont(config.soundfont)
    except RenderError as error:
        announce(f"audio preview off: {error}")
        return None
    announce(f"audio preview: {soundfont}")
    return functools.partial(render_clip, soundfont=soundfont)
