"""The base of a repository (the root or a clone): one rule for creation, `list` and `status`.

A repository's default base is the LOCAL branch that `origin/HEAD` names (`main` for `origin/main`),
else the branch its main worktree has checked out, else (a detached HEAD) `HEAD` itself; the config's
`repos.<r>.base` or a `name:base` given by the user wins over it. The local branch is what `land`
moves and `sync` rebases onto, so a builder made after a land that was not pushed starts from what
landed, and everything counts ahead/behind against the same tip. When that local branch and its
remote-tracking branch differ, a note says so (nothing is fetched or moved to make them agree).

A recorded base_ref stands for a local branch in the same way (`local_branch`): a branch is itself,
`HEAD` the branch checked out now, a remote-tracking ref (`origin/HEAD` through its symref) the local
branch of the same name; a tag or a commit stands for no branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workspace_builders.gitlayer import git

HEADS = "refs/heads/"
REMOTES = "refs/remotes/"
ORIGIN_HEAD = "refs/remotes/origin/HEAD"
_FORMAT = "%(HEAD)%00%(refname)%00%(objectname)%00%(symref)%00%(upstream:short)%00%(upstream:track,nobracket)"


@dataclass(frozen=True)
class Branches:
    """What one `git for-each-ref` says of a repository's local and remote-tracking branches."""

    current: str | None  # the branch its main worktree has checked out (refs/heads/...), None if detached
    tips: dict[str, str]  # refname -> commit
    symrefs: dict[str, str]  # e.g. refs/remotes/origin/HEAD -> refs/remotes/origin/main
    tracking: dict[str, tuple[str, str]]  # local branch -> (its upstream, git's "ahead 1, behind 2" or "")

    def default_base(self) -> str:
        """The rule: origin/HEAD's local branch, else the current branch, else HEAD."""
        named = self.symrefs.get(ORIGIN_HEAD, "")
        if named.startswith(f"{REMOTES}origin/"):
            local = HEADS + named.removeprefix(f"{REMOTES}origin/")
            if local in self.tips:
                return local
        return self.current or "HEAD"

    def local_branch(self, recorded: str) -> str | None:
        """The local branch (refs/heads/...) a base ref stands for; None for a tag or a commit."""
        if recorded == "HEAD":
            return self.current
        for full in (recorded, f"refs/{recorded}", HEADS + recorded, REMOTES + recorded):
            if full.startswith("refs/tags/"):
                return None
            full = self.symrefs.get(full, full)
            if full in self.tips and full.startswith(HEADS):
                return full
            if full in self.tips and full.startswith(REMOTES):
                branch = full.removeprefix(REMOTES).partition("/")[2]
                return HEADS + branch if HEADS + branch in self.tips else None
        return None

    def remote_note(self, branch: str) -> str | None:
        """`main is 2 commit(s) behind origin/main`, when a local branch and its upstream differ."""
        upstream, track = self.tracking.get(branch, ("", ""))
        counts = dict(part.split(" ", 1) for part in track.split(", ") if " " in part)  # {"ahead": "1", ...}
        ahead, behind = counts.get("ahead"), counts.get("behind")
        short = branch.removeprefix(HEADS)
        if ahead and behind:
            return f"{short} and {upstream} have diverged ({ahead} and {behind} commit(s) of their own)"
        if behind:
            return f"{short} is {behind} commit(s) behind {upstream}"
        if ahead:
            return f"{short} is {ahead} commit(s) ahead of {upstream}"
        return None


def started(repo: Path) -> Callable[[], Branches]:
    """Start reading `repo`'s branches; call the result to wait for them (several repos side by side)."""
    wait = git.branches_started(repo, _FORMAT, HEADS, REMOTES)

    def branches() -> Branches:
        current = None
        tips: dict[str, str] = {}
        symrefs: dict[str, str] = {}
        tracking: dict[str, tuple[str, str]] = {}
        for line in wait().splitlines():
            mark, ref, sha, symref, upstream, track = line.split("\0")
            tips[ref] = sha
            if symref:
                symrefs[ref] = symref
            if mark == "*":
                current = ref
            if upstream:
                tracking[ref] = (upstream, track)
        return Branches(current, tips, symrefs, tracking)

    return branches


def read(repo: Path) -> Branches:
    return started(repo)()
