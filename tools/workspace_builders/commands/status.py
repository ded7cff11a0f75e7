"""`builders status [NAME]`: per worktree of a builder, its branch, base, ahead/behind the base as it
stands now, changes and last commit; a diffstat of the whole builder; what landed from it."""

from __future__ import annotations

from dataclasses import dataclass

from workspace_builders.base import output, parallel
from workspace_builders.commands.base import OPTIONAL_NAME, WithJson
from workspace_builders.engine import landing, landing_journal, landing_rebase
from workspace_builders.engine.landing import Tree
from workspace_builders.gitlayer import git, locks
from workspace_builders.model.workspace import Location

STAT_KEYS = ("files", "insertions", "deletions")


@dataclass
class Details:
    last_commit: dict[str, str]
    diffstat: dict[str, int]
    hidden: list[str]  # edits git status does not show (skip-worktree, assume-unchanged), which are work all the same


def status(location: Location, name: str | None, as_json: bool) -> int:
    ws = location.workspace
    record = landing.builder_record(location, name, "status")
    trees = landing.trees_of(ws, record)
    outcomes = parallel.each(trees, _details)
    parallel.raise_failures(outcomes)
    details = [outcome for _, outcome in outcomes if not isinstance(outcome, BaseException)]
    stat = {key: sum(d.diffstat[key] for d in details) for key in STAT_KEYS}
    landed = landing.landings(ws, record.name)

    def sparse_of(label: str) -> list[str] | None:
        repo = record.repo(label)
        return repo.sparse if repo else None

    if as_json:
        output.json_document(
            {
                "name": record.name,
                "path": record.path,
                "branch": record.branch,
                "status": record.status,
                "ports": record.ports,
                "landing_stopped": landing_journal.pending_landing(ws, record.name) is not None,
                "sync_stopped": landing_rebase.record_file(ws, record.name).exists(),
                "worktrees": [_row(t, d, sparse_of(t.label)) for t, d in zip(trees, details, strict=True)],
                "diffstat": stat,
                "landed": landed,
            }
        )
        return 0
    table = [
        [
            t.label + (" (sparse)" if sparse_of(t.label) is not None else ""),
            t.branch,
            (t.base_branch or f"- ({t.base_ref})")
            + (f" [{t.upstream}: {t.upstream_track}]" if t.upstream_track else ""),
            f"+{t.ahead}/-{t.behind}",
            str(len(t.modified)),
            str(len(t.untracked)),
            f"{output.short(d.last_commit['sha'])} {d.last_commit['subject']}"[:60],
        ]
        for t, d in zip(trees, details, strict=True)
    ]
    ports = f", ports {record.ports[0]}-{record.ports[-1]}" if record.ports else ""
    output.result(f"builder {record.name} ({record.path}), {record.status}{ports}")
    under_way = locks.builder_busy(ws, record.name)
    if landing_journal.pending_landing(ws, record.name) is not None:
        output.result(
            "a landing of it is under way (a run holds it now)"
            if under_way
            else f"a landing of it was stopped half-way: builders land {record.name} completes it"
        )
    if landing_rebase.record_file(ws, record.name).exists() and not under_way:
        output.result(f"a sync of it was stopped mid-rebase: builders sync {record.name} takes it up")
    headers = ["worktree", "branch", "base", "ahead/behind", "changed", "untracked", "last commit"]
    output.result(output.table(table, headers))
    for t, d in zip(trees, details, strict=True):
        if d.hidden:
            shown = ", ".join(d.hidden[:5]) + (" ..." if len(d.hidden) > 5 else "")
            output.result(
                f"note: {t.label}: {len(d.hidden)} edited but hidden from git status "
                f"(skip-worktree/assume-unchanged): {shown}; they are work, which remove keeps "
                f"(they are tagged S or lower case in: {output.command('git', '-C', t.path, 'ls-files', '-v')})"
            )
    output.result(
        f"{stat['files']} files changed, {stat['insertions']} insertions(+), {stat['deletions']} deletions(-)"
    )
    for entry in landed:
        moves = entry.get("moves")
        shown = ", ".join(
            f"{m['repo']}: {m['base']} {output.short(m['old'])}..{output.short(m['new'])}"
            for m in (moves if isinstance(moves, list) else [])
        )
        output.result(f"landed {entry.get('landed_at')}: {shown}")
    return 0


def _details(tree: Tree) -> Details:
    """The last commit, the diffstat against the base (commits and uncommitted tracked changes), and
    the edits git status hides."""
    wait_entries = git.index_entries_started(tree.path)
    sha, date, subject = git.last_commit(tree.path)
    stat = dict.fromkeys(STAT_KEYS, 0)
    if tree.base_tip:
        for added, deleted in git.numstat(tree.path, git.common_ancestor(tree.path, tree.base_tip, "HEAD")):
            stat["files"] += 1
            stat["insertions"] += int(added) if added.isdigit() else 0
            stat["deletions"] += int(deleted) if deleted.isdigit() else 0
    edited, gone = git.hidden_edits(tree.path, wait_entries())
    return Details({"sha": sha, "date": date, "subject": subject}, stat, edited + gone)


def _row(tree: Tree, details: Details, sparse: list[str] | None) -> dict[str, object]:
    return {
        "label": tree.label,
        "path": str(tree.path),
        "branch": tree.branch,
        "base_ref": tree.base_ref,
        "base": tree.base_branch,
        "base_commit": tree.base_tip,
        "head": tree.head,
        "ahead": tree.ahead,
        "behind": tree.behind,
        "changed": tree.modified,
        "untracked": tree.untracked,
        "hidden": details.hidden,
        "upstream": {"ref": tree.upstream, "track": tree.upstream_track} if tree.upstream else None,
        "problem": tree.problem,
        "last_commit": details.last_commit,
        "diffstat": details.diffstat,
        "sparse": sparse,
    }


class Status(WithJson):
    DESCRIPTION = "a builder's worktrees: branch, base, ahead/behind, changes, last commit; a diffstat"
    USAGE = OPTIONAL_NAME

    def main(self, *name: str) -> int:  # NAME is optional inside a builder
        return status(self.location(), self.one_name(name), self.as_json)
