"""`builders prune`: stale worktree admin entries, vanished builders, orphan builder folders moved
to the trash, and (`--empty-trash`) the trash emptied after its work is archived (the work is in
engine/prune.py)."""

from __future__ import annotations

import re

from plumbum import cli

from workspace_builders.base import output
from workspace_builders.base.errors import bad_input
from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine import prune as pruning
from workspace_builders.model.workspace import Workspace

_AGE = re.compile(r"(\d+)([dhm])")
_SECONDS = {"d": 86400, "h": 3600, "m": 60}


def prune(ws: Workspace, dry_run: bool, as_json: bool, empty_trash: bool, older_than: str | None) -> int:
    max_age = _parse_age(older_than) if older_than else None
    if max_age is not None and not empty_trash:
        raise bad_input("--older-than goes with --empty-trash", "builders prune --empty-trash --older-than 7d")
    report, failed = pruning.prune(ws, dry_run, empty_trash, max_age)
    if as_json:
        output.json_document({"dry_run": dry_run, **report})
    else:
        verb = "would be " if dry_run else ""
        for key, lines in report.items():
            for line in lines:
                output.result(f"{verb}{key.replace('_', ' ')}: {line}")
        if not any(report.values()):
            output.result("nothing to prune")
    return 1 if failed else 0


def _parse_age(text: str) -> int:
    found = _AGE.fullmatch(text.strip())
    if not found:
        raise bad_input(f"--older-than {text!r}: not an age", "write it as 7d, 12h or 30m")
    return int(found.group(1)) * _SECONDS[found.group(2)]


class Prune(WithDryRunAndJson):
    DESCRIPTION = "clean stale worktree entries, close vanished builders, move proven orphans to the trash"

    empty_trash = cli.Flag("--empty-trash", help="delete what prune moved to the trash (default: older than 7d)")
    older_than = cli.SwitchAttr(
        "--older-than", str, argname="AGE", help="with --empty-trash: an age such as 7d, 12h, 30m"
    )

    def main(self) -> int:
        return prune(self.location().workspace, self.dry_run, self.as_json, self.empty_trash, self.older_than)
