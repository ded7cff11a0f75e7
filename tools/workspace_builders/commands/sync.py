"""`builders sync [NAME]`: every worktree of a builder onto its base branch's current tip, all repos or
none: on a conflict in one, every repo this run touched is put back where it was (the engine is
landing_rebase)."""

from __future__ import annotations

from typing import Any

from plumbum import cli

from workspace_builders.base import output
from workspace_builders.commands.base import OPTIONAL_NAME, WithDryRunAndJson
from workspace_builders.engine import landing, landing_journal, landing_rebase
from workspace_builders.engine.landing import Tree
from workspace_builders.engine.landing_rebase import Touched
from workspace_builders.gitlayer.locks import builder_lock
from workspace_builders.model.workspace import Location


def sync(location: Location, name: str | None, fetch: bool, merge: bool, dry_run: bool, as_json: bool = False) -> int:
    ws = location.workspace
    record = landing.builder_record(location, name, "sync")
    with builder_lock(ws, record.name):
        if not dry_run:
            landing_rebase.recover(ws, record)
        if landing_journal.pending_landing(ws, record.name) is not None:
            output.say(f"note: a landing of it was stopped half-way: builders land {record.name} completes it")
        trees = landing.trees_of(ws, record)
        if fetch and not dry_run:
            landing.fetch(trees)
            trees = landing.trees_of(ws, record)  # each base as it now stands against what was fetched
            for t in trees:
                if "behind" in t.upstream_track:  # fetched but not taken: say so, or it looks like nothing came
                    output.say(
                        f"note: {t.label}: {t.base_branch} [{t.upstream}: {t.upstream_track}]: "
                        f"the sync is onto the local {t.base_branch}, which --fetch does not move"
                    )
        behind = [t for t in trees if t.behind]
        landing.refuse_no_base([t for t in trees if t.behind or t.base_branch is None])
        landing.refuse_problems([t for t in trees if t.off_branch])
        behind = [t for t in trees if t.behind]
        planned = _rows(trees)  # as they stand before anything moves
        landing.refuse_dirty(behind, record.name, "a rebase or merge would have to move")
        landing.refuse_rewritten(behind)
        how = "merge" if merge else "rebase onto"
        if dry_run and as_json:
            output.json_document({"name": record.name, "dry_run": True, "merge": merge, "worktrees": planned})
            return 0
        if dry_run:
            output.result(f"plan to sync builder {record.name} (dry run: nothing changed)")
            for t in trees:
                plan = f"{how} {t.base_branch} ({t.behind} new there)" if t.behind else "up to date"
                output.result(f"  {t.label}: {plan}")
            return 0
        touched: list[Touched] = []
        landing_rebase.bring_up(ws, record, behind, merge, touched)
    if as_json:
        synced = [{**row, "synced": row["behind"] > 0} for row in planned]
        output.json_document({"name": record.name, "dry_run": False, "merge": merge, "worktrees": synced})
    elif behind:
        output.result(f"builder {record.name}: {len(behind)} worktree(s) brought up to their base")
    else:
        output.result(f"builder {record.name}: every worktree is up to date with its base")
    return 0


def _rows(trees: list[Tree]) -> list[dict[str, Any]]:
    """For --json: `behind`, the base's commits each worktree lacks before this run; `synced`, whether this
    run brought them in."""
    return [
        {"label": t.label, "path": str(t.path), "base": t.base_branch, "behind": t.behind, "synced": False}
        for t in trees
    ]


class Sync(WithDryRunAndJson):
    DESCRIPTION = "rebase (or merge) every worktree of a builder onto its base's tip; all repos or none"
    USAGE = OPTIONAL_NAME

    fetch = cli.Flag("--fetch", help="fetch each repository first (moves no local branch)")
    merge = cli.Flag("--merge", help="merge the base in (a merge commit) instead of rebasing")

    def main(self, *name: str) -> int:  # NAME is optional inside a builder
        return sync(self.location(), self.one_name(name), self.fetch, self.merge, self.dry_run, self.as_json)
