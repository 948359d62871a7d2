"""Imports point down the layers and never form a cycle, counting imports inside functions.

    io, errors, fmt, book → nn, optim → data → config → train → sweep, search, experiments
    → plots (reads files only) → cli

Every ``import``/``from … import`` of every module under dlexp/ is read from its syntax
tree (module level and inside functions alike), resolved to the dlexp module it names,
and checked: a module may import its own layer or lower ones, and the graph of all
these imports has no cycle, not even with the modules folded into their packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "dlexp"

LAYERS = (
    ("dlexp", "dlexp.errors", "dlexp.io", "dlexp.fmt", "dlexp.bundled", "dlexp.surfaces",
     "dlexp.book"),
    ("dlexp.nn", "dlexp.optim"),
    ("dlexp.data",),
    ("dlexp.config", "dlexp.config_checks", "dlexp.config_yaml", "dlexp.config_space",
     "dlexp.config_schema", "dlexp.config_reference"),
    ("dlexp.train",),
    ("dlexp.sweep", "dlexp.search", "dlexp.experiments"),
    ("dlexp.plots",),
    ("dlexp.cli", "dlexp.__main__"),
)


def modules() -> dict[str, Path]:
    """Dotted name → file, for every module of the package."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def layer(name: str) -> int:
    """The layer of a module: the longest prefix listed in LAYERS."""
    best, found = -1, None
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and len(p) > best:
                best, found = len(p), i
    assert found is not None, f"{name} is in no layer; add it to LAYERS"
    return found


def imports(name: str, path: Path, known: dict[str, Path], prefix: str = "dlexp"
            ) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import statement in the file, of the
    modules named ``prefix`` or under it (dlexp's, resolved to the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub if sub in known else base, node.lineno))
    return [(m, line) for m, line in out if m == prefix or m.startswith(prefix + ".")]


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        edges[name] |= {m for m, _ in imports(name, path, known) if m in known and m != name}
    return edges


def test_every_import_points_to_the_same_or_a_lower_layer():
    known = modules()
    upward = [f"{path.relative_to(ROOT.parent)}:{line}: {name} (layer {layer(name)}) "
              f"imports {target} (layer {layer(target)})"
              for name, path in known.items()
              for target, line in imports(name, path, known)
              if layer(target) > layer(name)]
    assert not upward, "imports pointing up:\n" + "\n".join(upward)


def test_no_import_cycle():
    edges = graph()
    cycles = [c for c in strongly_connected(edges) if len(c) > 1]
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(sorted(c)) for c in cycles)


def test_no_cycle_between_packages():
    """Folded to packages (dlexp.search, dlexp.experiments, …; a top-level module stands
    for itself), the imports still form no cycle: two packages of one layer may not use
    each other both ways."""
    folded: dict[str, set[str]] = {}
    for name, targets in graph().items():
        folded.setdefault(package_of(name), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(name))
    cycles = [c for c in strongly_connected(folded) if len(c) > 1]
    assert not cycles, "package cycles:\n" + "\n".join(" ↔ ".join(sorted(c)) for c in cycles)


def package_of(name: str) -> str:
    """``dlexp.search.runner`` → ``dlexp.search``; ``dlexp.fmt`` → itself."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and (ROOT / parts[1]).is_dir() else name


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                out.append(component)
    return out


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The two checks fail when they should: a made-up cycle, a made-up upward import."""
    cycles = [c for c in strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
              if len(c) > 1]
    assert [sorted(c) for c in cycles] == [["a", "b", "c"]]
    assert layer("dlexp.train.loop") > layer("dlexp.config") > layer("dlexp.io")
    assert layer("dlexp.cli.train") > layer("dlexp.plots.runs") > layer("dlexp.search.study")
    assert layer("dlexp.config_space") == layer("dlexp.config")


def test_inner_imports_are_counted(tmp_path):
    """An import inside a function is an edge like one at the top of the file."""
    f = tmp_path / "m.py"
    f.write_text("def g():\n    from dlexp.cli import app\n    import dlexp.plots.runs\n")
    found = [m for m, _ in imports("dlexp.io", f, {"dlexp.cli": f, "dlexp.plots.runs": f})]
    assert found == ["dlexp.cli", "dlexp.plots.runs"]


def test_plots_read_files_and_import_no_runner():
    """plots draws from files: it imports nothing of sweep, search or experiments."""
    known = modules()
    runners = {i for i, prefixes in enumerate(LAYERS) if "dlexp.experiments" in prefixes}
    bad = [f"{name} imports {target}" for name, path in known.items()
           if name.startswith("dlexp.plots") for target, _ in imports(name, path, known)
           if layer(target) in runners]
    assert not bad, "\n".join(bad)


def test_only_plots_import_matplotlib():
    """Training, sweeps and searches never import matplotlib: figures are drawn from the
    files, by dlexp.plots alone."""
    bad = [f"{name} imports {target}" for name, path in modules().items()
           if not name.startswith("dlexp.plots")
           for target, _ in imports(name, path, {}, "matplotlib")]
    assert not bad, "\n".join(bad)
