"""`magenta-bridge serve`, `history` and `client`: run the daemon, read its store, ask it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.frontends.cli.common import add_param_options, given_params, output_paths

if TYPE_CHECKING:
    from bridge.frontends.cli.common import Commands


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `serve`, `history` and `client`, which also take --config after their name."""
    serve = commands.add_parser(
        "serve",
        parents=[config_option],
        help="run the daemon: warm models served over OSC (UDP and TCP)",
        description="Load the configured models once and answer OSC requests until "
        "Ctrl-C or SIGTERM. The API is documented in docs/osc-api.md.",
    )
    serve.add_argument("--host", default=None, help="address to listen on (default: config)")
    serve.add_argument("--port", type=int, default=None, help="UDP and TCP port (default: config)")
    serve.add_argument(
        "--data-folder", type=Path, default=None, help="results and history (default: config)"
    )
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
    client_tools = client.add_subparsers(title="tools", metavar="TOOL")
    client_continue = client_tools.add_parser("continue", help="continue a MIDI clip on the daemon")
    client_continue.add_argument("input", type=Path, help="MIDI file whose melody is the primer")
    client_continue.add_argument("-o", "--output", type=Path, required=True, help="output MIDI")
    client_continue.add_argument(
        "--model", default=None, help="configured model name (default: chosen by the clip)"
    )
    client_continue.add_argument(
        "--render", action="store_true", help="also render WAV previews (daemon side)"
    )
    client_continue.add_argument(
        "--play",
        action="store_true",
        help="also play the first result on the daemon's MIDI out port, from its next bar line",
    )
    from bridge.tools.registry import CONTINUE

    add_param_options(client_continue, CONTINUE.params)
    client_continue.set_defaults(run=_client_continue, tool="continue")


def _serve(args: argparse.Namespace) -> int:
    import os
    import signal
    import threading
    from dataclasses import replace

    from bridge.config import load_config
    from bridge.daemon import Daemon

    config = load_config(args.config)
    osc = replace(
        config.osc,
        host=args.host or config.osc.host,
        port=config.osc.port if args.port is None else args.port,
    )
    data_folder = args.data_folder.resolve() if args.data_folder else config.data_folder
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: the user does not want to wait
            print("stopping now; unfinished jobs are marked failed at the next start", flush=True)
            os._exit(130)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    config = replace(config, osc=osc, data_folder=data_folder)
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
    if not records:
        print(f"no jobs yet in {config.data_folder}")
    return 0


def _client_continue(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.frontends.client import DaemonClient
    from bridge.music.midi import read_midi, write_midi

    config = load_config(args.config)
    params = given_params(args)
    if args.model:
        params["model"] = args.model
    if args.render:
        params["render"] = 1
    if args.play:
        params["play"] = 1
    host, port = args.host or config.osc.host, args.port or config.osc.port
    with DaemonClient(host, port, args.timeout) as client:
        result = client.run_tool(args.tool, [read_midi(args.input)], params)
    print(f"job {result.job_id}: model {result.model} ({result.model_reason})", file=sys.stderr)
    for clip, path in zip(result.clips, output_paths(args.output, len(result.clips)), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_midi(clip, path)
        print(f"{path}: {len(clip.notes)} notes over {clip.length:g} beats")
    for wav in result.previews:
        print(f"preview: {wav}")
    return 0
