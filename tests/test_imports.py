"""The import graph: no command module imports another, `cli` imports none, and a command imports only its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import mounted
from workspace_builders import cli

PACKAGE = Path(cli.__file__).resolve().parent


def command_modules() -> set[str]:
    """The modules that define an Application mounted as a subcommand (the groups are cli's own)."""
    found = set()
    for app in mounted(cli.Builders).values():
        module = app.rsplit(".", 1)[0] if isinstance(app, str) else app.__module__
        if module != cli.__name__:
            found.add(module)
    return found


def imports_of(module: str) -> set[str]:
    """Every workspace_builders module `module` names in an import, at any depth of its code."""
    tree = ast.parse((PACKAGE / f"{module.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8"))
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*module.split(".")[: -node.level], *filter(None, [base])])
            named.add(base)
            named |= {f"{base}.{alias.name}" for alias in node.names}  # `from package import module`
    return {name for name in named if name.startswith("workspace_builders.")}


def test_every_command_module_is_found() -> None:
    commands = command_modules()
    assert "workspace_builders.new" in commands and "workspace_builders.hooks_commands" in commands
    assert len(commands) == 21  # session_run holds run, exec and start; hook_worktree both worktree hooks
    assert all((PACKAGE / f"{name.rsplit('.', 1)[1]}.py").is_file() for name in commands)


@pytest.mark.parametrize("module", sorted(command_modules()))
def test_no_command_module_imports_another(module: str) -> None:
    assert imports_of(module) & (command_modules() - {module}) == set()


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
    assert loaded & command_modules() == {"workspace_builders.verify"}
