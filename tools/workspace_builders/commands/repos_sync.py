"""`builders repos sync`: clone every repo declared with a url into repos/<name>, in parallel.

A clone is made in a temporary folder beside its target and renamed into place when complete, so a
failed or interrupted clone never leaves a partial repos/<name>. One repo failing does not stop the
others; the exit code is 1 when any failed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from plumbum import cli

from workspace_builders.base import output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.gitlayer import git
from workspace_builders.model.workspace import Workspace

CLONE = "clone"
FETCH = "fetch"
PRESENT = "present"
NO_URL = "missing, no url"
IN_THE_WAY = "in the way"


@dataclass(frozen=True)
class Item:
    name: str
    target: Path
    url: str | None
    action: str


def default_jobs() -> int:
    return min(os.cpu_count() or 1, parallel.MAX_THREADS)


def plan(ws: Workspace, fetch: bool) -> list[Item]:
    items = []
    for name, repo in (ws.config.repos or {}).items():
        target = ws.clone(name)
        if (target / ".git").exists():
            action = FETCH if fetch else PRESENT
        elif os.path.lexists(target):
            action = IN_THE_WAY
        else:
            action = CLONE if repo.url else NO_URL
        items.append(Item(name, target, repo.url, action))
    return items


def _clone(item: Item) -> None:
    assert item.url is not None
    temp = Path(tempfile.mkdtemp(prefix=f".{item.name}.sync-", dir=item.target.parent))
    try:
        git.clone(item.url, temp)
        temp.rename(item.target)
    except BaseException as exc:
        shutil.rmtree(temp, ignore_errors=True)  # made by this run, above
        if isinstance(exc, git.GitFailed):
            said = exc.completed.stderr.strip() or f"exit {exc.completed.returncode}"
            raise BuildersError(f"git clone {item.url} failed: {said}") from None
        raise


def _work(item: Item) -> str:
    if item.action == CLONE:
        _clone(item)
        return f"cloned from {item.url}"
    if item.action == FETCH:
        git.fetch(item.target)
        return "fetched"
    if item.action == IN_THE_WAY:
        raise BuildersError(f"{item.target} exists and is not a git repository", "move it away, then sync again")
    if item.action == NO_URL:
        return "not cloned: no url in workspaces.yaml"
    return "present"


def sync(ws: Workspace, jobs: int | None, fetch: bool, dry_run: bool, as_json: bool) -> int:
    if jobs is not None and jobs < 1:
        raise bad_input(f"--jobs must be 1 or more, not {jobs}", "builders repos sync --jobs 4")
    if not ws.config.repos:
        # Declaring repos is optional: clones made by hand under repos/ are repos all the same.
        output.say(
            f"note: no repos are declared in workspaces.yaml, so there is nothing to clone; clone them into"
            f" {ws.repos_dir}/ yourself, or declare them there: repos: {{name: {{url: <git url>}}}}"
        )
        if as_json:
            output.json_document({"dry_run": dry_run, "ok": True, "repos": []})
        return 0
    ws.require_repos_ignored()
    items = plan(ws, fetch)
    if dry_run:
        if as_json:
            output.json_document({"dry_run": True, "repos": [_row(i, i.action, None) for i in items]})
        else:
            output.result(output.table([[i.name, i.action, i.url or "-"] for i in items], ["repo", "action", "url"]))
        return 0
    if any(i.action == CLONE for i in items):
        ws.repos_dir.mkdir(exist_ok=True)

    def report(item: Item, outcome: str | BaseException) -> None:
        said = f"FAILED: {_message(outcome)}" if isinstance(outcome, BaseException) else outcome
        output.say(f"  {item.name}: {said}")

    output.say(f"syncing {len(items)} repo(s) into {ws.repos_dir}")
    outcomes = parallel.each(items, _work, report, jobs=jobs or default_jobs())
    failed = [item.name for item, _ in parallel.failures(outcomes)]
    if as_json:
        rows = [_row(i, _action_done(i, o), o) for i, o in outcomes]
        output.json_document({"dry_run": False, "ok": not failed, "repos": rows})
    if failed:
        output.error(f"{len(failed)} of {len(items)} repo(s) failed: {', '.join(failed)}", "see the lines above")
        return 1
    return 0


def _message(outcome: BaseException) -> str:
    return outcome.message if isinstance(outcome, BuildersError) else str(outcome)


def _action_done(item: Item, outcome: object) -> str:
    return "failed" if isinstance(outcome, BaseException) else item.action


def _row(item: Item, action: str, outcome: object) -> dict[str, object]:
    error = _message(outcome) if isinstance(outcome, BaseException) else None
    return {"name": item.name, "path": str(item.target), "url": item.url, "action": action, "error": error}


class Sync(WithDryRunAndJson):
    DESCRIPTION = "clone every repo declared with a url in workspaces.yaml into repos/, in parallel"

    fetch = cli.Flag("--fetch", help="also fetch the repos already cloned")
    jobs = cli.SwitchAttr("--jobs", int, argname="N", help="clones at a time (default: CPU count, at most 8)")

    def main(self) -> int:
        return sync(self.location().workspace, self.jobs, self.fetch, self.dry_run, self.as_json)
