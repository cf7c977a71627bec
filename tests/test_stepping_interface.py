"""Groups of runs drive the trainer through its public stepping interface only: seeds.py reaches into no private
attribute of a trainer (a name starting with an underscore on anything but the group itself)."""

from __future__ import annotations

import ast
from pathlib import Path

import ganzoo.training.seeds as seeds


def private_accesses(source: str) -> list[str]:
    """``x._name`` accesses (and ``getattr(x, "_name")``, ``setattr``, ``hasattr``) in ``source`` where ``x`` is not
    ``self`` (the group's own state is its business)."""

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    def is_self(owner: ast.expr) -> bool:
        return isinstance(owner, ast.Name) and owner.id == "self"

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and private(node.attr) and not is_self(node.value):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
            and not is_self(node.args[0])
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return sorted(found)


def test_seeds_uses_only_the_trainers_public_names():
    assert private_accesses(Path(seeds.__file__).read_text()) == []


def test_the_check_sees_a_private_access_of_a_trainer():
    source = "def run(trainer):\n    trainer._finish(0)\n    self._signal = 1\n    setattr(trainer, '_stop', 2)\n"
    assert private_accesses(source) == ["line 2: trainer._finish", "line 4: setattr(trainer, '_stop', 2)"]
