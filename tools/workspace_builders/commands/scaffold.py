"""`builders scaffold`: copy the workspace-root templates into a root and install the git hooks.

An existing file is never overwritten: it is reported as kept, or with --force replaced after being
saved as NAME.orig. The managed .gitignore block is added once. A root with a Taskfile or Makefile
of its own gets the targets as their own files (Taskfile.builders.yml, builders.mk) and one include
in its file, once (see `includes`).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from plumbum import cli

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.commands.base import Command
from workspace_builders.engine import hooks_install, includes
from workspace_builders.gitlayer import git
from workspace_builders.model.workspace import Location

TEMPLATE = "workspace-root"
GITIGNORE_BLOCK = "gitignore-block"
IGNORE_BLOCK = "ignore-block"
# Each managed block and the file it goes into: .gitignore for git; .ignore for ripgrep-based
# search (agents' tools), which reads it over .gitignore and so sees repos/ while git ignores it.
BLOCKS = {".gitignore": GITIGNORE_BLOCK, ".ignore": IGNORE_BLOCK}
BLOCK_START = "# >>> workspace-builders >>>"
ORIG = ".orig"


def scaffold(location: Location, dry_run: bool, *, force: bool = False, hooks: bool = True, quiet: bool = False) -> int:
    if location.in_builder:
        raise bad_input(
            "scaffold writes into the workspace root, not a builder", output.command("cd", location.workspace.root)
        )
    root = location.workspace.root
    say = (lambda line: None) if quiet else output.say

    def did(done: str, todo: str) -> str:
        return f"would {todo}" if dry_run else done

    templates = resources.files("workspace_builders.templates") / TEMPLATE
    for template in sorted(templates.iterdir(), key=lambda t: t.name):
        if template.name in BLOCKS.values():
            continue
        target = root / template.name
        content = template.read_bytes()
        own = includes.users_file(root, template.name)
        # A user's file of another name (Taskfile.yml, GNUmakefile) is the one task or make reads: it
        # gets the include, --force or not; the template written beside it would never be read.
        if own is not None and (own != target or not (force or (own.is_file() and own.read_bytes() == content))):
            includes.include(root, own, template.name, content, dry_run, say)
            continue
        if os.path.lexists(target):
            backup = target.with_name(target.name + ORIG)
            if target.is_file() and target.read_bytes() == content:
                say(f"kept {target.name} (same as the template)")
                continue
            why = _why_kept(target, backup, force)
            if why:
                say(f"kept {target.name} ({why}; not overwritten)")
                continue
            if not dry_run:
                target.rename(backup)
            say(f"{did('saved', 'save')} {target.name} as {backup.name}")
        if not dry_run:
            target.write_bytes(content)
        say(f"{did('wrote', 'write')} {target.name}")
    for file_name, block_name in BLOCKS.items():
        managed = root / file_name
        current = managed.read_text(encoding="utf-8") if managed.is_file() else ""
        if BLOCK_START in current:
            say(f"kept {file_name} (the workspace-builders block is there)")
            continue
        if not dry_run:
            block = (templates / block_name).read_text(encoding="utf-8")
            separator = "" if not current or current.endswith("\n") else "\n"
            managed.write_text(current + separator + block, encoding="utf-8")
        say(f"{did('added', 'add')} the workspace-builders block to {file_name}")
    code = 0
    if hooks:
        try:
            code = hooks_install.install(location.workspace, force=False, dry_run=dry_run)
        except BuildersError as exc:
            output.error(f"hooks not installed: {exc.message}", exc.hint)
            code = 1
    else:
        say("hooks not installed (--no-hooks); later: builders hooks install")
    if not dry_run:
        # Only what is not committed yet, by name: the user's other changes are theirs to stage.
        ours = {t.name for t in templates.iterdir()} | set(BLOCKS) | set(includes.OWN_FILE.values())
        ours |= {name for names in includes.USERS_NAMES.values() for name in names}
        pending = [e[3:] for e in git.status_entries(root) if e[3:] in ours]
        if pending:
            add = output.command("git", "-C", root, "add", "--", *pending)
            commit = output.command("git", "-C", root, "commit", "-m", "add workspace-builders")
            say(f"next: commit the files ({add} && {commit})")
        else:
            say("nothing to commit: the files are committed as they are")
    return code


def _why_kept(target: Path, backup: Path, force: bool) -> str | None:
    """Why an existing file stays as it is; None when --force may replace it."""
    if not force:
        return f"exists; --force replaces it, keeping it as {backup.name}"
    if target.is_symlink() or not target.is_file():
        return "not a plain file"
    if os.path.lexists(backup):
        return f"{backup.name} exists"
    return None


class Scaffold(Command):
    DESCRIPTION = "copy the workspace-root templates into this root and install the hooks"
    CHECKS_CONFIG = False  # it reads no config, and `scaffold --force` is a way to a fresh workspaces.yaml

    force = cli.Flag("--force", help="replace files that differ from the templates, keeping each old one as NAME.orig")
    no_hooks = cli.Flag("--no-hooks", help="do not install the git hooks")
    dry_run = cli.Flag("--dry-run", help="print what would be written and change nothing")

    def main(self) -> int:
        return scaffold(self.location(), self.dry_run, force=self.force, hooks=not self.no_hooks)
