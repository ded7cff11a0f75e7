"""`builders hook pre-commit`: refuse commits that would break the workspace layout.

Looks only at what is staged, in the index the commit is made from (git passes a temporary one in
GIT_INDEX_FILE for `git commit -a` and `git commit <paths>`).
"""

from __future__ import annotations

import os
from pathlib import Path

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError
from workspace_builders.commands.base import Command
from workspace_builders.gitlayer import git
from workspace_builders.model.workspace import REPOS, Location, Workspace

GITIGNORE = ".gitignore"


def pre_commit(location: Location) -> int:
    ws, worktree = location.workspace, location.worktree
    given = os.environ.get("GIT_INDEX_FILE")
    index_file = (Path.cwd() / given) if given else None  # git may pass it relative to the hook's folder
    staged = git.staged_changes(worktree, index_file)
    problems: list[str] = []
    unstage: list[str] = []
    for change in staged:
        if change.status == "D":
            continue  # taking something out is always fine
        if change.path.startswith(f"{REPOS}/"):
            what = "a clone (gitlink)" if change.mode == git.GITLINK else "a file"
            problems.append(f"{change.path}: {what} under {REPOS}/, where the clones live")
            unstage.append(change.path)
    for folder in _nested_folders(ws):
        inside = [c.path for c in staged if c.status != "D" and (c.path + "/").startswith(folder)]
        if inside:
            problems.append(f"{folder}: a builders folder inside the root ({len(inside)} staged path(s))")
            unstage.append(folder.rstrip("/"))
    hints = []
    if unstage:
        # prose first and the command after it, as in every hint, so the command pastes as printed
        unstage_them = output.command(*_unstage_command(worktree), "--", *unstage)
        hints.append(f"unstage them (the files stay on disk): {unstage_them}")
    if any(c.path == GITIGNORE for c in staged) and _stops_ignoring_repos(worktree, index_file):
        problems.append(f"{GITIGNORE}: the change stops ignoring {REPOS}/ (clones would be committed as gitlinks)")
        hints.append(f"keep a '{REPOS}/' line in {GITIGNORE}, then: git add {GITIGNORE}")
    if not problems:
        return 0
    raise BuildersError(
        "this commit would break the workspace layout:\n  " + "\n  ".join(problems),
        " ; ".join(hints),
    )


def _unstage_command(worktree: Path) -> tuple[str, ...]:
    # Both leave the files on disk; only the first commit has no HEAD to reset to.
    return ("git", "reset", "--quiet") if git.has_commits(worktree) else ("git", "rm", "-r", "--cached", "--quiet")


def _nested_folders(ws: Workspace) -> list[str]:
    """Folders inside the root that hold builders: a configured builders folder, nested worktrees."""
    inside = [ws.builders_dir, *(w.path.resolve() for w in git.worktrees(ws.root)[1:])]
    return sorted({f"{p.relative_to(ws.root).as_posix()}/" for p in inside if p.is_relative_to(ws.root)})


def _stops_ignoring_repos(worktree: Path, index_file: Path | None) -> bool:
    """Whether the staged .gitignore, as committed, no longer ignores repos/ where HEAD's did.

    git answers (as `new` and `verify` ask it), from the file's content alone: info/exclude and
    core.excludesFile are this machine's, and do not travel with the commit.
    """
    before = git.file_text(worktree, f"HEAD:{GITIGNORE}")
    if before is None or not git.gitignore_ignores(before, f"{REPOS}/"):
        return False
    after = git.file_text(worktree, f":{GITIGNORE}", index_file)
    return after is None or not git.gitignore_ignores(after, f"{REPOS}/")


class PreCommit(Command):
    DESCRIPTION = "what git's pre-commit hook runs: refuse a commit that would break the workspace layout"

    def main(self) -> int:
        return pre_commit(self.location())
