"""The shape of the house, checked from the code: no import cycle between modules (lazy imports
inside functions count), and the layers only look down — ``tools`` (the program, demo, bench)
over ``adapters`` (how systems connect) over ``hub`` (the service)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("hub", "adapters", "tools")
"""Each may import only those before it in this order (and itself)."""


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in LAYERS:
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(name, path, known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def test_the_checker_sees_a_cycle_and_a_layer_breach() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert layer("adapters.sdk") > layer("hub.registry.pki")


def test_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(c) for c in found)


def test_layers_only_look_down() -> None:
    breaches = sorted(
        f"{name} → {target}"
        for name, targets in graph().items()
        for target in targets
        if layer(target) > layer(name)
    )
    assert not breaches, "imports from a higher layer: " + ", ".join(breaches)


MOST_LINES = 400


def test_every_module_reads_in_one_sitting() -> None:
    """No module over 400 lines: a longer one is two things that want their own names."""
    long = sorted(
        f"{name} ({lines})"
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    )
    assert not long, f"modules over {MOST_LINES} lines: " + ", ".join(long)


ADAPTERS_MAY_USE = {"hub", "hub.contract", "hub.config", "hub.home", "hub.logs", "hub.errors"}
"""The hub as the systems' side sees it: its contract, and what the agency commands share."""


def test_adapters_use_the_hub_only_through_its_contract() -> None:
    reaching = sorted(
        f"{name} → {target}"
        for name, targets in graph().items()
        if name.startswith("adapters")
        for target in targets
        if target.startswith("hub") and target not in ADAPTERS_MAY_USE
    )
    assert not reaching, "adapters reaching into the hub's internals: " + ", ".join(reaching)
