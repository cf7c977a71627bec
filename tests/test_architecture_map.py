"""The import map: no cycles among ganzoo's modules (imports inside functions counted), imports only down the
layers docs/architecture.md draws, no private name imported across modules, and the page naming every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ganzoo"
MAP = ROOT / "docs" / "architecture.md"


def module_files() -> dict[str, Path]:
    """Every ganzoo module by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = module_files()


def imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import statement in the file, in functions too; ``if TYPE_CHECKING:`` blocks do not
    run, so they are left out."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    todo: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def ganzoo_module(dotted: str) -> str | None:
    """The ganzoo module an import of ``dotted`` runs (``ganzoo.zoo.entry`` -> ``ganzoo.zoo``), or None."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for base, names in imports(name, path):
            for target in [base, *(f"{base}.{n}" for n in names)]:
                module = ganzoo_module(target)
                if module is not None and module != name:
                    graph[name].add(module)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def layers() -> dict[str, int]:
    """Module -> layer number, from the page's ``## N. ...`` headings and the `ganzoo...` bullets under them."""
    found: dict[str, int] = {}
    layer = 0
    for line in MAP.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## (\d+)\. ", line)
        if heading:
            layer = int(heading.group(1))
        bullet = re.match(r"- `(ganzoo[\w.]*)` — \S", line)
        if bullet and layer:
            assert bullet.group(1) not in found, f"{bullet.group(1)} is listed twice in docs/architecture.md"
            found[bullet.group(1)] = layer
    return found


def test_cycle_finder_names_the_modules_on_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_round_about():
    found = cycles(edges())
    assert not found, "import cycles (imports inside functions counted): " + "; ".join(" <-> ".join(g) for g in found)


def test_imports_go_down_the_layers_of_the_map():
    layer = layers()
    upward = [
        f"{name} (layer {layer[name]}) imports {target} (layer {layer[target]})"
        for name, targets in sorted(edges().items())
        for target in sorted(targets)
        if name in layer and target in layer and layer[target] > layer[name]
    ]
    assert not upward, "imports that go up the layers of docs/architecture.md:\n" + "\n".join(upward)


def test_no_private_name_crosses_modules():
    found = [
        f"{name} imports {n} from {base}"
        for name, path in MODULES.items()
        for base, names in imports(name, path)
        if ganzoo_module(base) is not None
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not found, "private names imported from another module (make them public or move the code):\n" + "\n".join(
        found
    )


def modules_bound(name: str, tree: ast.AST) -> dict[str, str]:
    """The local names under which module ``name`` holds another ganzoo module (``from ganzoo import plugins``,
    ``import ganzoo.zoo as zoo``)."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.name != name and alias.asname:
                    bound[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in MODULES and full != name:
                    bound[alias.asname or alias.name] = full
    return bound


def test_no_private_name_is_reached_through_another_module():
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound = modules_bound(name, tree)
        found += [
            f"{name}:{node.lineno} reads {bound[node.value.id]}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ]
    assert not found, "private names read through another module (make them public or move the code):\n" + "\n".join(
        found
    )


def test_the_map_names_every_module_and_only_those():
    listed = set(layers())
    assert not set(MODULES) - listed, f"modules missing from docs/architecture.md: {sorted(set(MODULES) - listed)}"
    named = set(re.findall(r"`(ganzoo(?:\.\w+)*)`", MAP.read_text(encoding="utf-8")))
    assert not named - set(MODULES), (
        f"docs/architecture.md names modules that do not exist: {sorted(named - set(MODULES))}"
    )


def test_every_module_says_its_job_first():
    silent = [
        name
        for name, path in MODULES.items()
        if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()
    ]
    assert not silent, f"modules without a docstring saying their job: {silent}"
