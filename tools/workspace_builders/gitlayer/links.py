"""The link between a linked worktree and its repository, checked at both ends.

The worktree's `.git` file names an admin dir `<common dir>/worktrees/<id>`, and that dir's `gitdir`
file names the `.git` file back. Only when both hold is the folder that repository's worktree; a
folder whose link holds at one end only was moved, copied, or left half-made.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from workspace_builders.gitlayer import git
from workspace_builders.gitlayer.git import CREATING_MARK, Worktree

# What git (2.45 and later) writes in a HEAD file of a repository whose refs are in a reftable.
REFTABLE_STUB = "ref: refs/heads/.invalid"


@dataclass(frozen=True)
class Link:
    admin: Path | None  # the admin dir the worktree's .git file names, if it names one in common_dir
    # (it may be gone: git's prune, or a hand, took it away)
    names_back: bool  # and that admin dir names the worktree back

    @property
    def whole(self) -> bool:
        return self.admin is not None and self.names_back

    @property
    def finished(self) -> bool:
        """Whole, and not still marked as being made (git.CREATING_MARK)."""
        return self.whole and self.admin is not None and read(self.admin / "locked") != CREATING_MARK


def read(path: Path | str) -> str | None:
    """A small file of git's, stripped; None when it is not a plain file (a symlink, a folder, a fifo:
    never followed, never waited on). Plain system calls: a scan of a thousand admin dirs reads one
    such file in each."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENXIO):  # none there, or a symlink
            return None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = [os.read(fd, 65536)]
        while len(chunks[-1]) == 65536:  # a plain file read short is read to its end
            chunks.append(os.read(fd, 65536))
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", errors="surrogateescape").strip()


def link_of(worktree: Path, common_dir: Path) -> Link:
    dot_git = worktree / ".git"
    text = read(dot_git)
    if text is None or not text.startswith("gitdir: "):
        return Link(None, False)
    admin = (worktree / text.removeprefix("gitdir: ")).resolve()  # absolute, or relative to the worktree
    if admin.parent != (common_dir / "worktrees").resolve():
        return Link(None, False)
    back = read(admin / "gitdir")
    names_back = back is not None and (admin / back).resolve() == dot_git.resolve()
    return Link(admin, names_back)


def entry_of(worktree: Path, common_dir: Path) -> Worktree | None:
    """What `git worktree list` says of `worktree`, read from its admin dir alone: None unless its link
    holds at both ends (then git lists it at this path too). One worktree's files, however many
    worktrees the repository has; `head` is left None when HEAD names a branch (it would take a git
    call to resolve)."""
    link = link_of(worktree, common_dir)
    if not link.whole or link.admin is None:
        return None
    return entry_in(link.admin, worktree, prunable=False)


def entry_in(admin: Path, worktree: Path, prunable: bool) -> Worktree:
    """The entry that admin dir `admin` makes git list for `worktree`."""
    head = head_in(admin)
    branch = head.removeprefix("ref: ") if head.startswith("ref: refs/") else None
    locked = admin / "locked"
    reason = (read(locked) or "") if os.path.lexists(locked) else None  # git: locked if it exists
    return Worktree(worktree, None if branch else head or None, branch, reason, prunable)


def common_dir_named_by(worktree: Path) -> Path | None:
    """The common dir of the repository whose admin dir `worktree`'s `.git` file names (that admin
    dir's `commondir`); None when either file is missing or says nothing of the kind."""
    text = read(worktree / ".git")
    if text is None or not text.startswith("gitdir: "):
        return None
    admin = worktree / text.removeprefix("gitdir: ")
    pointer = read(admin / "commondir")
    return (admin / pointer).resolve() if pointer else None


def checked_out_anywhere(common_dir: Path, branch: str, besides: Path) -> bool:
    """Whether `branch` (refs/heads/...) is the HEAD of a worktree of the repository other than the one
    at `besides` (see worktrees_on)."""
    return any(w.resolve() != besides.resolve() for w in worktrees_on(common_dir, common_dir.parent, branch))


def checkout_of(common_dir: Path, main_worktree: Path, branch: str) -> Path | None:
    """The worktree where `branch` (refs/heads/...) is checked out, or None (see worktrees_on)."""
    return next(iter(worktrees_on(common_dir, main_worktree, branch)), None)


def worktrees_on(common_dir: Path, main_worktree: Path, branch: str) -> list[Path]:
    """The worktrees that have `branch` (refs/heads/...) checked out: the main worktree's HEAD and each
    admin dir's, read as `git worktree list` reads them (small files, no git process however many
    worktrees there are). A checkout missed would have its branch moved or deleted under its files:
    where a file is not as git writes it (a reftable's stub, a symlink, one being written), git is asked."""
    wanted, main_head = f"ref: {branch}", read(common_dir / "HEAD")
    admins = admin_dirs(common_dir)
    heads = [read(os.path.join(admin, "HEAD")) for admin in admins]
    pointers = [
        read(os.path.join(admin, "gitdir")) if head == wanted else "" for admin, head in zip(admins, heads, strict=True)
    ]
    if main_head in (None, REFTABLE_STUB) or None in heads or None in pointers:
        listed = [w.path for w in git.worktrees(common_dir) if w.branch == branch]
        # A clone made with --separate-git-dir: git names its main worktree by the git dir.
        return [main_worktree if w.resolve() == common_dir.resolve() else w for w in listed]
    found = [main_worktree] if main_head == wanted else []
    return found + [
        Path(os.path.normpath(os.path.join(admin, pointer))).parent
        for admin, pointer in zip(admins, pointers, strict=True)
        if pointer
    ]


def head_in(git_dir: Path) -> str:
    """A worktree's HEAD as its file in `git_dir` (its admin dir, or the common dir for the main
    worktree) says it: `ref: refs/heads/x`, or a commit id; "" when there is none. A repository that
    keeps its refs in a reftable leaves only a stub there (`ref: refs/heads/.invalid`): git is asked."""
    head = read(git_dir / "HEAD") or ""
    return git.head_of_git_dir(git_dir) if head == REFTABLE_STUB else head


def admin_dirs(common_dir: Path) -> list[str]:
    """What `<common dir>/worktrees` holds (git's admin dirs), in name order: one directory read, so
    that a look at a thousand of them is a small file read in each."""
    try:
        with os.scandir(common_dir / "worktrees") as found:
            return sorted(e.path for e in found)
    except (FileNotFoundError, NotADirectoryError):
        return []
