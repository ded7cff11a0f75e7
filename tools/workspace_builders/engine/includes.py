"""The builder targets beside a root's own Taskfile or Makefile: their own file and one include line.

`Taskfile.builders.yml` is included flattened (the targets keep their names, `task builder:new`);
`builders.mk` is included at the end of the Makefile (the user's first target stays the default).
The include is added once, marked by a comment line, and taking it out is deleting the marked lines
(and the file). Nothing else in the user's file changes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

TASKFILE = "Taskfile.yaml"
MAKEFILE = "Makefile"
OWN_FILE = {TASKFILE: "Taskfile.builders.yml", MAKEFILE: "builders.mk"}
# The names task and make look for, in their order: the one found first is the user's file.
USERS_NAMES = {
    TASKFILE: ("Taskfile.yml", "taskfile.yml", "Taskfile.yaml", "taskfile.yaml", "Taskfile.dist.yml"),
    MAKEFILE: ("GNUmakefile", "makefile", "Makefile"),
}
MARK = "# workspace-builders: the builder targets (delete this line and the next"
TASK_ENTRY = ("builders:", "  taskfile: ./Taskfile.builders.yml", "  flatten: true")
_INCLUDES_KEY = re.compile(r"^includes:[ \t]*(#.*)?$")
_MAKE_INCLUDE = re.compile(r"^[ \t]*-?include[ \t]+(.*[ \t])?builders\.mk([ \t]|$)", re.MULTILINE)


def users_file(root: Path, template: str) -> Path | None:
    """The root's own Taskfile or Makefile, when it has one (and the template is one of them)."""
    for name in USERS_NAMES.get(template, ()):
        if os.path.lexists(root / name):
            return root / name
    return None


def include(root: Path, own: Path, template: str, content: bytes, dry_run: bool, say: Callable[[str], None]) -> None:
    """Write the targets as their own file (never over another) and include it in `own`, once."""
    would = "would " if dry_run else ""
    separate = root / OWN_FILE[template]
    if not os.path.lexists(separate):
        if not dry_run:
            separate.write_bytes(content)
        say(f"{would}write {separate.name} (the builder targets; {own.name} is yours and stays)")
    elif separate.is_file() and separate.read_bytes() == content:
        say(f"kept {separate.name} (same as the template)")
    else:
        say(f"kept {separate.name} (exists and differs from the template; not overwritten)")
    if own.is_symlink() or not own.is_file():
        say(f"kept {own.name} (not a plain file); include {separate.name} in it by hand")
        return
    text = own.read_text(encoding="utf-8")
    changed = _with_task_include(text) if template == TASKFILE else _with_make_include(text)
    if changed is None:
        lines = "\n".join(f"  {line}" for line in TASK_ENTRY)
        say(f"kept {own.name}: could not add the include safely; add under its includes:\n{lines}")
    elif changed == text:
        say(f"kept {own.name} (it includes {separate.name})")
    else:
        if not dry_run:
            own.write_text(changed, encoding="utf-8")
        say(f"{would}add the include of {separate.name} to {own.name}")


def _with_make_include(text: str) -> str:
    if _MAKE_INCLUDE.search(text):
        return text
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}\n{MARK} one)\ninclude builders.mk\n"


def _with_task_include(text: str) -> str | None:
    """`text` with the flattened include added under its top-level `includes:` (or a new one at the
    end); None when that cannot be done by adding lines (a flow-style `includes: {...}`, a key
    already named `builders`), checked by parsing the result."""
    import yaml

    try:
        before = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return None
    if not isinstance(before, dict):
        return None
    current = before.get("includes")
    if isinstance(current, dict) and "builders" in current:
        ours = current["builders"]
        return text if isinstance(ours, dict) and ours.get("taskfile") == "./Taskfile.builders.yml" else None
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if _INCLUDES_KEY.match(line.rstrip("\r\n"))), None)
    if at is None:
        if "includes" in before:
            return None
        separator = "" if not text or text.endswith("\n") else "\n"
        entry = "".join(f"  {line}\n" for line in TASK_ENTRY)
        changed = f"{text}{separator}\n{MARK} four)\nincludes:\n{entry}"
    else:
        following = [line for line in lines[at + 1 :] if line.strip() and not line.lstrip().startswith("#")]
        indent = "  "
        if following and following[0][:1] in (" ", "\t"):
            indent = following[0][: len(following[0]) - len(following[0].lstrip())]
        added = [f"{indent}{MARK} three)\n", *(f"{indent}{line.replace('  ', indent, 1)}\n" for line in TASK_ENTRY)]
        changed = "".join([*lines[: at + 1], *added, *lines[at + 1 :]])
    try:
        after = yaml.safe_load(changed)
    except yaml.YAMLError:
        return None
    wanted = {**(current or {}), "builders": {"taskfile": "./Taskfile.builders.yml", "flatten": True}}
    if not isinstance(after, dict) or after.get("includes") != wanted:
        return None
    if {k: v for k, v in after.items() if k != "includes"} != {k: v for k, v in before.items() if k != "includes"}:
        return None
    return changed
