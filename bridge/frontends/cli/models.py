"""`magenta-bridge models`: what the config offers and which are installed, the trained
models Google publishes, and `models fetch`, which installs those in one command."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.downloads.catalog import CatalogEntry
    from bridge.frontends.cli.common import Commands

FETCH_EXAMPLES = """examples:
  magenta-bridge models fetch attention_rnn
  magenta-bridge models fetch --for groove          # every model that serves a tool
  magenta-bridge models fetch --all --mirror http://mirror.example/magenta

A mirror serves each file at its official URL's path (/models/attention_rnn.mag,
/magentadata/models/music_vae/checkpoints/cat-mel_2bar_big.tar). Proxies come from
http_proxy, https_proxy and no_proxy. An interrupted download resumes on the next run.
"""


def add_commands(commands: Commands, config_option: argparse.ArgumentParser) -> None:
    """Add `models`, which shows what a `--model` may name and what can be fetched, and
    `models fetch`."""
    models = commands.add_parser(
        "models",
        help="list the configured models and Google's trained models to fetch",
        description="List the configured models (with those fetched), then Google's trained "
        "models that `magenta-bridge models fetch NAME` installs, with size and license.",
    )
    models.set_defaults(run=_models)
    actions = models.add_subparsers(title="actions", metavar="ACTION")
    fetch = actions.add_parser(
        "fetch",
        parents=[config_option],
        help="download and install Google's trained models, ready for --model NAME",
        description="Download, verify and install Google's trained models into the config's "
        "downloads.folder. A model appears whole or not at all, and is usable at once as "
        "--model NAME, with no editing of the config.",
        epilog=FETCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("names", nargs="*", metavar="NAME", help="models, as `models` lists them")
    choice = fetch.add_mutually_exclusive_group()
    choice.add_argument("--all", action="store_true", help="every model Magenta Bridge serves")
    choice.add_argument(
        "--for", dest="tool", metavar="TOOL", help="every model that serves TOOL (e.g. groove)"
    )
    fetch.add_argument(
        "--mirror",
        default=None,
        help="a server with the official layout, replacing each URL's scheme and host "
        "(default: config downloads.mirror)",
    )
    fetch.add_argument("--force", action="store_true", help="fetch again what is installed already")
    fetch.set_defaults(run=_fetch)


def _models(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.models.catalog import Catalog

    config = load_config(args.config)
    catalog = Catalog.of(config)
    for spec in [*catalog.models.values(), *catalog.missing.values()]:
        marker = "*" if spec.name == catalog.default_model else " "
        state = (
            "ok" if spec.installed else "optional, not installed" if spec.optional else "MISSING"
        )
        print(f"{marker} {spec.name:12} {spec.family:15} {spec.path}  [{state}]")
        if spec.description:
            print(f"    {spec.description}")
    for content, name in catalog.by_content.items():
        print(f"  {content} clips without a named model go to {name}")
    _list_catalog(config)
    return 0


def _list_catalog(config: Config) -> None:
    """Google's models: name, family, size, license, and what each serves or why not."""
    from bridge.downloads.catalog import load_catalog
    from bridge.downloads.install import is_installed
    from bridge.downloads.lock import LOCK_FILE, DownloadLock

    folder = config.downloads.folder
    pins = DownloadLock(folder / LOCK_FILE).pins if (folder / LOCK_FILE).is_file() else {}
    print(f"\nGoogle's trained models (magenta-bridge models fetch NAME; into {folder}):")
    catalog = load_catalog()
    width = max(len(name) for name in catalog)
    for entry in catalog.values():
        sizes = [
            file.size
            if file.size is not None
            else pins[file.url].size
            if file.url in pins
            else None
            for file in entry.files
        ]
        size = "?" if None in sizes else _human_size(sum(s or 0 for s in sizes))
        kind = entry.model.family + (" (magenta)" if entry.model.backend == "magenta" else "")
        if not entry.servable:
            state = f"not served yet: {entry.not_served}"
        elif is_installed(folder, entry.name):
            state = "installed"
        else:
            state = ", ".join(entry.tools)
        print(f"    {entry.name:{width}} {kind:28} {size:>8}  {entry.license:10}  {state}")
    print(
        "    (magenta): runs on Google's magenta (backend: magenta); size ?: known after the "
        "first download;\n    license: as the source page of each model says (`see source`: "
        "it states none)"
    )


def _fetch(args: argparse.Namespace) -> int:
    from bridge.config import load_config
    from bridge.downloads.errors import FetchError
    from bridge.downloads.install import install, is_installed

    config = load_config(args.config)
    folder = config.downloads.folder
    mirror = args.mirror or config.downloads.mirror
    failed = []
    for entry in _chosen(args):
        if args.all and not entry.servable:
            print(f"skipped {entry.name}: not served yet ({entry.not_served})")
            continue
        if entry.servable and is_installed(folder, entry.name) and not args.force:
            print(f"{entry.name} is installed already in {folder / entry.name} (--force: again)")
            continue
        try:
            installed = install(
                entry, folder, mirror=mirror, timeout_s=config.downloads.timeout_s, progress=True
            )
        except FetchError as error:
            print(f"magenta-bridge: error: {error}", file=sys.stderr)
            failed.append(entry.name)
            continue
        print(f"installed {entry.name} in {installed}; use it with --model {entry.name}")
    if failed:
        print(f"magenta-bridge: not installed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _chosen(args: argparse.Namespace) -> list[CatalogEntry]:
    """The entries named, every one (--all), or those serving a tool; unknown names and
    tools are errors before anything is downloaded."""
    from bridge.downloads.catalog import close_matches, load_catalog

    catalog = load_catalog()
    if bool(args.names) + args.all + (args.tool is not None) != 1:
        raise ValueError("models fetch takes model names, or --all, or --for TOOL")
    if args.all:
        return list(catalog.values())
    if args.tool is not None:
        chosen = [entry for entry in catalog.values() if args.tool in entry.tools]
        if not chosen:
            tools = sorted({tool for entry in catalog.values() for tool in entry.tools})
            raise ValueError(f"no model serves {args.tool!r}; tools: {', '.join(tools)}")
        return chosen
    for name in (name for name in args.names if name not in catalog):
        matches = close_matches(name, list(catalog))
        hint = f"; did you mean {' or '.join(matches)}?" if matches else ""
        raise ValueError(
            f"unknown model {name!r}{hint} (`magenta-bridge models` lists what can be fetched)"
        )
    return [catalog[name] for name in dict.fromkeys(args.names)]


def _human_size(size: float) -> str:
    """Bytes as a producer reads them: 1.7 GB, 3.2 MB."""
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB"):
        size /= 1000
        if size < 1000:
            return f"{size:.1f} {unit}"
    return f"{size / 1000:.1f} GB"
