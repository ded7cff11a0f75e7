"""`builders scaffold`: copy the workspace-root templates into a root, never overwriting a file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from workspace_builders import output
from workspace_builders.errors import bad_input
from workspace_builders.workspace import discover

TEMPLATE = "workspace-root"
GITIGNORE_BLOCK = "gitignore-block"
BLOCK_START = "# >>> workspace-builders >>>"


def scaffold(start: Path, dry_run: bool, quiet: bool = False) -> int:
    location = discover(start)
    if location.in_builder:
        raise bad_input("scaffold writes into the workspace root, not a builder", f"cd {location.workspace.root}")
    root = location.workspace.root
    say = (lambda line: None) if quiet else output.say
    verb = "would write" if dry_run else "wrote"
    templates = resources.files("workspace_builders") / "templates" / TEMPLATE
    for template in sorted(templates.iterdir(), key=lambda t: t.name):
        if template.name == GITIGNORE_BLOCK:
            continue
        target = root / template.name
        if target.exists() or target.is_symlink():
            say(f"kept {target.name} (exists; not overwritten)")
            continue
        if not dry_run:
            target.write_bytes(template.read_bytes())
        say(f"{verb} {target.name}")
    gitignore = root / ".gitignore"
    current = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    if BLOCK_START in current:
        say("kept .gitignore (the workspace-builders block is there)")
    else:
        if not dry_run:
            block = (templates / GITIGNORE_BLOCK).read_text(encoding="utf-8")
            separator = "" if not current or current.endswith("\n") else "\n"
            gitignore.write_text(current + separator + block, encoding="utf-8")
        say(f"{verb} the workspace-builders block into .gitignore")
    if not dry_run:
        say(f"next: commit them (git -C {root} add -A && git -C {root} commit -m 'add workspace-builders')")
    return 0
