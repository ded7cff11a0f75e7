"""One worktree of one repository on its own branch: planned, applied, and undone.

Both the builder (a worktree of the root) and each nested repo worktree are a Checkout; creation of
a builder is a list of them, planned before any is applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from workspace_builders import git
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.locks import repository_lock

CREATE = "create"  # new branch at the base, new worktree
REUSE_BRANCH = "reuse-branch"  # the branch an interrupted run made, new worktree
PRESENT = "present"  # already there: nothing to do

ORIGIN_HEAD = "refs/remotes/origin/HEAD"


@dataclass(frozen=True)
class Checkout:
    label: str  # "root" or the repo's name
    source: Path  # the repository's main worktree (the root, or a clone)
    common_dir: Path
    target: Path
    branch: str
    base_ref: str
    base_commit: str
    action: str

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
    resumable: str | None = None,
) -> Checkout:
    """Decide what creating `target` on `branch` takes; refuse what cannot be done safely.

    `bases` are candidates, the first that names a commit wins. `explicit` says the user chose the
    base, which lifts the refusal of a dirty source. `resumable` is the commit an interrupted run of
    this builder left `branch` at, if any: such a branch is taken up again rather than refused.
    """
    branch_ref = f"refs/heads/{branch}"
    found = git.resolve_commits(source, [*bases, branch_ref])
    base_ref = next((b for b in bases if found[b]), None)
    if base_ref is None:
        if explicit:
            raise bad_input(
                f"{label}: base {bases[0]!r} names no commit in {source}",
                f"check it with: git -C {source} log -1 {bases[0]}  (fetch it, or name another base)",
            )
        raise bad_input(
            f"{label}: {source} has no commits",
            f'make a first commit: git -C {source} commit --allow-empty -m "initial commit"',
        )
    base_commit = found[base_ref]
    assert base_commit is not None
    on_branch = found[branch_ref]

    if os.path.lexists(target):
        registered = next((w for w in git.worktrees(source) if w.path == target), None)
        if registered and registered.branch == branch_ref:
            return Checkout(label, source, common_dir, target, branch, base_ref, base_commit, PRESENT)
        raise BuildersError(
            f"{label}: {target} already exists and is not {source}'s worktree on {branch}",
            f"move it away or pick another builder name (look first: ls -la {target})",
        )
    action = CREATE
    if on_branch is not None:
        if on_branch != resumable:
            raise BuildersError(
                f"{label}: branch {branch} already exists in {source}", _taken_branch_hint(source, branch, base_ref)
            )
        action, base_commit = REUSE_BRANCH, on_branch
    if not explicit and action == CREATE:
        dirty = git.changed_tracked_files(source)
        if dirty:
            listed = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
            spell = "--base HEAD" if label == "root" else f"REPOS={label}:HEAD"
            raise BuildersError(
                f"{label}: {source} has uncommitted changes ({listed}) and no base was given",
                f"commit or stash them, or choose the base explicitly ({spell}); the changes are not copied",
            )
    return Checkout(label, source, common_dir, target, branch, base_ref, base_commit, action)


def _taken_branch_hint(source: Path, branch: str, base_ref: str) -> str:
    # A branch that is checked out somewhere or is the base (with branch_prefix "", `new main`
    # names the root's main) is someone's work: never suggest deleting it.
    branch_ref = f"refs/heads/{branch}"
    if base_ref in (branch, branch_ref) or any(w.branch == branch_ref for w in git.worktrees(source)):
        return f"pick another builder name: {branch} is checked out or is the base, not a leftover builder branch"
    return f"pick another builder name, or delete the branch if it holds nothing: git -C {source} branch -d {branch}"


def apply(checkout: Checkout) -> None:
    if checkout.action == PRESENT:
        return
    with repository_lock(checkout.common_dir):
        git.add_worktree(
            checkout.source,
            checkout.target,
            checkout.branch,
            checkout.base_commit,
            new_branch=checkout.action == CREATE,
        )


def undo(checkout: Checkout) -> list[str]:
    """Take back what apply() made, and only that; what could not be undone is returned as text.

    Also safe after a failed apply, which may have made the worktree (a failing hook) or not.
    """
    if not checkout.created_here:
        return []
    left: list[str] = []
    with repository_lock(checkout.common_dir):
        registered = next((w for w in git.worktrees(checkout.source) if w.path == checkout.target), None)
        if registered and registered.branch == f"refs/heads/{checkout.branch}":
            nested = checkout.target / "repos"
            if nested.is_dir() and any(nested.iterdir()):
                left.append(f"{checkout.target} (still holds {nested}: left in place)")
                return left
            try:
                git.remove_fresh_worktree(checkout.source, checkout.target)
            except BuildersError as exc:
                left.append(f"{checkout.target} ({exc.message})")
                return left
        if checkout.action == CREATE:
            branch_ref = f"refs/heads/{checkout.branch}"
            at = git.resolve_commits(checkout.source, [branch_ref])[branch_ref]
            if at == checkout.base_commit:
                git.delete_branch_at(checkout.source, checkout.branch, checkout.base_commit)
            elif at is not None:
                left.append(f"branch {checkout.branch} in {checkout.source} (it has moved on: kept)")
    return left
