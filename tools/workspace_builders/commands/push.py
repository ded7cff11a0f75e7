"""`builders push [NAME]`: each builder branch that has commits, pushed to its repository's origin under
the same name in every repo (one topic across repos). Never forced."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.base import output, parallel
from workspace_builders.base.errors import bad_input
from workspace_builders.base.names import did_you_mean
from workspace_builders.commands.base import OPTIONAL_NAME, WithDryRunAndJson
from workspace_builders.engine import landing
from workspace_builders.engine.landing import Tree
from workspace_builders.gitlayer import git
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import ROOT, Location

REMOTE = "origin"


def push(location: Location, name: str | None, dry_run: bool, as_json: bool, repos: str | None = None) -> int:
    ws = location.workspace
    record = landing.builder_record(location, name, "push")
    chosen = _chosen(record, repos)
    trees = [t for t in landing.trees_of(ws, record) if t.ahead > 0 and (chosen is None or t.label in chosen)]
    rows: dict[str, dict[str, object]] = {}
    for tree in trees:
        url = git.config_value(tree.source, f"remote.{REMOTE}.url")
        compare = landing.compare_url(url, tree.base_branch or "", tree.branch) if url and tree.base_branch else None
        rows[tree.label] = {
            "repo": tree.label,
            "remote": REMOTE,
            "url": url,
            "branch": tree.branch,
            "commits": tree.ahead,
            "ok": None if dry_run or not url else False,
            # A repository without the remote (a root with no origin is the usual case) is left out, said.
            "skipped": None if url else f"no remote {REMOTE!r}",
            "error": None,
            "compare_url": compare,
        }
        if not url:
            output.say(
                f"note: {tree.label}: skipped, {tree.source} has no remote {REMOTE!r} (add one: "
                f"{output.command('git', '-C', tree.source, 'remote', 'add', REMOTE)} URL)"
            )
    if not dry_run:
        pushable = [t for t in trees if rows[t.label]["url"]]

        def one(tree: Tree) -> str:
            return landing.push_branch(tree.source, REMOTE, tree.branch)

        def progress(tree: Tree, outcome: object) -> None:
            if not isinstance(outcome, BaseException):
                rows[tree.label]["ok"] = True
                output.say(f"  {tree.label}: pushed {tree.branch} to {REMOTE}")

        for tree, error in parallel.failures(parallel.each(pushable, one, progress)):
            rows[tree.label]["error"] = error.message
    failed = [r for r in rows.values() if r["error"]]
    if as_json:
        output.json_document({"name": record.name, "dry_run": dry_run, "repos": list(rows.values())})
    else:
        verb = "would push" if dry_run else "pushed"
        if not rows:
            output.result(f"builder {record.name}: no branch has commits beyond its base; nothing to push")
        for row in rows.values():
            if row["error"] or row["skipped"]:
                continue
            line = f"{row['repo']}: {verb} {row['branch']} ({row['commits']} commit(s)) to {REMOTE}"
            output.result(line + (f"  compare: {row['compare_url']}" if row["compare_url"] else ""))
    for row in failed:
        output.error(
            f"{row['repo']}: push of {row['branch']} failed: {row['error']}",
            "push it by hand: "
            + output.command(
                "git",
                "-C",
                ws.clone(str(row["repo"])) if row["repo"] != ROOT else ws.root,
                "push",
                REMOTE,
                str(row["branch"]),
            ),
        )
    return 1 if failed else 0


def _chosen(record: BuilderState, repos: str | None) -> set[str] | None:
    """The worktrees `--repos` names (`root` for the builder's own), all of them when not given."""
    if repos is None:
        return None
    known = [ROOT, *(r.name for r in record.repos)]
    named = {part.strip().rstrip("/") for part in repos.split(",") if part.strip()}
    unknown = sorted(named - set(known))
    if unknown or not named:
        problem = f"not in builder {record.name}: {', '.join(unknown)}" if unknown else "--repos names no repo"
        raise bad_input(problem, f"{did_you_mean(unknown, known)}its worktrees: {', '.join(known)}")
    return named


class Push(WithDryRunAndJson):
    DESCRIPTION = "push each builder branch with commits to its repository's origin (never forced)"
    USAGE = OPTIONAL_NAME

    repos = cli.SwitchAttr("--repos", str, argname="a,b", help="push only these worktrees (root for the builder's own)")

    def main(self, *name: str) -> int:  # NAME is optional inside a builder
        return push(self.location(), self.one_name(name), self.dry_run, self.as_json, self.repos)
