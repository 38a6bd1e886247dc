"""The layout's rules (ARCHITECTURE.md), checked on the source: which package may import which, no
import circles, and no module reaching into another's underscore names. Reads the code with `ast`,
so lazy (function-level) imports count as much as top-level ones."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: package -> its layer. A module may import its own layer and the ones below, never above.
LAYERS = {
    "forecast_math": 0,
    "config": 1,
    "accounts": 2,
    "questions": 2,
    "forecasts": 3,
    "scoring": 4,
    "strategy": 4,
    "notifications": 4,
    "api": 5,
    "web": 5,
    "demo": 5,
}
#: the wiring modules of config, which name the faces they serve
WIRING = {"config.urls", "config.wsgi", "config.asgi", "config.celery"}
PACKAGES = tuple(LAYERS)


def _modules(packages=PACKAGES, extra=()) -> dict[str, Path]:
    out = {}
    for pkg in packages:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    for name in extra:
        for path in (ROOT / name).rglob("*.py"):
            out[".".join(path.relative_to(ROOT).with_suffix("").parts)] = path
    return out


def _imports(module: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [a.name for a in node.names], node.lineno))
    return found


def _resolve(target: str, names: list[str], modules: dict[str, Path]) -> list[str]:
    """Project modules an import statement loads (`from pkg import mod` loads pkg.mod)."""
    out = []
    if target in modules:
        out.append(target)
    for n in names:
        if f"{target}.{n}" in modules:
            out.append(f"{target}.{n}")
    return out


def _layer(module: str) -> int | None:
    return LAYERS.get(module.split(".")[0])


def test_no_module_imports_a_higher_layer():
    modules = _modules()
    bad = []
    for mod, path in modules.items():
        if mod in WIRING or mod.startswith("config.settings"):
            continue
        for target, _names, line in _imports(mod, path):
            top = target.split(".")[0]
            if top in LAYERS and LAYERS[top] > _layer(mod):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert bad == []


def test_the_pure_packages_import_no_django_and_no_project_code():
    bad = []
    pure = {m: p for m, p in _modules().items() if m.startswith(("forecast_math", "questions.extraction"))}
    pure |= {"demo.simulation": ROOT / "demo" / "simulation.py"}
    for mod, path in pure.items():
        for target, _names, line in _imports(mod, path):
            top = target.split(".")[0]
            allowed_project = top == "forecast_math" or target.startswith("questions.extraction")
            if top in ("django", "rest_framework", "celery") or (top in LAYERS and not allowed_project):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert bad == []


def test_the_import_graph_has_no_circle():
    modules = _modules()
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        for target, names, _line in _imports(mod, path):
            for dep in _resolve(target, names, modules):
                if dep != mod and not mod.startswith(dep + "."):  # a package's own __init__ is not a circle
                    graph[mod].add(dep)
    # Tarjan's strongly connected components: any component of two or more modules is a circle.
    index, low, stack, on_stack, circles = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert circles == []


def test_nothing_imports_another_modules_underscore_names():
    modules = _modules(extra=("tests", "benchmarks"))
    bad = []
    for mod, path in modules.items():
        for target, names, line in _imports(mod, path):
            if target == mod or not target:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private or any(part.startswith("_") and not part.startswith("__") for part in target.split(".")):
                bad.append(f"{path.relative_to(ROOT)}:{line} from {target} import {', '.join(private) or '*'}")
    assert bad == []
