"""`builders remove`: take a builder away without ever losing work (the work is in removal.py)."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine.removal import remove


class Remove(WithDryRunAndJson):
    DESCRIPTION = "remove a builder and its repo worktrees; refuses when work would be lost"

    force = cli.Flag("--force", help="save what would be lost under refs/builders/archive/..., then remove")
    keep_branches = cli.Flag("--keep-branches", help="keep the builder's branches even when they hold nothing")

    def main(self, name: str) -> int:
        return remove(self.location(), name, self.force, self.keep_branches, self.dry_run, self.as_json)

