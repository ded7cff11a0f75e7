"""`builders land [NAME]`: every worktree of a builder with commits beyond its base, rebased onto the
base's tip, past the `scripts.pre_land` gate, then every base fast-forwarded to it: all or none.

The moves are journalled before the first one (`<root>/.git/builders/landing/<name>.json`) and each
is a compare-and-swap under its repository's lock, so a run killed half-way leaves each base at its
old or its new commit, and the next run completes what the journal names.
"""

from __future__ import annotations

from pathlib import Path

from plumbum import cli

from workspace_builders import builder_scripts, faults, interrupts, landing, output, parallel
from workspace_builders.cli import WithDryRunAndJson, start_dir
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.landing import Move, Touched, Tree
from workspace_builders.locks import builder_lock
from workspace_builders.state import BuilderState
from workspace_builders.workspace import Workspace, discover


def land(
    start: Path, name: str | None, squash: bool, message: str | None, push: bool, remove: bool, dry_run: bool,
    as_json: bool,
) -> int:  # fmt: skip
    if squash and not (message or "").strip():
        raise bad_input("--squash needs a commit message", 'builders land NAME --squash -m "what this builder did"')
    if message is not None and not squash:
        raise bad_input("-m is the message of the --squash commit", 'builders land NAME --squash -m "..."')
    location = discover(start)
    ws = location.workspace
    record = landing.builder_record(location, name, "land")
    with builder_lock(ws, record.name):
        resumed = [] if dry_run else (landing.complete_journal(ws, record.name) or [])
        trees = landing.trees_of(ws, record)
        landing.refuse_dirty(trees, record.name)
        # A worktree whose work cannot land (no base branch, not on its branch) stops the whole landing:
        # landing the others and saying nothing of it would report a session landed that is not.
        landing.refuse_problems([t for t in trees if t.ahead > 0 or t.head != t.base_commit or t.off_branch])
        ready = [t for t in trees if t.ahead > 0]
        landing.refuse_unmovable(ready)
        if dry_run:
            _show_plan(record.name, trees, squash, push, remove, as_json)
            return 0
        moves = _land(ws, record, ready, message if squash else None)
    landed = [*resumed, *moves]
    pushed = _push(landed) if push and landed else []
    failed = [p for p in pushed if not p["ok"]]
    if not as_json:  # what landed comes first; the JSON document, once the removal is known
        _say_landed(record.name, landed)
    removed = False
    if remove and failed:
        output.say(f"builder {record.name} kept: a push failed (below); remove it once that is settled")
    elif remove:
        removed = landing.remove_builder(start, record.name, quiet_stdout=as_json) == 0
    if as_json:
        output.json_document(
            {
                "name": record.name,
                "dry_run": False,
                "landed": [m.as_json() for m in landed],
                "pushed": pushed,
                "removed": removed,
            }
        )
    for p in failed:
        output.error(f"{p['repo']}: push of {p['branch']} failed: {p['error']}", f"push it by hand: {p['command']}")
    return 1 if failed else 0


def _say_landed(name: str, landed: list[Move]) -> None:
    if not landed:
        output.result(f"builder {name}: nothing to land (no commits beyond any base)")
        return
    output.result(f"builder {name} landed:")
    for m in landed:
        output.result(f"  {m.label}: {m.base} {output.short(m.old)} -> {output.short(m.new)}")


def _land(ws: Workspace, record: BuilderState, ready: list[Tree], message: str | None) -> list[Move]:
    name, path, repos = record.name, record.path, [r.name for r in record.repos]
    if not ready:
        return []
    touched: list[Touched] = []
    try:
        landing.bring_up(ready, merge=False, touched=touched)
        if message is not None:
            landing.squash(ready, message, touched)
        gate = ws.config.pre_land
        if gate:
            code = builder_scripts.run(ws, "pre_land", gate, name, Path(path), repos, record.ports)
            if code != 0:
                raise BuildersError(
                    f"the pre_land script failed with exit {code}; nothing landed (every repo was put back)",
                    f"fix what it found in {path}, then run again: builders land {name}",
                )
            # The gate may take minutes: look at the bases again as they stand after it. Without a
            # gate there is no need: each move is a compare-and-swap on the tip looked at above.
            for tree, outcome in parallel.each(ready, landing.inspect):
                if isinstance(outcome, BaseException):
                    raise BuildersError(f"{tree.label}: could not look at {tree.path} again: {outcome}")
        landing.refuse_unmovable(ready)
        moves = landing.plan_moves(ready)
        landing.write_journal(ws, name, moves, squashed=message is not None)
        faults.point("land:journalled")
        landing.apply_moves(moves)
    except BaseException:
        with interrupts.held_off():
            landing.journal_file(ws, name).unlink(missing_ok=True)
            if touched:
                landing.put_back(touched)
        raise
    with interrupts.held_off():
        landing.record_landing(ws, name, moves, squashed=message is not None)
    return moves


def _push(moves: list[Move]) -> list[dict[str, object]]:
    pushed: list[dict[str, object]] = []
    for m in moves:
        repo = Path(m.repo)
        remote = landing.remote_of(repo, m.base)
        command = f"git -C {repo} push {remote} {m.base}"
        try:
            landing.push_branch(repo, remote, m.base)
            output.say(f"  {m.label}: pushed {m.base} to {remote}")
            pushed.append({"repo": m.label, "remote": remote, "branch": m.base, "ok": True, "error": None})
        except BuildersError as exc:
            failure = {"repo": m.label, "remote": remote, "branch": m.base, "ok": False, "error": exc.message}
            pushed.append({**failure, "command": command})
    return pushed


def _show_plan(name: str, trees: list[Tree], squash: bool, push: bool, remove: bool, as_json: bool) -> None:
    plan = [
        {
            "repo": t.label,
            "base": t.base_branch,
            "old": t.base_tip,
            "ahead": t.ahead,
            "behind": t.behind,
            "checkout": str(t.base_checkout) if t.base_checkout else None,
        }
        for t in trees
        if t.ahead > 0
    ]
    if as_json:
        output.json_document(
            {"name": name, "dry_run": True, "plan": plan, "squash": squash, "push": push, "remove": remove}
        )
        return
    output.result(f"plan to land builder {name} (dry run: nothing changed)")
    if not plan:
        output.result("  nothing to land (no commits beyond any base)")
    for p in plan:
        rebase = f", rebased onto its {p['behind']} new commit(s) first" if p["behind"] else ""
        where = f" (checked out in {p['checkout']}, moved with it)" if p["checkout"] else ""
        output.result(f"  {p['repo']}: {p['ahead']} commit(s) onto {p['base']}{rebase}{where}")
    for step, wanted in (("one squashed commit per repo", squash), ("push each base", push), ("remove", remove)):
        if wanted:
            output.result(f"  then: {step}")


class Land(WithDryRunAndJson):
    DESCRIPTION = "rebase, run scripts.pre_land, fast-forward every base of a builder: all repos or none"

    squash = cli.Flag("--squash", help="one commit per repo (needs -m)")
    message = cli.SwitchAttr(["-m", "--message"], str, help="the message of the --squash commit")
    push = cli.Flag("--push", help="then push each landed base to its remote")
    remove = cli.Flag("--remove", help="then remove the builder (the safe removal)")

    def main(self, *name: str) -> int:  # NAME is optional inside a builder
        return land(
            start_dir(),
            self.one_name(name),
            self.squash,
            self.message,
            self.push,
            self.remove,
            self.dry_run,
            self.as_json,
        )
