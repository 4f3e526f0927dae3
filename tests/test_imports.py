"""Layering: the imports of ``nas/`` form a one-way graph between packages, no package imports
another's private module, and the modules that say they are torch-free import no torch.

Every import is read with ``ast`` (module-level, function-level and ``TYPE_CHECKING`` ones), so
a lazy import cannot hide a dependency. A package is ``nas.<first name>`` (``nas.cost``), or a
top-level module (``nas.errors``, ``nas.budget``); ``nas`` itself (the lazy facade) is left out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "nas"

# The data flow of the README as the packages each package may import. The space and the cost
# model are siblings: budget-aware sampling, which needs both, lives on the search side.
_PURE = {"nas._allocator", "nas._timing_env", "nas.errors", "nas.budget", "nas.metrics",
         "nas.record"}
MAY_IMPORT: dict[str, set[str]] = {
    "nas.errors": set(),
    "nas._resources": set(),
    "nas._allocator": set(),  # glibc's allocator kept (mallopt): a leaf, like nas.errors
    "nas._timing_env": set(),  # the timing processes' environment, set before torch loads
    "nas.budget": {"nas.errors", "nas.metrics"},
    "nas.metrics": {"nas.errors"},
    "nas.record": {"nas.errors", "nas.budget", "nas.metrics"},
    "nas.arch": _PURE | {"nas._resources"},
    "nas.space": _PURE | {"nas._resources", "nas.arch"},
    "nas.data": _PURE,
    "nas.models": _PURE | {"nas.arch"},
    "nas.cost": _PURE | {"nas.arch", "nas.models"},
    "nas.proxy": _PURE | {"nas.arch", "nas.data", "nas.models"},
    "nas.search": _PURE | {"nas._resources", "nas.arch", "nas.space", "nas.data", "nas.models",
                           "nas.cost", "nas.proxy"},
    "nas.report": _PURE | {"nas.arch"},
    "nas.export": _PURE | {"nas", "nas.arch", "nas.data", "nas.models", "nas.cost", "nas.proxy",
                           "nas.report"},
    # retraining reads a finished run (the report's reader) and trains with the full schedule
    "nas.retrain": _PURE | {"nas.arch", "nas.data", "nas.models", "nas.proxy", "nas.report"},
}
MAY_IMPORT["nas.cli"] = set(MAY_IMPORT) | {"nas"}
# Upward imports tolerated, by file (none: budget-aware sampling moved to nas.search).
KNOWN_UPWARD: set[tuple[str, str]] = set()

TORCH_FREE = ("nas", "nas._timing_env", "nas.errors", "nas.arch", "nas.space", "nas.budget",
              "nas.metrics", "nas.record")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in ``path``; ``from a import b`` also yields
    ``a.b`` (b may be a submodule)."""
    tree = ast.parse(path.read_text(), str(path))
    mod = _module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return [(line, name) for line, name in out if name == "nas" or name.startswith("nas.")]


def _package(module: str) -> str | None:
    parts = module.split(".")
    return None if len(parts) < 2 else ".".join(parts[:2])


def _all_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _real(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` refers to (``nas.cost.Budget`` -> ``nas.cost``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def package_edges() -> dict[tuple[str, str], list[str]]:
    modules = _all_modules()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mod, path in modules.items():
        src = _package(mod)
        if src is None:
            continue
        for line, name in _imports(path):
            target = _real(name, modules)
            dst = _package(target) if target else None
            if dst and dst != src:
                edges[(src, dst)].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def private_imports(paths: list[Path], owner=lambda p: None) -> list[str]:
    """Imports of ``nas.x._y`` from a file outside package ``nas.x``."""
    modules = _all_modules()
    bad = []
    for path in paths:
        mod = _module_name(path) if path.is_relative_to(PKG) else None
        src = _package(mod) if mod else owner(path)
        for line, name in _imports(path):
            target = _real(name, modules) or ""
            parts = target.split(".")
            private = any(p.startswith("_") and p != "__init__" for p in parts[2:])
            if private and _package(target) != src:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return sorted(set(bad))


def _cycles(edges) -> list[list[str]]:
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    found, seen = [], set()

    def walk(node, stack):
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cyc = stack[stack.index(nxt):] + [nxt]
                key = frozenset(zip(cyc, cyc[1:]))
                if key not in seen:
                    seen.add(key)
                    found.append(cyc)
            elif len(stack) < 12:
                walk(nxt, stack + [nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def _allowed(edges) -> dict[tuple[str, str], list[str]]:
    """``edges`` less the import sites listed in KNOWN_UPWARD."""
    out = {}
    for (a, b), sites in edges.items():
        left = [s for s in sites if (s.partition(":")[0], b) not in KNOWN_UPWARD]
        if left:
            out[(a, b)] = left
    return out


def test_package_imports_form_no_cycle():
    edges = _allowed(package_edges())
    cycles = _cycles(edges)
    detail = [" -> ".join(c) + "  (" + "; ".join(
        f"{a}->{b} at {edges[(a, b)][0]}" for a, b in zip(c, c[1:])) + ")" for c in cycles]
    assert not cycles, "import cycles between packages:\n" + "\n".join(detail)


def test_imports_go_down_the_data_flow():
    edges = _allowed(package_edges())
    unknown = sorted({a for a, _ in edges if a not in MAY_IMPORT})
    assert not unknown, f"packages missing from MAY_IMPORT: {unknown}"
    up = [f"{a} imports {b} at {', '.join(sites)}" for (a, b), sites in sorted(edges.items())
          if b not in MAY_IMPORT[a]]
    assert not up, "imports against the data flow (MAY_IMPORT):\n" + "\n".join(up)


def test_known_upward_imports_are_still_there():
    """An exception that no longer exists must leave the list (so it cannot be reused)."""
    sites = {(s.partition(":")[0], b) for (_, b), v in package_edges().items() for s in v}
    stale = sorted(KNOWN_UPWARD - sites)
    assert not stale, f"remove from KNOWN_UPWARD, no longer imported: {stale}"


def test_no_private_name_imported_across_packages():
    bad = private_imports(sorted(PKG.rglob("*.py")))
    assert not bad, "private modules imported from another package:\n" + "\n".join(bad)


def _test_owner(path: Path) -> str | None:
    """tests/<pkg>/... belong to ``nas.<pkg>``; benchmarks and other tests to no package."""
    rel = path.relative_to(ROOT).parts
    return f"nas.{rel[1]}" if rel[0] == "tests" and len(rel) > 2 else None


def test_tests_and_benchmarks_use_public_names_of_other_packages():
    paths = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    bad = private_imports(paths, _test_owner)
    assert not bad, "private modules imported from outside their package:\n" + "\n".join(bad)


def test_the_checker_sees_a_cycle_and_a_private_import(tmp_path):
    """The checks above can fail: a two-package cycle and a private import are found."""
    assert _cycles({("nas.a", "nas.b"): [], ("nas.b", "nas.a"): []})
    assert not _cycles({("nas.a", "nas.b"): []})
    f = PKG / "report" / "_compute.py"
    assert _package(_module_name(f)) == "nas.report"
    assert _real("nas.cost.Budget", _all_modules()) == "nas.cost"


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_modules_import_no_torch(module):
    code = (f"import sys, {module}; heavy = [m for m in ('torch', 'optuna', 'pandas') "
            "if m in sys.modules]; assert 'torch' not in heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, f"{module} imports torch:\n{proc.stderr[-2000:]}"
