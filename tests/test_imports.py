"""The architecture, checked from the code's own imports (ARCHITECTURE.md): layers import only downward,
no command module imports another, git's argv is built only in the git layer, and running one
command imports only that command's module."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from plumbum import cli as plumbum_cli

from conftest import mounted
from workspace_builders import cli

pytestmark = pytest.mark.quick  # every test here runs in `make check`

PACKAGE = Path(cli.__file__).resolve().parent
# Lowest first: a module may import from its own layer or any layer below it, never above.
LAYERS = ("base", "gitlayer", "model", "engine", "commands")
TOP = "top"  # cli, entry, __main__ and the card tools' `python -m` entry modules


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if p.parent.name in (*LAYERS, PACKAGE.name)}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else TOP


def imports_of(path: Path, module: str) -> set[str]:
    """Every workspace_builders module that `module` names in an import, at any depth of its code."""
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*module.split(".")[: -node.level], *filter(None, [base])])
            named.add(base)
            named |= {f"{base}.{alias.name}" for alias in node.names}  # `from package import module`
    known = all_modules()
    return {name for name in named if name in known and name != module}


def command_modules() -> set[str]:
    """The modules that define an Application mounted as a subcommand (the groups are cli's own)."""
    found = set()
    for app in mounted(cli.Builders).values():
        module = app.rsplit(".", 1)[0] if isinstance(app, str) else app.__module__
        if module != cli.__name__:
            found.add(module)
    return found


def test_every_module_sits_in_a_layer() -> None:
    top = {m for m in all_modules() if layer_of(m) == TOP}
    card = ("builder_init", "sibling_worktree_add", "verify", "prune", "safe_remove")
    tools = {f"workspace_builders.{t}" for t in card}
    assert top == {"workspace_builders", "workspace_builders.cli", "workspace_builders.entry",
                   "workspace_builders.__main__", *tools}  # fmt: skip
    assert all(layer_of(m) == "commands" for m in command_modules())


@pytest.mark.parametrize("module", sorted(all_modules()))
def test_imports_point_down(module: str) -> None:
    rank = {layer: i for i, layer in enumerate((*LAYERS, TOP))}
    upward = {
        name
        for name in imports_of(all_modules()[module], module)
        if rank[layer_of(name)] > rank[layer_of(module)] and name != "workspace_builders"
    }
    assert upward == set()


@pytest.mark.parametrize("module", sorted(command_modules()))
def test_no_command_module_imports_another(module: str) -> None:
    assert imports_of(all_modules()[module], module) & (command_modules() - {module}) == set()


def test_the_git_layer_alone_runs_git() -> None:
    """Outside the git layer, git is reached through named operations: no module passes git an argv."""
    raw = {"run", "probe", "attempt", "call", "started", "_begin"}
    found = []
    for module, path in all_modules().items():
        if layer_of(module) == "gitlayer":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "git"
                and node.func.attr in raw
            ):
                found.append(f"{module}:{node.lineno}")
    assert found == []


def test_plumbum_methods_refined_here() -> None:
    """commands/base.py refines these three methods of plumbum's Application: when plumbum renames
    them or changes their arguments, usage errors would silently stop reaching our boundary."""
    expected = {
        "_parse_args": ["self", "argv"],
        "_validate_args": ["self", "swfuncs", "tailargs"],
        "_handle_argument": ["val", "argtype", "name"],
    }
    for method, arguments in expected.items():
        assert list(inspect.signature(getattr(plumbum_cli.Application, method)).parameters) == arguments


def _loaded_after(code: str) -> set[str]:
    run = [sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"]
    done = subprocess.run(run, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_cli_imports_no_command() -> None:
    loaded = _loaded_after("import workspace_builders.cli")
    assert "plumbum.cli" in loaded
    assert loaded & command_modules() == set()


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _loaded_after("from workspace_builders import cli\ncli.main(['verify', '--help'])")
    assert loaded & command_modules() == {"workspace_builders.commands.verify"}
