"""One worktree of one repository on its own branch: planned, applied, and undone.

Both the builder (a worktree of the root) and each nested repo worktree are a Checkout; creation of
a builder is a list of them, planned before any is applied.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders.base import interface, output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.gitlayer import git, links
from workspace_builders.gitlayer.locks import repository_lock
from workspace_builders.model.workspace import REPOS, ROOT

CREATE = "create"  # new branch at the base, new worktree
REUSE_BRANCH = "reuse-branch"  # the branch an interrupted run made, new worktree
TAKE_UP = "take-up"  # a worktree a killed run left unfinished: finish it, or set it aside and redo it
PRESENT = "present"  # already there: nothing to do

ORIGIN_HEAD = "refs/remotes/origin/HEAD"


@dataclass(frozen=True)
class Checkout:
    label: str  # ROOT or the repo's name
    source: Path  # the repository's main worktree (the root, or a clone)
    common_dir: Path
    target: Path
    branch: str
    base_ref: str
    base_commit: str
    action: str
    trash: Path  # where a half-made worktree is set aside (never deleted)
    note: str | None = None  # said with its progress line, e.g. that its base branch is behind its remote
    sparse: tuple[str, ...] | None = None  # the folders a sparse worktree checks out; None: all of it

    @property
    def created_here(self) -> bool:
        return self.action != PRESENT


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def plan(
    label: str,
    source: Path,
    common_dir: Path,
    target: Path,
    branch: str,
    bases: list[str],
    explicit: bool,
    trash: Path,
    resumable: str | None = None,
    own_branch: bool = False,
) -> Checkout:
    """Decide what creating `target` on `branch` takes; refuse what cannot be done safely.

    `bases` are candidates, the first that names a commit wins. `explicit` says the user chose the
    base, which lifts the refusal of a dirty source. `resumable` is the commit an interrupted run of
    this builder left `branch` at, if any: such a branch is taken up again rather than refused.
`own_branch`: the branch is one an existing builder records as its own for this repository
(its worktree was lost), taken up wherever it points, commits and all.

    Looks under the repository's lock, so a git that a killed run left running has finished first.
    """
    with repository_lock(common_dir):
        clear_stillborn(common_dir)
        # Whether the source has changes matters only for a base chosen by default: asked side by
        # side with the bases, and waited for before the lock is let go whatever the plan needed.
        changes = None if explicit else git.changed_tracked_files_started(source)
        try:
            planned = _plan_locked(
                label, source, common_dir, target, branch, bases, explicit, trash, resumable, changes, own_branch
            )
        except Exception:
            if changes is not None:
                with contextlib.suppress(Exception):
                    changes()
            raise
        if changes is not None:
            with contextlib.suppress(BuildersError):  # a look the plan did not use: its failure is not the plan's
                changes()
        return planned


def _plan_locked(
    label: str,
    source: Path,
    common_dir: Path,
    target: Path,
    branch: str,
    bases: list[str],
    explicit: bool,
    trash: Path,
    resumable: str | None,
    changes: Callable[[], list[str]] | None,
    own_branch: bool = False,
) -> Checkout:
    """plan(), with the repository's lock held; `changes` gives the source's changed files."""
    branch_ref = f"refs/heads/{branch}"
    try:
        found = git.resolve_commits(source, [*bases, branch_ref])
    except git.GitFailed as exc:  # a revision git refuses outright, such as HEAD@{5} past the reflog
        said = exc.completed.stderr.strip().splitlines()[-1:] or [exc.message]
        raise bad_input(
            f"{label}: base {bases[0]!r} cannot be resolved in {source}: {said[0]}",
            f"check it with: {output.command('git', '-C', source, 'log', '-1', bases[0], '--')}"
            "  (or name a branch, tag or commit)",
        ) from None
    base_ref = next((b for b in bases if found[b]), None)
    if base_ref is None:
        if explicit:
            raise bad_input(
                f"{label}: base {bases[0]!r} names no commit in {source}",
                f"check it with: {output.command('git', '-C', source, 'log', '-1', bases[0], '--')}"
                "  (fetch it, or name another base)",
            )
        raise bad_input(
            f"{label}: {source} has no commits",
            "make a first commit: "
            + output.command("git", "-C", source, "commit", "--allow-empty", "-m", "initial commit"),
        )
    base_commit = found[base_ref]
    assert base_commit is not None
    on_branch = found[branch_ref]

    registered = registered_at(common_dir, target)
    if registered and registered.unfinished:  # whatever its folder holds, or if it has none yet
        return Checkout(label, source, common_dir, target, branch, base_ref, base_commit, TAKE_UP, trash)
    _drop_empty_dot_git(target)
    if _empty_folder(target):
        pass  # git makes the folder first: a run killed right after left nothing else in it
    elif os.path.lexists(target):
        if registered and registered.branch == branch_ref:
            if not links.link_of(target, common_dir).whole:
                raise BuildersError(
                    f"{label}: {target} is {source}'s worktree, but its link is broken at one end",
                    f"repair it: {output.command('git', '-C', source, 'worktree', 'repair', target)}; "
                    "then run the same command again",
                )
            return Checkout(label, source, common_dir, target, branch, base_ref, base_commit, PRESENT, trash)
        raise BuildersError(
            f"{label}: {target} already exists and is not {source}'s worktree on {branch}",
            f"move it away or pick another builder name (look first: {output.command('ls', '-la', target)})",
        )
    action = CREATE
    if on_branch is not None:
        if on_branch != resumable and not own_branch:
            raise BranchTaken(label, source, branch, base_ref)
        action, base_commit = REUSE_BRANCH, on_branch
    if changes is not None and action == CREATE:
        _check_dirty(label, source, base_ref, changes())
    return Checkout(label, source, common_dir, target, branch, base_ref, base_commit, action, trash)


def _check_dirty(label: str, source: Path, base_ref: str, dirty: list[str]) -> None:
    """Uncommitted changes in the source are never copied into the new worktree. With a branch for a
    base that is plain (the builder starts from the branch's last commit, whatever the checkout
    holds), so it is only said. With a default base of `HEAD` (a detached checkout, no branch to
    name) the checkout's state is all that says what the base is, and its changes might be taken
    for part of it: refuse until the base is given explicitly."""
    if not dirty:
        return
    listed = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
    if base_ref != "HEAD":
        output.say(
            f"note: {label}: {source} has uncommitted changes ({listed}); they stay there: the new worktree"
            f" starts from {short_ref(base_ref)}'s last commit"
        )
        return
    spell = interface.option("--base", "BASE", "HEAD")
    if label != ROOT:
        spell = interface.option("--repos", "REPOS", f"{label}:HEAD")
    raise BuildersError(
        f"{label}: {source} has uncommitted changes ({listed}), a detached HEAD and no base was given",
        f"commit or stash them, or choose the base explicitly ({spell}); the changes are not copied",
    )


def clear_stillborn(common_dir: Path) -> list[Path]:
    """Remove what a `git worktree add` of ours left when killed in its first moments: an admin dir
    with our mark in `locked` but no `commondir` written yet (an empty one makes every `git worktree`
    command of the repository fail), and the `.git` file in the new folder that names it. Nothing in
    them is anyone's work; the caller holds the repository lock, so no git of ours is writing them.
    The admin dirs cleared."""
    cleared: list[Path] = []
    for folder in links.admin_dirs(common_dir):
        with contextlib.suppress(OSError):
            written = os.stat(os.path.join(folder, "commondir"))
            if stat.S_ISREG(written.st_mode) and written.st_size > 0:
                continue
        if links.read(os.path.join(folder, "locked")) != git.CREATING_MARK:
            continue
        admin = Path(folder)
        pointer = links.read(admin / "gitdir")
        dot_git = Path(pointer) if pointer and os.path.isabs(pointer) else None
        if dot_git is not None and links.read(dot_git) in ("", f"gitdir: {admin}"):  # git creates it empty
            dot_git.unlink()
        shutil.rmtree(admin)
        cleared.append(admin)
    return cleared


def registered_at(common_dir: Path, target: Path) -> git.Worktree | None:
    """The entry git has for a worktree at `target`, from the admin dirs alone: the one its `.git`
    file names, when the link holds at both ends; else the one whose `gitdir` names `target/.git` (a
    worktree whose folder is gone, or that git never finished); else None.

    No git process: `git worktree list` resolves the HEAD of every worktree of the repository, which
    at a thousand builders costs more than all the rest of making one. `head` is left None.
    """
    entry = links.entry_of(target, common_dir)
    if entry is not None:
        return entry
    wanted = os.path.normpath(target / ".git")
    for admin in links.admin_dirs(common_dir):
        pointer = links.read(os.path.join(admin, "gitdir"))
        if pointer and (pointer == wanted or os.path.normpath(os.path.join(admin, pointer)) == wanted):
            return links.entry_in(Path(admin), target, prunable=not os.path.lexists(wanted))
    return None


def _drop_empty_dot_git(folder: Path) -> None:
    """A folder holding nothing but an empty `.git` file: a git killed just after it created the file
    left it (it writes the file's one line next). It names no repository and holds nothing."""
    dot_git = folder / ".git"
    alone = folder.is_dir() and not folder.is_symlink() and [p.name for p in folder.iterdir()] == [".git"]
    if alone and dot_git.is_file() and not dot_git.is_symlink() and dot_git.stat().st_size == 0:
        dot_git.unlink()


def _empty_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _drop_empty_folders(top: Path) -> None:
    """Remove the empty folders in `top`, bottom up (and `top` itself once empty); nothing else."""
    if not top.is_dir() or top.is_symlink():
        return
    for folder, dirs, _ in os.walk(top, topdown=False):
        for name in dirs:
            inner = Path(folder, name)
            if _empty_folder(inner):
                inner.rmdir()
    if _empty_folder(top):
        top.rmdir()


class BranchTaken(BuildersError):
    """The branch a new worktree would be made on exists already in its repository."""

    def __init__(self, label: str, source: Path, branch: str, base_ref: str):
        # A branch that is checked out somewhere or is the base (with branch_prefix "", `new main`
        # names the root's main) is someone's work: never suggest deleting it.
        branch_ref = f"refs/heads/{branch}"
        self.in_use = base_ref in (branch, branch_ref) or any(w.branch == branch_ref for w in git.worktrees(source))
        self.label, self.source, self.branch = label, source, branch
        self.delete = output.command("git", "-C", source, "branch", "-d", branch)
        if self.in_use:
            hint = f"pick another builder name: {branch} is checked out or is the base, not a leftover builder branch"
        else:
            hint = f"pick another builder name, or delete the branch if it holds nothing: {self.delete}"
        super().__init__(f"{label}: branch {branch} already exists in {source}", hint)


def apply(checkout: Checkout) -> None:
    """Make the worktree, check its link at both ends, and only then mark it complete."""
    if checkout.action == PRESENT:
        return
    with repository_lock(checkout.common_dir):
        # A git stopped while it made or moved the branch may have left its lock, even where the
        # worktree itself was finished.
        git.drop_stale_branch_lock(checkout.common_dir, checkout.branch)
        if checkout.action != TAKE_UP or not _complete(checkout):
            new_branch = checkout.action == CREATE
            if checkout.action == TAKE_UP:
                _set_aside(checkout)
                branch_ref = f"refs/heads/{checkout.branch}"
                new_branch = git.resolve_commits(checkout.source, [branch_ref])[branch_ref] is None
            try:
                if checkout.sparse is None:
                    git.add_worktree(
                        checkout.source, checkout.target, checkout.branch, checkout.base_commit, new_branch=new_branch
                    )
                else:
                    git.add_sparse_worktree(
                        checkout.source,
                        checkout.target,
                        checkout.branch,
                        checkout.base_commit,
                        checkout.sparse,
                        new_branch=new_branch,
                    )
            except git.GitFailed as exc:  # git's own words say what; the hint, where to look
                hooks = git.config_value(checkout.source, "core.hooksPath")
                exc.hint = exc.hint or (
                    "fix what git says (a failing post-checkout hook"
                    + (f" in core.hooksPath {output.command(hooks)}" if hooks else " of the repository")
                    + "? a full disk?), then run the same command again"
                )
                raise
        link = links.link_of(checkout.target, checkout.common_dir)
        if not link.whole or link.admin is None:
            raise BuildersError(
                f"{checkout.label}: git made {checkout.target}, but its link does not hold at both ends",
                f"look: {output.command('git', '-C', checkout.source, 'worktree', 'list', '--porcelain')}; "
                "then run the same command again",
            )
        git.finish_worktree(link.admin)


def _complete(checkout: Checkout) -> bool:
    """Whether an unfinished worktree is whole all the same (its run was killed after git was done)."""
    if not links.link_of(checkout.target, checkout.common_dir).whole:
        return False
    if git.checked_out_branch(checkout.target) != f"refs/heads/{checkout.branch}":
        return False
    return git.is_clean(checkout.target)


def _set_aside(checkout: Checkout) -> None:
    """Move a half-made worktree into the trash and drop its admin entry: git wrote CREATING_MARK on
    it, so this toolkit made it, and it was never handed to anyone; its files stay in the trash."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = checkout.trash / f"{checkout.target.parent.parent.name}-{checkout.label}-half-made-{stamp}"
    if checkout.label == ROOT:
        aside = checkout.trash / f"{checkout.target.name}-half-made-{stamp}"
    if os.path.lexists(checkout.target):  # git may have been killed before it made the folder
        aside.parent.mkdir(parents=True, exist_ok=True)
        checkout.target.rename(aside)
        output.say(f"  {checkout.label}: a killed run left {checkout.target} half-made; set aside in {aside}")
    git.remove_fresh_worktree(checkout.source, checkout.target)  # the folder is gone: only the entry goes


def undo(checkout: Checkout) -> list[str]:
    """Take back what apply() made, and only that; what could not be undone is returned as text.

    Also safe after a failed apply, which may have made the worktree (a failing hook) or not.
    """
    if not checkout.created_here:
        return []
    left: list[str] = []
    with repository_lock(checkout.common_dir):
        clear_stillborn(checkout.common_dir)
        registered = registered_at(checkout.common_dir, checkout.target)
        if registered and (registered.unfinished or registered.branch == f"refs/heads/{checkout.branch}"):
            nested = checkout.target / REPOS
            _drop_empty_folders(nested)  # what a git stopped by a signal can leave of a nested worktree
            if nested.is_dir() and any(nested.iterdir()):
                left.append(f"{checkout.target} (still holds {nested}: left in place)")
                return left
            try:
                git.remove_fresh_worktree(checkout.source, checkout.target)
            except BuildersError as exc:
                left.append(f"{checkout.target} ({exc.message})")
                return left
        elif _empty_folder(checkout.target):
            checkout.target.rmdir()  # git made it, then was stopped before anything else
        if checkout.action == CREATE:
            branch_ref = f"refs/heads/{checkout.branch}"
            at = git.resolve_commits(checkout.source, [branch_ref])[branch_ref]
            if at == checkout.base_commit:
                git.drop_stale_branch_lock(checkout.common_dir, checkout.branch)
                gone = git.delete_ref_if_at(checkout.source, branch_ref, checkout.base_commit)
                if gone.returncode != 0:
                    left.append(f"branch {checkout.branch} in {checkout.source} ({gone.stderr.strip()})")
            elif at is not None:
                left.append(f"branch {checkout.branch} in {checkout.source} (it has moved on: kept)")
    return left
