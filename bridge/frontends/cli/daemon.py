"""`magenta-bridge serve`, `history` and `client`: run the daemon, read its store, ask it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.frontends.cli.common import add_param_options, given_params, output_paths
from bridge.music.content import CONTENTS

if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.frontends.cli.common import Commands
    from bridge.frontends.client import JobResult
    from bridge.tools.registry import Tool


# The MIDI files each tool reads, by how many clips it takes (the registry's `inputs`).
CLIENT_INPUTS = {
    0: {},
    1: {"input": "MIDI file to send"},
    2: {"start": "MIDI file to start from", "end": "MIDI file to end at"},
}


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `serve`, `history` and `client`, which also take --config after their name."""
    serve = commands.add_parser(
        "serve",
        parents=[config_option],
        help="run the daemon: warm models served over OSC (UDP and TCP) and HTTP",
        description="Load the configured models once and answer OSC and HTTP requests until "
        "Ctrl-C or SIGTERM. The APIs are documented in docs/osc-api.md and docs/http-api.md; "
        "the web page is at http://127.0.0.1:11380/.",
    )
    serve.add_argument("--host", default=None, help="address to listen on (default: config)")
    serve.add_argument("--port", type=int, default=None, help="UDP and TCP port (default: config)")
    serve.add_argument(
        "--allow-without-token",
        action="store_true",
        help="listen beyond loopback with no osc.token (only on a network you trust)",
    )
    serve.add_argument(
        "--http-host",
        default=None,
        help="address for HTTP (default: config); beyond loopback it needs http.token",
    )
    serve.add_argument(
        "--http-port", type=int, default=None, help="HTTP port, 0: any free one (default: config)"
    )
    serve.add_argument("--no-http", action="store_true", help="serve no HTTP, the web page neither")
    serve.add_argument(
        "--data-folder", type=Path, default=None, help="results and history (default: config)"
    )
    _add_ray_options(serve)
    serve.set_defaults(run=_serve)

    history = commands.add_parser(
        "history", parents=[config_option], help="list past jobs from the daemon's store"
    )
    history.add_argument("--limit", type=int, default=20, help="jobs to show (default 20)")
    history.add_argument("--client", default=None, help="only this client, e.g. cli or udp:...")
    history.set_defaults(run=_history)

    client = commands.add_parser(
        "client",
        parents=[config_option],
        help="send a request to a running daemon",
        description="Talk to a running daemon over OSC/TCP, e.g. from a DAW script.",
    )
    client.add_argument("--host", default=None, help="daemon address (default: config)")
    client.add_argument("--port", type=int, default=None, help="daemon port (default: config)")
    client.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    client.add_argument(
        "--token",
        default=None,
        help="the daemon's osc.token, when it has one (default: $MAGENTA_BRIDGE_TOKEN, else "
        "the config's)",
    )
    client.add_argument(
        "--json",
        action="store_true",
        help="machine-readable output for scripts: one JSON line per progress step, then one "
        "with the result (ok, job, model, paths) or the error",
    )
    client_tools = client.add_subparsers(title="tools", metavar="TOOL")
    from bridge.tools.registry import TOOLS

    for tool in TOOLS.values():
        _add_client_tool(client_tools, tool)
    models = client_tools.add_parser(
        "models",
        help="the models the daemon serves",
        description="List the models a running daemon serves (name, family, device, content); "
        "with --reload it first reads its config again, loading models fetched or added since "
        "it started (/magenta/models/reload).",
    )
    models.add_argument("--reload", action="store_true", help="read the config again first")
    models.set_defaults(run=_client_models)


def _add_ray_options(serve: argparse.ArgumentParser) -> None:
    """`serve --ray [ADDRESS]`, `--ray-attach`: the models on Ray Serve (the config's ray
    section sets the rest)."""
    serve.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="serve the models from Ray Serve deployments on a cluster (pip install '.[ray]'; "
        "the config's ray section sets replicas, CPUs, GPUs, retries): a cluster's ADDRESS "
        "(host:port), 'auto' (the cluster running on this machine), 'local' (a new one) or "
        "nothing (the config's ray.address; empty: RAY_ADDRESS, else a running cluster, "
        "else a new one). OSC, HTTP, MIDI, the queue and the history stay here",
    )
    serve.add_argument(
        "--ray-attach",
        action="store_true",
        help="with --ray: use the model applications already running on the cluster (as a "
        "KubeRay RayService deploys them) instead of deploying them (config: ray.deploy)",
    )


def _add_client_tool(client_tools: Commands, tool: Tool) -> None:
    """`client TOOL`: its MIDI inputs, an output, and one option per parameter of the tool's
    table in bridge.tools.registry, so the client takes what the daemon takes."""
    command = client_tools.add_parser(
        tool.name,
        help=f"{tool.summary} (on the daemon)",
        description=f"{tool.summary[0].upper()}{tool.summary[1:]}, on a running daemon; runs on "
        f"{tool.runs_on}. Results are written as MIDI: OUTPUT itself for one result, else "
        "OUTPUT-1.mid, OUTPUT-2.mid...",
    )
    for name, help_text in CLIENT_INPUTS[tool.inputs].items():
        command.add_argument(name, type=Path, help=help_text)
    command.add_argument("-o", "--output", type=Path, required=True, help="output MIDI file")
    command.add_argument(
        "--model",
        default=None,
        help="configured model name (default: the daemon chooses, by the clip's content)",
    )
    if tool.inputs:
        command.add_argument(
            "--drums",
            action="store_true",
            help="send the input clips as drum parts whatever their MIDI channel (a file whose "
            "notes are all on channel 10 is one anyway)",
        )
    else:
        command.add_argument(
            "--content",
            choices=CONTENTS,
            default=None,
            help="without --model, the daemon picks the model made for this content, as it "
            "would for a clip of it (default: its first model serving the tool)",
        )
    command.add_argument(
        "--render", action="store_true", help="also render WAV previews (daemon side)"
    )
    command.add_argument(
        "--play",
        action="store_true",
        help="also play the first result on the daemon's MIDI out port, from its next bar line",
    )
    add_param_options(command, tool.params)
    command.set_defaults(run=_client, tool=tool.name, inputs=list(CLIENT_INPUTS[tool.inputs]))


def _serve(args: argparse.Namespace) -> int:
    import os
    import signal
    import threading
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.frontends.daemon import Daemon

    config = load_config(args.config)
    osc = replace(
        config.osc,
        host=args.host or config.osc.host,
        port=config.osc.port if args.port is None else args.port,
        allow_without_token=args.allow_without_token or config.osc.allow_without_token,
    )
    http = replace(
        config.http,
        enabled=config.http.enabled and not args.no_http,
        host=args.http_host or config.http.host,
        port=config.http.port if args.http_port is None else args.http_port,
    )
    data_folder = args.data_folder.resolve() if args.data_folder else config.data_folder
    ray = config.ray
    if args.ray is not None or args.ray_attach:
        address = args.ray or ray.address
        ray = replace(ray, enabled=True, address=address, deploy=ray.deploy and not args.ray_attach)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: the user does not want to wait
            print("stopping now; unfinished jobs are marked failed at the next start", flush=True)
            os._exit(130)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    config = replace(config, osc=osc, http=http, data_folder=data_folder, ray=ray)
    daemon = Daemon(config, lambda line: print(line, flush=True))
    try:
        stop.wait()
    finally:
        print("stopping: finishing the job in flight (Ctrl-C again to quit at once)", flush=True)
        daemon.close()
        print("stopped", flush=True)
    return 0


def _history(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.store import ResultStore

    config = load_config(args.config)
    with ResultStore(config.data_folder) as store:
        records = store.history(args.limit, args.client)
    for record in records:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        run = record.timings.get("run_s")
        took = f"{run * 1000:.0f} ms" if run is not None else "-"
        print(
            f"{record.job_id}  {when}  {record.status:9}  {record.tool:9}  {record.model:14}  "
            f"{took:>8}  {record.client}  {record.request_id}"
        )
        for path in record.result_paths:
            print(f"    {path}")
        if record.error:
            print(f"    error: {record.error}")
        if record.warning:
            print(f"    warning: {record.warning}")
    if not records:
        print(f"no jobs yet in {config.data_folder}")
    return 0


def _client(args: argparse.Namespace) -> int:
    """Run one tool on the daemon; with --json, every outcome (errors too) is a JSON line."""
    try:
        return _run_client(args)
    except (ValueError, OSError, RuntimeError) as error:
        if args.json:
            print(json.dumps({"ok": False, "error": str(error)}), flush=True)
        raise  # main() prints the one-line error and exits with 1


def _run_client(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.frontends.client import DaemonClient
    from bridge.music.midi import read_midi, write_midi

    config = load_config(args.config)
    clips = [read_midi(getattr(args, name)) for name in args.inputs]
    if getattr(args, "drums", False):
        clips = [replace(clip, drums=True) for clip in clips]
    params = given_params(args)
    for flag in ("render", "play"):
        if getattr(args, flag):
            params[flag] = 1
    for reserved in ("model", "content"):
        if getattr(args, reserved, None):
            params[reserved] = getattr(args, reserved)
    progress = _print_progress if args.json else lambda _: None
    host, port = args.host or config.osc.host, args.port or config.osc.port
    with DaemonClient(host, port, args.timeout, _token(args, config)) as client:
        result = client.run_tool(args.tool, clips, params, progress)
    print(f"job {result.job_id}: model {result.model} ({result.model_reason})", file=sys.stderr)
    if result.warning:
        print(f"warning: {result.warning}", file=sys.stderr)
    paths = output_paths(args.output, len(result.clips))
    for clip, path in zip(result.clips, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(clip, path)
        if not args.json:
            print(f"{path}: {len(clip.notes)} notes over {clip.length:g} beats")
    if args.json:
        print(json.dumps(_json_result(result, paths)), flush=True)
    else:
        for wav in result.previews:
            print(f"preview: {wav}")
    return 0


def _token(args: argparse.Namespace, config: Config) -> str | None:
    """The token to present: --token, else $MAGENTA_BRIDGE_TOKEN, else the config's."""
    return args.token or os.environ.get("MAGENTA_BRIDGE_TOKEN") or config.osc.token


def _client_models(args: argparse.Namespace) -> int:
    """Print the daemon's models; with --json (errors too) as one JSON line."""
    from dataclasses import asdict

    from bridge.config import load_config
    from bridge.frontends.client import DaemonClient

    try:
        config = load_config(args.config)
        host, port = args.host or config.osc.host, args.port or config.osc.port
        with DaemonClient(host, port, args.timeout, _token(args, config)) as client:
            models = client.models(reload=args.reload)
    except (ValueError, OSError, RuntimeError) as error:
        if args.json:
            print(json.dumps({"ok": False, "error": str(error)}), flush=True)
        raise
    if args.json:
        print(json.dumps({"ok": True, "models": [asdict(m) for m in models]}), flush=True)
        return 0
    for model in models:
        print(f"{model.name:16} {model.family:16} {model.device:8} {model.content}")
    return 0


def _print_progress(fraction: float) -> None:
    print(json.dumps({"progress": round(fraction, 4)}), flush=True)


def _json_result(result: JobResult, paths: list[Path]) -> dict[str, Any]:
    return {
        "ok": True,
        "job": result.job_id,
        "model": result.model,
        "reason": result.model_reason,
        "paths": [str(path.resolve()) for path in paths],
        "lengths": [clip.length for clip in result.clips],
        "drums": [clip.drums for clip in result.clips],
        "notes": [len(clip.notes) for clip in result.clips],
        "previews": [str(path) for path in result.previews],
        "warning": result.warning,
    }
