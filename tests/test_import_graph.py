"""No import cycles inside ``dantoc/``.

The graph has one node per module and an edge for every ``import`` statement that names
another ``dantoc`` module, wherever it stands: at the top, inside a function (a "lazy"
import is still a dependency, and the usual way a cycle hides) or under ``TYPE_CHECKING``.
``from package import name`` points at the submodule ``package.name`` when there is one,
else at the package. Two things are not edges: the parent packages Python initialises before
a submodule (every submodule would otherwise "import" its package, which imports it back),
and ``importlib.import_module`` with a string (the translatable-content registry names its
models that way on purpose). A cycle is a strongly connected component with more than one
module, or a module that imports itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

from dantoc.paths import ROOT


def modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package) for every ``.py`` file under ``package``."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _targets(node: ast.AST, here: list[str], known) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        result = set()
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                result.add(name)
        return result
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        base = here[:len(here) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    result = set()
    for alias in node.names:
        if f"{module}.{alias.name}" in known:
            result.add(f"{module}.{alias.name}")
        elif module in known:
            result.add(module)
    return result


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports (see the module docstring)."""
    known = modules(root, package)
    graph = {}
    for name, (path, is_package) in known.items():
        here = name.split(".") if is_package else name.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set().union(*(_targets(node, here, known) for node in ast.walk(tree)))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components that are cycles (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = counter
                    counter += 1
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def test_dantoc_has_no_import_cycle():
    graph = import_graph(ROOT, "dantoc")
    assert len(graph) > 100  # the walk found the package
    assert "dantoc.clock" in graph["dantoc.submissions.services"]
    assert cycles(graph) == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "def f():\n    from .sub.c import thing\n",
        "pkg/sub/__init__.py": "from . import c\n",  # a package importing its child: fine
        "pkg/sub/c.py": "import pkg.a\nthing = 1\n",
        "pkg/d.py": "from .sub import c\nfrom pkg import a\n",
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.b"] == {"pkg.sub.c"} and graph["pkg.d"] == {"pkg.sub.c", "pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_a_module_importing_itself_is_a_cycle(tmp_path):
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from pkg import a\n"})
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.a"]]


#: What ``dantoc.web`` may import: itself and the plumbing that knows no domain.
WEB_MAY_IMPORT = ("dantoc.web", "dantoc.extensions", "dantoc.paths", "dantoc.clock",
                  "dantoc.refusal")


def test_web_imports_no_domain_package():
    graph = import_graph(ROOT, "dantoc")
    found = {(module, target) for module, targets in graph.items()
             if module.startswith("dantoc.web") for target in targets
             if not target.startswith(WEB_MAY_IMPORT)}
    assert found == set()
