"""The layering of docs/architecture (DEVELOPERS.md): each package imports only packages below it, and no two
files import each other, directly or around a circle.  Every ``import`` counts, the lazy ones inside
functions too, since a lazy import that runs back up is still a dependency that runs back up.

Layers, bottom to top: ``schema/config/errors/meta`` → ``warehouse, reference, i18n`` → ``ingest, indicators,
groups`` → ``roadmap, demo`` → ``reports, web`` → ``cli``.  Packages of one layer do not import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tradepulse"
LAYERS = [("schema", "config", "errors", "meta"), ("warehouse", "reference", "i18n"),
          ("ingest", "indicators", "groups"), ("roadmap", "demo"), ("reports", "web"), ("cli",)]
LAYER = {pkg: i for i, names in enumerate(LAYERS) for pkg in names}


def _modules() -> dict[str, Path]:
    out = {}
    for f in SRC.rglob("*.py"):
        parts = list(f.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module → the project modules it imports (``from pkg import name`` counts as ``pkg.name`` when that is a
    module, else as ``pkg``)."""
    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        found: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(known(a.name) for a in node.names if a.name.startswith("tradepulse"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    name = ".".join(base + ([node.module] if node.module else []))
                else:
                    name = node.module or ""
                if name.startswith("tradepulse"):
                    found.update(known(f"{name}.{a.name}") if f"{name}.{a.name}" in mods else known(name)
                                 for a in node.names)
        edges[mod] = {m for m in found if m and m != mod}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def _package(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_package_has_a_layer():
    packages = {_package(m) for m in _modules()} - {None}
    assert packages <= set(LAYER), f"packages without a layer: {sorted(packages - set(LAYER))}"


def test_no_import_runs_up_or_sideways():
    edges = _imports(_modules())
    bad = sorted(f"{m} -> {o}" for m, out in edges.items() for o in out
                 if _package(m) and _package(o) and _package(m) != _package(o)
                 and LAYER[_package(o)] >= LAYER[_package(m)])
    assert bad == []


def test_no_circles_between_files():
    assert _cycles(_imports(_modules())) == []


def test_the_checks_see_a_circle_and_an_upward_import():
    """The detector itself: a two-file circle and a three-file circle are found, a chain is not."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}}) == [["x", "y", "z"]]
    assert _cycles({"x": {"y"}, "y": {"z"}, "z": set()}) == []
    edges = _imports(_modules())
    assert "tradepulse.warehouse" in edges["tradepulse.indicators.selection"]   # a real downward import is seen
