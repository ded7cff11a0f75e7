"""`builders hooks install|uninstall`: our git hooks in the root's common dir, shared by every builder.

A foreign hook already in place is kept as `<hook>.legacy` and still runs first; uninstall removes
only our hooks and renames the legacy ones back, so they are restored byte for byte.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from workspace_builders import atomic_file, git, output
from workspace_builders.errors import BuildersError
from workspace_builders.workspace import Workspace, discover

HOOKS = ("post-checkout", "pre-commit")
LEGACY = ".legacy"
OURS = b"# workspace-builders "  # how our hooks begin, after the #! line
PYTHON_SLOT = "@BUILDERS_PYTHON@"

# What install does to one hook.
CURRENT = "already installed"
UPDATE = "update"
INSTALL = "install"
CHAIN = "keep the existing hook as .legacy, install"


def hook_text(name: str) -> bytes:
    """The hook, pointing at the interpreter that has this package (PATH is the fallback)."""
    template = (resources.files("workspace_builders") / "hooks" / name).read_text(encoding="utf-8")
    return template.replace(PYTHON_SLOT, shlex.quote(sys.executable)).encode()


def is_ours(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as hook:
        return OURS in hook.read(200)


def hooks_dirs(ws: Workspace) -> tuple[Path, Path | None]:
    """The common dir's hooks folder, and the folder core.hooksPath names, if set (git runs that one)."""
    configured = git.config_value(ws.root, "core.hooksPath")
    hooks_path = None
    if configured:
        # git reads a relative core.hooksPath from the top of the worktree the hook runs in.
        hooks_path = (ws.root / Path(configured).expanduser()).resolve()
    return ws.common_dir / "hooks", hooks_path


@dataclass(frozen=True)
class Step:
    hook: Path
    action: str


def plan(where: Path) -> list[Step]:
    steps = []
    for name in HOOKS:
        hook = where / name
        if is_ours(hook):
            steps.append(Step(hook, CURRENT if hook.read_bytes() == hook_text(name) else UPDATE))
        elif hook.exists() or hook.is_symlink():
            legacy = hook.with_name(name + LEGACY)
            if legacy.exists() or legacy.is_symlink():
                raise BuildersError(
                    f"{hook} is not ours, and {legacy.name} is taken: there is nowhere to keep it",
                    f"merge {hook} and {legacy} into one by hand, then: builders hooks install",
                )
            steps.append(Step(hook, CHAIN))
        else:
            steps.append(Step(hook, INSTALL))
    return steps


def install(start: Path, force: bool, dry_run: bool) -> int:
    ws = discover(start).workspace
    where, hooks_path = hooks_dirs(ws)
    if hooks_path is not None:
        if not force:
            raise BuildersError(
                f"core.hooksPath is set ({hooks_path}): git runs the hooks there, not in {where}",
                "install into that folder: builders hooks install --force "
                f"(or drop the setting: git -C {ws.root} config --unset core.hooksPath)",
            )
        output.say(f"core.hooksPath is set: installing into {hooks_path}, the folder git runs hooks from")
        where = hooks_path
    steps = plan(where)
    for step in steps:
        name = step.hook.name
        if step.action == CURRENT:
            output.say(f"{name}: already installed in {where}")
            continue
        if dry_run:
            output.say(f"{name}: would {step.action} in {where}")
            continue
        if step.action == CHAIN:
            step.hook.rename(step.hook.with_name(name + LEGACY))
            output.say(f"{name}: kept the existing hook as {name}{LEGACY}; it still runs, first")
        atomic_file.write(step.hook, hook_text(name), mode=0o755)
        output.say(f"{name}: {'updated' if step.action == UPDATE else 'installed'} in {where}")
    return 0


def uninstall(start: Path, dry_run: bool) -> int:
    ws = discover(start).workspace
    found = False
    for where in dict.fromkeys(d for d in hooks_dirs(ws) if d is not None):
        for name in HOOKS:
            hook = where / name
            legacy = hook.with_name(name + LEGACY)
            if not is_ours(hook):
                continue  # a foreign hook, or none: not ours to touch
            found = True
            restore = legacy.exists() or legacy.is_symlink()
            if dry_run:
                output.say(f"{name}: would remove {hook}" + (f" and put back {legacy.name}" if restore else ""))
                continue
            if restore:
                legacy.replace(hook)
                output.say(f"{name}: removed ours, put back the hook that was there ({hook})")
            else:
                hook.unlink()
                output.say(f"{name}: removed {hook}")
    if not found:
        output.say("no workspace-builders hooks are installed")
    return 0
