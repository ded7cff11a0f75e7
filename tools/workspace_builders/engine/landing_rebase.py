"""Builder branches brought up to their bases (rebase or merge), all repos or none, for `sync` and `land`.

A record of the run (`<admin>/rebasing/<name>.json`, the builder's identity and each branch's tip
before) is written before the first rebase and dropped once every repo is up or put back. A run
stopped mid-rebase (a kill leaves the worktree in the middle of `git rebase`) leaves that record: the
next `sync` or `land` of the builder finds it, aborts the rebase it names (the record says it is
ours: the worktree was clean at the recorded tip when it began) and starts again.

A put-back only ever undoes what this run wrote: a branch goes back to its recorded tip only while
its worktree is still exactly as the run left it (the tip the run made, no changes), with `git reset
--keep`, which refuses rather than drop a change. Never `reset --hard`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workspace_builders.base import atomic_file, faults, interrupts, output, parallel
from workspace_builders.base.errors import BuildersError
from workspace_builders.engine.landing import Tree, count
from workspace_builders.gitlayer import git
from workspace_builders.gitlayer.locks import open_elsewhere, repository_lock
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import Workspace

IN_PROGRESS = {"rebase-merge": "rebase", "rebase-apply": "rebase", "MERGE_HEAD": "merge"}
OTHER_OPERATIONS = {"CHERRY_PICK_HEAD": "cherry-pick", "REVERT_HEAD": "revert", "BISECT_LOG": "bisect"}
LOCK_SETTLE_SECONDS = 1.5  # a live git's index.lock (an editor's `git status`) is gone well within this


def identity(record: BuilderState) -> dict[str, str]:
    """What tells this builder from an earlier one of the same name."""
    return {"name": record.name, "created_at": record.created_at, "path": record.path}


def operation_in_progress(worktree: Path, gitdir: Path | None = None) -> str | None:
    """`rebase`, `merge`, `cherry-pick`, `revert` or `bisect` when one is under way in the worktree
    (whose git dir the caller may know already)."""
    gitdir = gitdir or git.git_dir(worktree)
    for marker, what in {**IN_PROGRESS, **OTHER_OPERATIONS}.items():
        if (gitdir / marker).exists():
            return what
    return None


def rebasing_it(common_dir: Path, ref: str) -> Path | None:
    """The git dir of a worktree in the middle of rebasing branch `ref` (its HEAD is detached
    meanwhile, so it does not show as checked out), or None. The rebase's end writes that branch
    again, from where it was when the rebase began: a base moved meanwhile would be moved back."""
    for gitdir in [common_dir, *sorted((common_dir / "worktrees").glob("*"))]:
        for state in ("rebase-merge", "rebase-apply"):
            head_name = gitdir / state / "head-name"
            if head_name.is_file() and head_name.read_text(encoding="utf-8", errors="replace").strip() == ref:
                return gitdir
    return None


def lingering_lock(index: Path) -> bool:
    """Whether `<index>.lock` is there and stays there a moment: a live git drops its own soon."""
    lock = index.with_name(index.name + ".lock")
    deadline = time.monotonic() + LOCK_SETTLE_SECONDS
    while lock.exists():
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.05)
    return False


def clear_our_lock(index: Path, why: str) -> None:
    """Remove the index.lock a git of ours left when it was killed (with its own nested lock when
    it worked on a copy). The caller holds the repository lock, so no git of ours still runs there,
    and knows from its record that this run's git was working in that worktree; a lock some running
    process holds open (someone's git that took it since) is left alone and named."""
    for lock in (index.with_name(index.name + ".lock.lock"), index.with_name(index.name + ".lock")):
        if lock.is_file() and not lock.is_symlink():
            if open_elsewhere(lock):
                raise BuildersError(
                    f"{lock} is held open by a running process (a git started there since); it was not removed",
                    f"let it finish ({output.command('fuser', lock)} names it), then run the command again",
                )
            lock.unlink()
            output.say(f"  removed {lock}: {why}")


# --- the record of a run -------------------------------------------------------------------------------


def record_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "rebasing" / f"{name}.json"


@dataclass
class Touched:
    """A builder branch this run moves: where it was, and where the run left it."""

    tree: Tree
    original: str
    left: str | None = None  # None while the run's git is on it


def _write_record(ws: Workspace, record: BuilderState, touched: Sequence[Touched], merge: bool) -> None:
    document = {
        "builder": identity(record),
        "merge": merge,
        "trees": [
            {
                "label": t.tree.label,
                "path": str(t.tree.path),
                "common_dir": str(t.tree.common_dir),
                "original": t.original,
            }
            for t in touched
        ],
    }
    atomic_file.write(record_file(ws, record.name), (json.dumps(document, indent=2) + "\n").encode())


def recover(ws: Workspace, record: BuilderState) -> None:
    """Take up what a stopped run left: abort the rebase or merge it was in the middle of."""
    path = record_file(ws, record.name)
    document = atomic_file.read_json(path, "record")
    if document is None:
        return
    try:
        trees = [(Path(t["path"]), Path(t["common_dir"]), str(t["label"])) for t in document["trees"]]
        builder = document["builder"]
    except (TypeError, KeyError) as exc:
        raise atomic_file.unreadable(path, "record", exc) from None
    if builder != identity(record):
        output.say(f"note: {path} is from an earlier builder named {record.name!r}; dropped")
        path.unlink()
        return
    output.say(f"taking up the sync of {record.name!r} that was stopped ({path})")
    for worktree, common_dir, label in trees:
        if not worktree.is_dir():
            continue
        with repository_lock(common_dir):
            index = git.index_path(worktree)
            killed_mid_write = lingering_lock(index)
            if killed_mid_write:
                clear_our_lock(index, "a git of a stopped sync left it")
            what = operation_in_progress(worktree)
            if what in ("rebase", "merge") and not killed_mid_write and git.status_entries(worktree):
                # git stopped there on its own (a conflict) and the run was stopped before it aborted:
                # what the worktree holds now may be someone's resolution, which an abort would drop.
                raise BuildersError(
                    f"{label}: {worktree} is in the middle of the {what} a stopped sync left, with changes "
                    "(a conflict's resolution?); it was not aborted",
                    f"finish it (git {what} --continue) or drop it (git {what} --abort) in "
                    f"{output.command(worktree)}, then run the command again",
                )
            if what in ("rebase", "merge"):
                done = git.abort(worktree, what)
                if done.returncode != 0:
                    raise BuildersError(
                        f"{label}: the {what} a stopped sync left in {worktree} cannot be aborted: "
                        + done.stderr.strip(),
                        f"look at it: {output.command('cd', worktree)} && git status",
                    )
                output.say(f"  {label}: aborted the {what} a stopped sync left in {worktree}")
    path.unlink()


# --- bringing the branches up --------------------------------------------------------------------------


def bring_up(ws: Workspace, record: BuilderState, trees: Sequence[Tree], merge: bool, touched: list[Touched]) -> None:
    """Rebase (or merge) each worktree that is behind its base onto the base's tip, in parallel.

    On a conflict every worktree touched is put back (see put_back) and the conflict is named.
    `touched` gets each branch moved, for a later put-back by the caller.
    """
    behind = [t for t in trees if t.behind > 0]
    if not behind:
        return
    if not merge:
        refuse_flattening(record.name, behind)
    refuse_overwriting(behind, how="merge" if merge else "rebase")
    mine = [Touched(t, t.head or "") for t in behind]
    _write_record(ws, record, mine, merge)
    how = "merge" if merge else "rebase"

    def one(item: Touched) -> list[str] | str:
        tree = item.tree
        with repository_lock(tree.common_dir):
            touched.append(item)
            if merge:
                done = git.merge_in(tree.path, tree.base_ref_name, f"Merge {tree.base_branch} into {tree.branch}")
            else:
                # Onto the tip looked at, not the branch as it is now: what lands (a squash made on
                # that tip included) is what was planned, and a base moved since is refused later.
                done = git.rebase_onto(tree.path, tree.base_tip or tree.base_ref_name)
            faults.point(f"sync:rebased:{tree.label}")
            if done.returncode == 0:
                item.left = tree.head = git.head_of(tree.path)
                count(tree)  # here, in parallel with the other repos
                return []
            # No conflicted file: git stopped for another reason (a commit it could not make or sign,
            # a hook's refusal, a conflict rerere staged), said in its own words.
            files = git.conflicted_files(tree.path) or done.stderr.strip() or done.stdout.strip() or "(no output)"
            git.abort(tree.path, how)
            item.left = git.head_of(tree.path)
            return files

    def progress(item: Touched, outcome: object) -> None:
        if isinstance(outcome, list) and not outcome:
            done = "merged" if merge else "rebased onto"
            output.say(f"  {item.tree.label}: {done} {item.tree.base_branch} ({output.short(item.tree.base_tip)})")

    try:
        outcomes = parallel.each(mine, one, progress)
    except BaseException:
        with interrupts.held_off():
            put_back(touched)
            touched.clear()
            record_file(ws, record.name).unlink(missing_ok=True)
        raise
    failed = [(t.tree, o) for t, o in outcomes if not (isinstance(o, list) and not o)]
    if failed:
        back = "every repo was put back where it was"
        with interrupts.held_off():
            try:
                put_back(touched)
            except BuildersError as exc:
                back = exc.message
            touched.clear()
            record_file(ws, record.name).unlink(missing_ok=True)
        tree, outcome = failed[0]
        by_hand = f"{output.command('cd', tree.path)} && git {how} {tree.base_branch}"
        if isinstance(outcome, list):
            names = ", ".join(outcome)
            raise BuildersError(
                f"{tree.label}: {how} onto {tree.base_branch} stops on a conflict in: {names}; {back}",
                f"resolve it by hand: {by_hand}",
            )
        if isinstance(outcome, str):
            raise BuildersError(
                f"{tree.label}: git {how} {tree.base_branch} stopped: {outcome}; {back}",
                f"see what git said; to do it by hand: {by_hand}",
            )
        raise BuildersError(f"{tree.label}: {how} failed: {outcome}; {back}")
    record_file(ws, record.name).unlink(missing_ok=True)


def in_the_way_of(changes: Sequence[git.TreeChange], checkout: Path) -> list[str]:
    """What is on disk, untracked or ignored, where the landing brings a file: a file of that name
    (git would overwrite an ignored one without a word), a folder there, or a file where it needs a
    folder. Checked before anything moves, so that git never refuses a checkout half-way through a
    landing whose first base has moved."""
    leaving = {c.path for c in changes if c.status == "D"}
    found: list[str] = []
    for change in (c for c in changes if c.status == "A"):
        place = checkout / change.path
        if os.path.lexists(place):
            if not a_folder(place):
                found.append(change.path)
            elif not _emptied(checkout, change.path, leaving):
                found.append(f"{change.path}/")
            continue
        parts = Path(change.path).parts
        files_above = ["/".join(parts[:n]) for n in range(1, len(parts)) if a_file(checkout.joinpath(*parts[:n]))]
        found += [above for above in files_above[:1] if above not in leaving]
    return list(dict.fromkeys(found))


def _emptied(checkout: Path, folder: str, leaving: set[str]) -> bool:
    """Whether every file in `folder` is one the landing deletes (it turns the folder into a file)."""
    for top, dirs, files in os.walk(checkout / folder):
        inside = Path(top).relative_to(checkout).as_posix()
        if any(f"{inside}/{name}" not in leaving for name in files) or any(
            Path(top, d).is_symlink() and f"{inside}/{d}" not in leaving for d in dirs
        ):
            return False
    return True


def a_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def a_file(path: Path) -> bool:
    """Anything on disk but a real folder (a file, a symlink)."""
    return os.path.lexists(path) and not a_folder(path)


def refuse_overwriting(trees: Sequence[Tree], how: str) -> None:
    """git's rebase and merge write over an ignored file without a word where the commits they bring
    add a file of that name (a local settings file a user's excludes hide, which the base starts to
    track): what is on disk, untracked or ignored, where the base brings a file refuses the run
    before anything moves. The repos are asked side by side."""
    asked = parallel.each(trees, lambda t: git.tree_changes(t.path, t.head or "HEAD", t.base_tip or t.base_ref_name))
    parallel.raise_failures(parallel.failures(asked))
    for t, changes in asked:
        found = in_the_way_of(changes, t.path) if isinstance(changes, list) else []
        if found:
            raise BuildersError(
                f"{t.label}: {t.path} has untracked or ignored files where the {how} onto {t.base_branch} brings"
                f" files ({', '.join(found[:5])}); git would write over them; nothing moved",
                f"move them out of the way (they are: {output.command('cd', t.path)} && "
                f"{output.command('ls', '-ld', '--', *(p.rstrip('/') for p in found[:5]))}), "
                "then run the command again",
            )


def refuse_flattening(name: str, trees: Sequence[Tree]) -> None:
    """A rebase flattens a merge commit: it replays the commits merged and drops what the merge
    commit itself changed (a conflict's resolution, a fix made while merging), and would land the
    rest as if whole. A builder branch with merges is brought up with a merge instead. (Which of its
    commits are its own, merges among them, was asked as it was counted.)"""
    for t in trees:
        if t.merge is not None:
            raise BuildersError(
                f"{t.label}: {t.branch} has a merge commit ({output.short(t.merge)}) that {t.base_branch} lacks; "
                "a rebase would flatten it and drop what the merge itself changed; nothing moved",
                f"bring it up with a merge instead: builders sync {name} --merge (then builders land {name} "
                "needs no rebase)",
            )


def put_back(touched: Sequence[Touched]) -> None:
    """Each builder branch this run moved, back where it was; every repo is tried, each failure named.

    A branch goes back only while its worktree is exactly as this run left it (at the tip the run
    made, nothing changed): what anyone else wrote there since is never undone.
    """
    refused: list[str] = []
    for item in reversed(touched):  # the last move first: a squash is undone before its rebase
        tree = item.tree
        try:
            with repository_lock(tree.common_dir):
                what = operation_in_progress(tree.path)
                if what in ("rebase", "merge") and item.left is None:
                    git.abort(tree.path, what)  # ours: the run's git was on it when it stopped
                    item.left = git.head_of(tree.path)
                now = git.head_of(tree.path)
                if now == item.original:
                    continue
                changes = git.status_entries(tree.path, every_submodule=True)
                if now != item.left or changes:
                    why = "it has uncommitted changes" if changes else f"its branch moved on to {output.short(now)}"
                    refused.append(f"{tree.label}: not put back ({why}); it was at {output.short(item.original)}")
                    continue
                done = git.reset_keep(tree.path, item.original)
                if done.returncode != 0:
                    refused.append(f"{tree.label}: not put back: {done.stderr.strip()}")
                    continue
        except BuildersError as exc:
            refused.append(f"{tree.label}: not put back: {exc.message}")
            continue
        tree.head = item.original
        count(tree)
        output.say(f"  {tree.label}: put back at {output.short(item.original)}")
    for line in refused:
        output.say(f"  {line}")
    if refused:
        raise BuildersError(
            "some repos could not be put back where they were: " + "; ".join(refused),
            "look at each (git status, git log) and move its branch by hand if you want it back",
        )


def squash(trees: Sequence[Tree], message: str, touched: list[Touched]) -> None:
    """One commit per repo: the tree of the builder branch on top of its base's tip (no hook runs,
    the index and working tree stay as they are: the tree is the same)."""
    for tree in trees:
        assert tree.head is not None and tree.base_tip is not None
        commit = git.squash_commit(tree.path, tree.head, tree.base_tip, message)
        with repository_lock(tree.common_dir):
            item = Touched(tree, tree.head)
            touched.append(item)
            done = git.move_ref(tree.path, tree.branch_ref, commit, tree.head, "builders land --squash")
            if done.returncode != 0:
                raise git.GitFailed(done)
            item.left = commit
        tree.head = commit
        count(tree)
