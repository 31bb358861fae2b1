"""The daemon's configuration: models, devices and limits, read from YAML.

Relative model paths are resolved against the folder holding the config file, so a
checkout works from any current directory. Models fetched with `magenta-bridge models
fetch` join the configured ones: each is a folder of the downloads folder whose
`model.yaml` is a model entry, its paths taken from that folder, so a fetched model needs
no editing of the config file (where a model of the same name wins).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from bridge.music.clip import MAX_NOTES
from bridge.music.content import CONTENTS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.yaml"
BACKENDS = ("native", "magenta")
DEFAULT_DATA_FOLDER = Path.home() / ".local" / "share" / "magenta-bridge"
# A fetched model's folder holds this file: its model entry (written by bridge.downloads).
INSTALLED_MODEL_FILE = "model.yaml"
# MIDI systems by config name; "auto" is the platform's own (bridge/frontends/midi/ports.py).
MIDI_APIS = ("auto", "alsa", "jack", "coremidi", "windows")
# What control changes can do to call and response (bridge/frontends/midi/call_response.py).
MIDI_CONTROLS = ("temperature", "bars", "model", "listen", "panic", "answer")


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file and the setting."""


@dataclass(frozen=True)
class ModelEntry:
    """One entry of `models`, as the file says it: the family table checks it when the models
    load (bridge.models.catalog), so reading a config imports no model code."""

    name: str
    family: str | None  # None: the family table's default
    path: Path
    device: str = "auto"
    description: str = ""
    backend: str = "native"  # "magenta": Google's own generator, in its own environment
    python: Path | None = None  # the magenta environment's python (backend: magenta only)
    optional: bool = False  # a missing file leaves the model out instead of stopping the daemon
    config: str | None = None  # a family with configs (MusicVAE): the checkpoint's config name


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what a client may ask for, so no request can exhaust the machine."""

    max_notes: int = 10_000
    max_clip_beats: float = 1024.0  # length of one clip a client sends (256 bars of 4/4)
    max_file_bytes: int = 4 << 20  # size of a MIDI file named by clip/file
    max_uploads_per_client: int = 16  # clip uploads one client socket may have open at once
    max_bars: int = 64
    max_variations: int = 64
    max_beam_size: int = 16


@dataclass(frozen=True)
class OscConfig:
    """Where the daemon listens and how big packets may be. Both UDP and TCP use `port`."""

    host: str = "127.0.0.1"  # never all interfaces unless the user says so
    port: int = 11300  # clear of AbletonOSC's 11000/11001
    reply_port: int | None = None  # None: reply to the sender's port
    max_datagram: int = 8192  # bytes per UDP datagram, both ways (macOS allows about 9 KB)
    max_tcp_packet: int = 1 << 20  # bytes per SLIP frame
    token: str | None = None  # shared secret for LAN use; clients send /magenta/auth
    allow_without_token: bool = False  # listen beyond loopback without a token (trusted LAN)
    input_folder: Path | None = None  # clip/file paths must lie inside it


@dataclass(frozen=True)
class HttpConfig:
    """The REST API, the web page and /metrics, served by the daemon beside OSC."""

    enabled: bool = True
    host: str = "127.0.0.1"  # loopback; any other address needs a token
    port: int = 11380  # 0: any free port (tests)
    token: str | None = None  # clients send "Authorization: Bearer <token>"
    cors_origins: tuple[str, ...] = ()  # web pages elsewhere allowed to call the API; none: no CORS
    max_upload_bytes: int = 4 << 20  # one POST /v1/jobs body, files and all


@dataclass(frozen=True)
class EngineConfig:
    queue_size: int = 64  # waiting jobs per device before clients get "busy"
    job_timeout_s: float = 60.0


@dataclass(frozen=True)
class RayConfig:
    """`serve --ray`: the models served by Ray Serve deployments on a cluster, the frontends,
    queue and history staying in the daemon (bridge/engine/ray_serve)."""

    enabled: bool = False  # serve --ray turns it on
    address: str = ""  # "": Ray's default (RAY_ADDRESS, else a running cluster, else a new one);
    # "auto": the cluster running on this machine; "local": a new one; else host:port
    replicas: int = 1  # replicas of each model's deployment, each holding the model once
    model_replicas: dict[str, int] = field(default_factory=dict)  # model name -> its own number
    cpus: float = 1.0  # per replica
    gpus: float = 0.0  # per replica; 0: the replicas run on CPUs
    retries: int = 1  # a batch whose replica died is run again on another, this many times
    deploy: bool = True  # false: use the deployments already running (a KubeRay RayService)

    def replicas_of(self, model: str) -> int:
        """The replicas of a model's deployment: its own number, else `replicas`."""
        return self.model_replicas.get(model, self.replicas)


@dataclass(frozen=True)
class MidiConfig:
    """The daemon's MIDI side: which MIDI system, and the names of its two ports."""

    enabled: bool = True  # a missing MIDI system is a warning, never a failed start
    api: str = "auto"  # one of MIDI_APIS
    in_port: str = "Magenta Bridge In"
    out_port: str = "Magenta Bridge Out"
    virtual: bool | None = None  # None: virtual ports except on Windows, which has none
    tempo: float = 120.0  # quarter notes a minute while no MIDI clock comes in
    silence_beats: float = 2.0  # quiet after the last key goes up, then the answer is made
    phrase_end: str = "silence"  # or "bar": the first bar line after the last key goes up
    answer_bars: int = 2
    answer_on: str = "bar"  # answers start on the next "bar" line or "beat"
    model: str | None = None  # None: chosen by the phrase's content
    controls: dict[str, int] = field(default_factory=dict)  # control name -> CC number


@dataclass(frozen=True)
class DownloadsConfig:
    """Where `magenta-bridge models fetch` installs Google's models, and how it downloads."""

    folder: Path = DEFAULT_DATA_FOLDER / "models"  # in the config file: data_folder/models
    mirror: str | None = None  # a server with the official layout, e.g. http://host/magenta
    timeout_s: float = 30.0  # for connecting and for each read: a stalled server fails


@dataclass(frozen=True)
class Config:
    models: dict[str, ModelEntry]
    default_model: str | None = None  # None: the first model that is installed
    device: str = "auto"
    limits: Limits = field(default_factory=Limits)
    osc: OscConfig = field(default_factory=OscConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    midi: MidiConfig = field(default_factory=MidiConfig)
    data_folder: Path = DEFAULT_DATA_FOLDER
    soundfont: Path | None = None  # None: look in the usual system locations
    source: Path | None = None
    by_content: dict[str, str] = field(default_factory=dict)  # melody/drums/polyphony -> model
    downloads: DownloadsConfig = field(default_factory=DownloadsConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    ray: RayConfig = field(default_factory=RayConfig)


def load_config(path: str | Path | None = None) -> Config:
    """Read and check a YAML config (the bundled default when no path is given)."""
    path = Path(path) if path else DEFAULT_CONFIG
    raw = _read_yaml(path)
    device = str(raw.get("device", "auto"))
    data_folder = _path(path, raw.get("data_folder", Config.data_folder))
    downloads = _downloads_section(path, raw, data_folder)
    models = {
        name: _model_entry(path, name, entry, device)
        for name, entry in (raw.get("models") or {}).items()
    }
    fetched = _installed_models(downloads.folder, device)
    models |= {name: entry for name, entry in fetched.items() if name not in models}
    if not models:
        raise ConfigError(f"{path}: no models configured")
    default_model = raw.get("default_model")
    if default_model is not None and default_model not in models:
        raise ConfigError(f"{path}: default_model {default_model!r} is not among the models")
    by_content = raw.get("by_content") or {}
    if not isinstance(by_content, dict) or not set(by_content) <= set(CONTENTS):
        raise ConfigError(f"{path}: by_content maps {', '.join(CONTENTS)} to model names")
    for content, name in by_content.items():
        if name not in models:
            raise ConfigError(f"{path}: by_content.{content} names unknown model {name!r}")
    soundfont = raw.get("soundfont")
    return Config(
        models,
        default_model,
        device,
        _limits_section(path, raw),
        _osc_section(path, raw),
        _engine_section(path, raw),
        _midi_section(path, raw, models),
        data_folder,
        _path(path, soundfont) if soundfont else None,
        path,
        {str(content): str(name) for content, name in by_content.items()},
        downloads,
        _http_section(path, raw),
        _ray_section(path, raw),
    )


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"config {path} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path} must be a mapping of settings")
    return raw


def _model_entry(path: Path, name: str, entry: object, device: str) -> ModelEntry:
    """One entry of `models`, its settings checked (its family is the catalog's to check)."""
    if not isinstance(entry, dict) or "path" not in entry:
        raise ConfigError(f"{path}: model {name!r} needs at least a 'path'")
    backend = entry.get("backend", "native")
    if backend not in BACKENDS:
        raise ConfigError(
            f"{path}: model {name!r} has unknown backend {backend!r} (known: {', '.join(BACKENDS)})"
        )
    if "python" in entry and backend != "magenta":
        raise ConfigError(f"{path}: model {name!r}: 'python' is for backend: magenta only")
    for setting in ("family", "config"):
        if entry.get(setting) is not None and not isinstance(entry[setting], str):
            raise ConfigError(f"{path}: model {name!r}: {setting} must be a name")
    return ModelEntry(
        name,
        entry.get("family"),
        _path(path, entry["path"]),
        str(entry.get("device", device)),
        str(entry.get("description", "")),
        backend,
        _executable(path, entry["python"]) if entry.get("python") else None,
        bool(entry.get("optional", False)),
        entry.get("config"),
    )


def _installed_models(folder: Path, device: str) -> dict[str, ModelEntry]:
    """The models fetched into the downloads folder, by folder name; hidden folders are
    downloads and installs in progress, never models."""
    if not folder.is_dir():
        return {}
    entries = {}
    for model_file in sorted(folder.glob(f"*/{INSTALLED_MODEL_FILE}")):
        name = model_file.parent.name
        if not name.startswith("."):
            entries[name] = _model_entry(model_file, name, _read_yaml(model_file), device)
    return entries


def _downloads_section(path: Path, raw: dict, data_folder: Path) -> DownloadsConfig:
    """Where fetched models go (default: the data folder's `models`), a mirror, a timeout."""
    downloads = _section(path, raw, "downloads", DownloadsConfig)
    folder, mirror, timeout = downloads.folder, downloads.mirror, downloads.timeout_s
    given = (raw.get("downloads") or {}).get("folder") is not None  # null: the default
    if given and not (isinstance(folder, str) and folder):
        raise ConfigError(f"{path}: downloads.folder must be a folder path, or null")
    if mirror is not None and not (
        isinstance(mirror, str) and mirror.startswith(("http://", "https://"))
    ):
        raise ConfigError(f"{path}: downloads.mirror must be an http(s) URL, or null")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ConfigError(f"{path}: downloads.timeout_s must be positive seconds, got {timeout!r}")
    return replace(
        downloads,
        folder=_path(path, folder) if given else data_folder / "models",
        timeout_s=float(timeout),
    )


def _limits_section(path: Path, raw: dict) -> Limits:
    """Every limit a positive number, so none is advisory by accident (a YAML string)."""
    limits = _section(path, raw, "limits", Limits)
    for name, default in vars(Limits()).items():
        value = getattr(limits, name)
        kind = int if isinstance(default, int) else int | float
        if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
            raise ConfigError(f"{path}: limits.{name} must be a positive number, got {value!r}")
    if limits.max_notes > MAX_NOTES:
        raise ConfigError(f"{path}: limits.max_notes cannot exceed {MAX_NOTES}, the clip limit")
    return limits


def _osc_section(path: Path, raw: dict) -> OscConfig:
    osc = _section(path, raw, "osc", OscConfig)
    if osc.input_folder is not None:
        osc = replace(osc, input_folder=_path(path, osc.input_folder))
    for name in ("port", "reply_port"):
        value = getattr(osc, name)
        if value is not None and not (isinstance(value, int) and 0 <= value <= 65535):
            raise ConfigError(f"{path}: osc.{name} must be a port number, got {value!r}")
    if not (isinstance(osc.max_datagram, int) and 1024 <= osc.max_datagram <= 65_000):
        raise ConfigError(f"{path}: osc.max_datagram must be 1024..65000 bytes")
    if osc.token is not None and not (isinstance(osc.token, str) and osc.token):
        raise ConfigError(f"{path}: osc.token must be text (quote it in YAML), or null")
    if not isinstance(osc.allow_without_token, bool):
        raise ConfigError(f"{path}: osc.allow_without_token must be true or false")
    return osc


def _http_section(path: Path, raw: dict) -> HttpConfig:
    """The http section, each setting checked; `cors_origins` becomes a tuple of origins."""
    http = _section(path, raw, "http", HttpConfig)
    if not isinstance(http.enabled, bool):
        raise ConfigError(f"{path}: http.enabled must be true or false, got {http.enabled!r}")
    if not (isinstance(http.host, str) and http.host):
        raise ConfigError(f"{path}: http.host must be an address, got {http.host!r}")
    if isinstance(http.port, bool) or not (isinstance(http.port, int) and 0 <= http.port <= 65535):
        raise ConfigError(f"{path}: http.port must be a port number, got {http.port!r}")
    if http.token is not None and not (isinstance(http.token, str) and http.token):
        raise ConfigError(f"{path}: http.token must be text (quote it in YAML), or null")
    origins = http.cors_origins or ()
    if not isinstance(origins, list | tuple) or not all(isinstance(o, str) and o for o in origins):
        raise ConfigError(
            f"{path}: http.cors_origins must be a list of origins, e.g. [http://host]"
        )
    size = http.max_upload_bytes
    if isinstance(size, bool) or not (isinstance(size, int) and size > 0):
        raise ConfigError(f"{path}: http.max_upload_bytes must be a positive number of bytes")
    return replace(http, cors_origins=tuple(origins))


def _engine_section(path: Path, raw: dict) -> EngineConfig:
    engine = _section(path, raw, "engine", EngineConfig)
    timeout = engine.job_timeout_s
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ConfigError(f"{path}: engine.job_timeout_s must be positive seconds, got {timeout!r}")
    queue = engine.queue_size
    if isinstance(queue, bool) or not isinstance(queue, int) or queue < 1:
        raise ConfigError(f"{path}: engine.queue_size must be a whole number 1 or more")
    return engine


def _ray_section(path: Path, raw: dict) -> RayConfig:
    """The ray section, each setting checked, so a typo fails at start, not on the cluster."""
    ray = _section(path, raw, "ray", RayConfig)
    for name in ("enabled", "deploy"):
        if not isinstance(getattr(ray, name), bool):
            raise ConfigError(f"{path}: ray.{name} must be true or false")
    if not isinstance(ray.address, str):
        raise ConfigError(f"{path}: ray.address must be text: host:port, auto, local or ''")
    counts = {"replicas": (ray.replicas, 1), "retries": (ray.retries, 0)}
    if not isinstance(ray.model_replicas, dict):
        raise ConfigError(f"{path}: ray.model_replicas maps model names to replicas")
    counts |= {f"model_replicas.{n}": (v, 1) for n, v in ray.model_replicas.items()}
    for name, (value, least) in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{path}: ray.{name} must be a whole number {least} or more")
    for name in ("cpus", "gpus"):
        value = getattr(ray, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{path}: ray.{name} must be a number 0 or more")
    if ray.cpus == 0 and ray.gpus == 0:
        raise ConfigError(f"{path}: ray.cpus and ray.gpus cannot both be 0")
    return replace(ray, cpus=float(ray.cpus), gpus=float(ray.gpus))


def _section(path: Path, raw: dict, name: str, kind: type):
    """A config section as its dataclass; unknown keys are named in the error."""
    section = raw.get(name) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: '{name}' must be a mapping of settings")
    try:
        return kind(**section)
    except TypeError as error:
        raise ConfigError(f"{path}: bad {name} section: {error}") from error


def _midi_section(path: Path, raw: dict, models: dict) -> MidiConfig:
    """The midi section, each setting checked, since YAML reads `in_port: 1` as a number."""
    midi = _section(path, raw, "midi", MidiConfig)
    if not isinstance(midi.enabled, bool):
        raise ConfigError(f"{path}: midi.enabled must be true or false, got {midi.enabled!r}")
    if midi.api not in MIDI_APIS:
        raise ConfigError(
            f"{path}: midi.api must be one of {', '.join(MIDI_APIS)}, got {midi.api!r}"
        )
    for name in ("in_port", "out_port"):
        value = getattr(midi, name)
        if not (isinstance(value, str) and value.strip()):
            raise ConfigError(f"{path}: midi.{name} must be a port name, got {value!r}")
    if not (midi.virtual is None or isinstance(midi.virtual, bool)):
        raise ConfigError(f"{path}: midi.virtual must be true, false or null, got {midi.virtual!r}")
    for name, low, high in (("tempo", 20.0, 400.0), ("silence_beats", 0.25, 32.0)):
        value = getattr(midi, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ConfigError(f"{path}: midi.{name} must be a number from {low:g} to {high:g}")
    if isinstance(midi.answer_bars, bool) or midi.answer_bars not in range(1, 17):
        raise ConfigError(f"{path}: midi.answer_bars must be a whole number from 1 to 16")
    if midi.phrase_end not in ("silence", "bar"):
        raise ConfigError(
            f"{path}: midi.phrase_end must be silence or bar, got {midi.phrase_end!r}"
        )
    if midi.answer_on not in ("bar", "beat"):
        raise ConfigError(f"{path}: midi.answer_on must be bar or beat, got {midi.answer_on!r}")
    if midi.model is not None and midi.model not in models:
        raise ConfigError(f"{path}: midi.model {midi.model!r} is not a configured model")
    controls = midi.controls or {}
    for name, number in controls.items():
        if name not in MIDI_CONTROLS:
            raise ConfigError(
                f"{path}: midi.controls: unknown control {name!r}; controls: "
                f"{', '.join(MIDI_CONTROLS)}"
            )
        if isinstance(number, bool) or number not in range(128):
            raise ConfigError(f"{path}: midi.controls.{name} must be a CC number 0-127")
    return replace(midi, controls=dict(controls))


def _executable(config_file: Path, value: str | Path) -> Path:
    """Like _path, but links are kept: a virtualenv's python is a link that must stay one."""
    return Path(os.path.abspath(config_file.parent / Path(value).expanduser()))


def _path(config_file: Path, value: str | Path) -> Path:
    """A path from the config: ~ expanded, relative ones taken from the config's folder."""
    resolved = Path(value).expanduser()
    return resolved if resolved.is_absolute() else (config_file.parent / resolved).resolve()
