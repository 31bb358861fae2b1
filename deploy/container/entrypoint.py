"""The container's entry point: `magenta-bridge --config CONFIG ARGS`, with the token.

The daemon reads its tokens from its config file only (osc.token, http.token), and a file
baked into an image must hold no secret. So the token comes from MAGENTA_BRIDGE_TOKEN, or
from the file MAGENTA_BRIDGE_TOKEN_FILE names (Docker and Kubernetes secrets are files): this
copies the container config (MAGENTA_BRIDGE_CONFIG, default config/container.yaml) with that
token, for OSC and HTTP alike, to a file only this user can read in $TMPDIR (mount a tmpfs
there), and runs the CLI on it. The copy stays while the daemon runs: a models reload reads
the config again.

With no token the config is used as it is, and `serve` refuses to listen on 0.0.0.0, saying
why.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import yaml

CONTAINER_CONFIG = Path(__file__).resolve().parents[2] / "config" / "container.yaml"
TOKEN_SECTIONS = ("osc", "http")  # the listeners that need a token beyond loopback


class EntrypointError(RuntimeError):
    """The container cannot start as configured; the message says what to change."""


def token_from(environ: Mapping[str, str]) -> str | None:
    """The token given by MAGENTA_BRIDGE_TOKEN or MAGENTA_BRIDGE_TOKEN_FILE, if any."""
    token = environ.get("MAGENTA_BRIDGE_TOKEN", "")
    token_file = environ.get("MAGENTA_BRIDGE_TOKEN_FILE", "")
    if token and token_file:
        raise EntrypointError("set MAGENTA_BRIDGE_TOKEN or MAGENTA_BRIDGE_TOKEN_FILE, not both")
    if token_file:
        try:
            token = Path(token_file).read_text().strip()  # secret files often end in a newline
        except OSError as error:
            raise EntrypointError(
                f"MAGENTA_BRIDGE_TOKEN_FILE {token_file}: {error.strerror}"
            ) from error
        if not token:
            raise EntrypointError(f"MAGENTA_BRIDGE_TOKEN_FILE {token_file} is empty")
    return token.strip() or None


def config_with_token(environ: Mapping[str, str]) -> Path:
    """The config the daemon should read: the container config, with the token if one is set.

    Paths in a container config must be absolute: the copy lives in another folder.
    """
    source = Path(environ.get("MAGENTA_BRIDGE_CONFIG") or CONTAINER_CONFIG)
    token = token_from(environ)
    if token is None:
        return source
    try:
        config = yaml.safe_load(source.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise EntrypointError(f"cannot read the container config {source}: {error}") from error
    for section in TOKEN_SECTIONS:
        config.setdefault(section, {})["token"] = token
    folder = Path(tempfile.mkdtemp(prefix="magenta-bridge-"))  # 0700, this user's only
    path = folder / "config.yaml"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(f"# {source} with osc.token from the environment (written at start)\n")
        yaml.safe_dump(config, file, sort_keys=False)
    return path


def main(argv: list[str]) -> None:
    try:
        config = config_with_token(os.environ)
    except EntrypointError as error:
        print(f"magenta-bridge container: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    command = ["magenta-bridge", "--config", str(config), *(argv or ["serve"])]
    os.execvp(command[0], command)  # the daemon becomes PID 1 and receives SIGTERM itself


if __name__ == "__main__":
    main(sys.argv[1:])
