"""The ``user_batch`` package is a tree: shared job-folder helpers at the bottom, the entry point
on top, and no module imports one above it (an import cycle breaks whichever module Python
happens to load first, e.g. the catalog driver started on its own)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import REPO

PACKAGE = REPO / "user_batch"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def internal_imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source (function-level
    imports too: they run later, but a cycle through them is still a cycle)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .x import y
                base = "user_batch" + (f".{base}" if base else "")
            # "from user_batch import jobdir" names a module; "from user_batch.jobdir import Log"
            # names the module in `base`
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "user_batch" and len(parts) > 1 and parts[1] in MODULES:
                found.add(parts[1])
    found.discard(module)  # `if __name__ == "__main__": from user_batch.x import main`
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt, path + [nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_the_internal_import_graph_has_no_cycle():
    graph = {m: internal_imports(m) for m in MODULES}
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_the_cycle_check_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_job_folder_names_and_helpers_are_the_bottom_of_the_tree():
    assert internal_imports("jobfiles") == set()
    assert internal_imports("jobdir") == {"jobfiles"}
    assert "runner" not in set().union(*(internal_imports(m) for m in MODULES))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_on_its_own(module):
    """In a fresh interpreter, so that no other module was loaded first and hid an order bug."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import user_batch.{module}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
