"""`builders land [NAME]`: every worktree of a builder with commits beyond its base, rebased onto the
base's tip, past the `scripts.pre_land` gate, then every base fast-forwarded to it: all or none, and
no base ever moves backwards (the transaction is in landing_transaction and landing_journal).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from plumbum import cli

from workspace_builders.base import output
from workspace_builders.base.errors import DONE_BUT_FOLLOW_UP_FAILED, BuildersError, bad_input
from workspace_builders.commands.base import OPTIONAL_NAME, WithDryRunAndJson
from workspace_builders.engine import landing, landing_journal, landing_rebase, landing_transaction
from workspace_builders.engine.landing import Tree
from workspace_builders.engine.landing_journal import BaseMoved, Move
from workspace_builders.gitlayer.locks import builder_lock
from workspace_builders.model.workspace import Location

# A base another landing moved between the run's look and its locks: the run changed nothing, so
# it looks again and lands onto the new tip, as the hint of the refusal would have said to.
TRIES = 4


def land(
    location: Location, name: str | None, squash: bool, message: str | None, push: bool, remove: bool, dry_run: bool,
    as_json: bool,
) -> int:  # fmt: skip
    # The hint is this same command made right, so it works pasted (inside a builder NAME stays out).
    retry = output.command("builders", "land", *([name] if name else []), "--squash", "-m")
    if squash and not (message or "").strip():
        raise bad_input("--squash needs a commit message", f"{retry} 'what this builder did'")
    if message is not None and not squash:
        raise bad_input("-m is the message of the --squash commit", f"{retry} {output.command(message)}")
    ws = location.workspace
    record = landing.builder_record(location, name, "land")
    stopped = False
    with builder_lock(ws, record.name):
        resumed: list[Move] = []
        if not dry_run:
            landing_rebase.recover(ws, record)
            resumed = landing_journal.complete(ws, record)
        for attempt in range(1, TRIES + 1):
            trees = landing.trees_of(ws, record)
            # A worktree whose work cannot land (no base branch, not on its branch) stops the whole
            # landing: landing the others and saying nothing of it would report a session landed that is not.
            landing.refuse_problems([t for t in trees if t.ahead > 0 or t.head != t.base_commit or t.off_branch])
            ready = [t for t in trees if t.ahead > 0]
            landing.refuse_dirty(ready, record.name, "would not land")
            landing.refuse_rewritten(ready)
            refuse_unmovable(ready)
            if dry_run:
                pending = landing_journal.pending_landing(ws, record.name)
                if pending is not None:
                    output.say(f"note: a landing stopped half-way ({pending}) would be completed first")
                _show_plan(record.name, trees, squash, push, remove, as_json)
                return 0
            try:
                done = landing_transaction.land_builder(ws, record, ready, message if squash else None)
                break
            except BaseMoved as exc:
                if not exc.put_back:
                    raise
                if attempt == TRIES:
                    exc.message += f" (tried {TRIES} times: other landings kept moving it)"
                    raise
                moved = exc.message.partition("; nothing landed")[0]
                output.say(f"  {moved}: landing again onto the new tip (try {attempt + 1} of {TRIES})")
                # Landings that lost to the same one do not all look again at the same moment.
                time.sleep(random.uniform(0.0, 0.2 * attempt))
        moves, stopped = done.moves, done.stopped
    landed = [*resumed, *moves]
    pushed = _push(landed) if push and landed and not stopped else []
    if push and not landed:
        _say_unpushed(trees)
    failed = [p for p in pushed if p["ok"] is False]
    if not as_json:  # what landed comes first; the JSON document, once the removal is known
        _say_landed(record.name, landed)
    _say_left_uncommitted(trees)
    removed = False
    follow_up_failed = bool(failed) or (stopped and (push or remove))
    if remove and (failed or stopped):
        output.say(f"builder {record.name} kept: " + ("a push failed (below)" if failed else "the run was stopped"))
    elif remove:
        try:
            removed = landing.remove_builder(location, record.name, quiet_stdout=as_json) == 0
        except BuildersError as exc:  # the removal refused (work it would lose): the landing stands
            output.error(exc.message, exc.hint)
        follow_up_failed = follow_up_failed or not removed
    if as_json:
        output.json_document(
            {
                "name": record.name,
                "dry_run": False,
                "landed": [m.as_json() for m in landed],
                "pushed": pushed,
                "removed": removed,
                "ok": not follow_up_failed,
            }
        )
    for p in failed:
        output.error(f"{p['repo']}: push of {p['branch']} failed: {p['error']}", f"push it by hand: {p['command']}")
    if follow_up_failed:
        what = "its push" if failed else "the removal" if remove and not stopped else "what was to follow it"
        if landed:
            said, hint = "landed, but", f"see above; the landing itself stands: builders status {record.name}"
        else:
            said, hint = "had nothing to land, and", f"see above: builders status {record.name}"
        output.error(f"builder {record.name} {said} {what} did not complete (exit {DONE_BUT_FOLLOW_UP_FAILED})", hint)
        return DONE_BUT_FOLLOW_UP_FAILED
    return 0


def refuse_unmovable(trees: list[Tree]) -> None:
    """Every base that would move must be a branch and not checked out anywhere with uncommitted
    changes (looked at again under the locks before anything moves). One that cannot stops them all."""
    for t in trees:
        if t.base_branch is None or t.base_tip is None:
            landing.refuse_problems([t])
        tracked = t.base_checkout_changes
        if tracked:
            shown = ", ".join(e[3:] for e in tracked[:5])
            raise BuildersError(
                f"{t.label}: its base {t.base_branch} is checked out in {t.base_checkout} with uncommitted "
                f"changes ({shown}); nothing landed",
                "commit or stash them ("
                + output.command("git", "-C", t.base_checkout or "", "status", "--ignore-submodules=none")
                + "),"
                " then run the command again",
            )


def _say_landed(name: str, landed: list[Move]) -> None:
    if not landed:
        output.result(f"builder {name}: nothing to land (no commits beyond any base)")
        return
    output.result(f"builder {name} landed:")
    for m in landed:
        output.result(f"  {m.label}: {m.base} {output.short(m.old)} -> {output.short(m.new)}")


def _say_left_uncommitted(trees: list[Tree]) -> None:
    """Uncommitted work in a worktree with nothing to land (one with commits to land and such work
    is refused): a landing, or its "nothing to land", says nothing of it otherwise."""
    for t in trees:
        if t.changed:
            shown = ", ".join(e[3:] for e in t.changed[:3]) + (" ..." if len(t.changed) > 3 else "")
            output.say(
                f"note: {t.label}: {len(t.changed)} uncommitted or untracked file(s) did not land ({shown}); "
                f"commit them to land them: {output.command('git', '-C', t.path, 'status')}"
            )


def _say_unpushed(trees: list[Tree]) -> None:
    """--push pushes what this run lands; a base that an earlier landing left ahead of its remote is
    named with the push that sends it, or a re-run with --push would look as if it had pushed it."""
    for t in trees:
        if t.base_branch and "ahead" in t.upstream_track:
            remote = landing.remote_of(t.source, t.base_branch)
            output.say(
                f"note: {t.label}: {t.base_branch} [{t.upstream}: {t.upstream_track}] was landed before and is not "
                f"pushed; push it by hand: {output.command('git', '-C', t.source, 'push', remote, t.base_branch)}"
            )


def _push(moves: list[Move]) -> list[dict[str, object]]:
    pushed: list[dict[str, object]] = []
    for m in moves:
        repo = Path(m.repo)
        remote = landing.remote_of(repo, m.base)
        row: dict[str, object] = {"repo": m.label, "remote": remote, "branch": m.base, "ok": True, "error": None}
        if not landing.has_remote(repo, remote):
            output.say(f"  {m.label}: not pushed: {repo} has no remote {remote!r}")
            pushed.append({**row, "ok": None, "skipped": f"no remote {remote!r}"})
            continue
        try:
            landing.push_branch(repo, remote, m.base)
            output.say(f"  {m.label}: pushed {m.base} to {remote}")
            pushed.append(row)
        except BuildersError as exc:
            command = output.command("git", "-C", repo, "push", remote, m.base)
            pushed.append({**row, "ok": False, "error": exc.message, "command": command})
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
    USAGE = OPTIONAL_NAME

    squash = cli.Flag("--squash", help="one commit per repo (needs -m)")
    message = cli.SwitchAttr(["-m", "--message"], str, help="the message of the --squash commit")
    push = cli.Flag("--push", help="then push each landed base to its remote")
    remove = cli.Flag("--remove", help="then remove the builder (the safe removal)")

    def main(self, *name: str) -> int:  # NAME is optional inside a builder
        return land(
            self.location(),
            self.one_name(name),
            self.squash,
            self.message,
            self.push,
            self.remove,
            self.dry_run,
            self.as_json,
        )
