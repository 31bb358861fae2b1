"""The package's import graph, read with ast: no circle, and imports point down the layers.

frontends -> engine -> tools -> models -> music. Config, store and render sit beside that
stack: they may use music, and the layers above models may use them (models and config
never import each other: a model is built from settings, not from the config file).
Training and evaluation build on tools and models, and the CLI frontend runs them, as it
runs downloads (Google's models fetched; the config reads what they install without
importing them). The daemon (frontends/daemon.py) assembles everything: OSC, MIDI and HTTP
(frontends/http) around one engine, which reports to its metrics (frontends/metrics.py)
through an observer and so imports no web or metrics library. Any module may read the
version.
"""

from __future__ import annotations

import ast
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"

BESIDE = {"config", "store", "render"}
# What each top-level part of the package may import, besides itself and `bridge`.
MAY_IMPORT = {
    "music": set(),
    "models": {"music"},
    "config": {"music"},
    "store": {"music"},
    "render": {"music"},
    "tools": {"models", "music"} | BESIDE,
    "engine": {"tools", "models", "music"} | BESIDE,
    "training": {"tools", "models", "music"} | BESIDE,
    "evaluation": {"training", "tools", "models", "music"} | BESIDE,
    "downloads": {"models", "music"} | BESIDE,
    "frontends": {"engine", "training", "evaluation", "downloads", "tools", "models", "music"}
    | BESIDE,
    "": {"music"},  # bridge/__init__.py
}


# Libraries of the HTTP frontend and the metrics: frontends only, never the layers below.
FRONTEND_LIBRARIES = {"fastapi", "starlette", "uvicorn", "pydantic", "prometheus_client", "psutil"}


def module_name(path: Path) -> str:
    parts = path.relative_to(BRIDGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module's imports of other bridge modules (at any depth of its code)."""
    modules = {module_name(path): path for path in BRIDGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                candidates = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != name}
        graph[name] = found
    return graph


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_no_import_circle():
    graph = imports()
    state: dict[str, str] = {}
    circles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                circles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_imports_point_down_the_layers():
    upward = {
        (module, imported)
        for module, found in imports().items()
        for imported in found
        if imported != "bridge"
        and part(imported) != part(module)
        and part(imported) not in MAY_IMPORT[part(module)]
    }
    assert upward == set(), "imports running up the layers"


def test_web_and_metrics_libraries_stay_in_the_frontends():
    below = {
        (str(path.relative_to(BRIDGE.parent)), name)
        for path in BRIDGE.rglob("*.py")
        if part(module_name(path)) != "frontends"
        for name in _third_party(path)
        if name in FRONTEND_LIBRARIES
    }
    assert below == set(), "a layer below the frontends imports a web or metrics library"


def _third_party(path: Path) -> set[str]:
    """The top-level names of the packages a module imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
    return names


def test_no_function_is_longer_than_80_lines():
    """Long functions hide their steps; 80 lines is the most a reader should have to hold."""
    long = [
        f"{path.relative_to(BRIDGE.parent)}:{node.lineno} {node.name}"
        for path in BRIDGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 80
    ]
    assert long == []
