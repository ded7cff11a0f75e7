"""The workspace root: finding it from anywhere inside, its paths, its repos and its builders folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.gitlayer import git

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from workspace_builders.model.config import Config

REPOS = "repos"
ROOT = "root"  # the label of a builder's own worktree (of the workspace root), beside repo names
TRASH = ".trash"


@dataclass(frozen=True)
class Workspace:
    root: Path  # resolved path of the root's main worktree
    common_dir: Path  # the root's git common dir

    @cached_property
    def config(self) -> Config:
        """workspaces.yaml and workspaces.local.yaml, loaded and checked at the CLI boundary before
        any command acts (`commands.base.find_workspace`), so a broken file stops every command."""
        from workspace_builders.model import config

        return config.load(self.root)

    @property
    def repos_dir(self) -> Path:
        return self.root / REPOS

    @property
    def builders_dir(self) -> Path:
        return (self.root / self.config.builders_dir.replace("{root}", self.root.name)).resolve()

    @property
    def admin_dir(self) -> Path:
        """Where state and locks live: inside the root's git dir, shared by every worktree."""
        return self.common_dir / "builders"

    @property
    def trash_dir(self) -> Path:
        """Where prune and creation set aside what they may not delete."""
        return self.builders_dir / TRASH

    def builder_path(self, name: str) -> Path:
        return self.builders_dir / name

    def branch(self, name: str) -> str:
        return self.config.branch_prefix + name

    def clone(self, repo: str) -> Path:
        return self.repos_dir / repo

    def known_repos(self) -> list[str]:
        if self.config.repos is not None:
            return list(self.config.repos)
        if not self.repos_dir.is_dir():
            return []
        return sorted(p.name for p in self.repos_dir.iterdir() if (p / ".git").exists())

    def clones(self) -> list[Path]:
        """Every git repository under repos/, declared or not."""
        if not self.repos_dir.is_dir():
            return []
        return [p for p in sorted(self.repos_dir.iterdir()) if (p / ".git").is_dir()]

    def require_repos_dir(self) -> None:
        if not self.repos_dir.is_dir():
            raise bad_input(
                f"the workspace root has no {REPOS}/ folder: {self.repos_dir}",
                f"{output.command('mkdir', self.repos_dir)} && "
                f"{output.command('git', 'clone', 'URL', self.repos_dir / 'NAME')}  (or: builders repos sync)",
            )

    def require_repos_ignored(self) -> None:
        if not git.is_ignored(self.root, f"{REPOS}/"):
            raise bad_input(
                f"{REPOS}/ is not ignored in {self.root}: clones would show up as embedded repositories",
                f"{output.command('echo', f'{REPOS}/')} >> {output.command(self.root / '.gitignore')} && "
                + output.command("git", "-C", self.root, "commit", "-m", f"ignore {REPOS}/", ".gitignore"),
            )

    def check_builders_dir(self) -> None:
        """Refuse a builders folder inside the root or a clone (the deprecated nested layout), and one
        that holds the root or the home folder: prune and remove act on what is in it."""
        where = self.builders_dir
        if os.path.lexists(where) and not (where.is_dir() and not where.is_symlink()):
            raise bad_input(
                f"builders folder {where} is not a folder (a file or a symlink is in the way)",
                f"move it away: {output.command('mv', where, f'{where}.old')}",
            )
        if self.root.is_relative_to(where) or where == Path.home().resolve():
            raise bad_input(
                f"builders folder {where} contains the workspace root or is the home folder",
                'set builders.dir to a folder of its own in workspaces.yaml, e.g. dir: "../{root}.builders"',
            )
        inside = [self.root] + [self.clone(r).resolve() for r in self.known_repos()]
        for tree in inside:
            if where == tree or where.is_relative_to(tree):
                raise bad_input(
                    f"builders folder {where} is inside {tree} (the deprecated nested layout)",
                    'set builders.dir to a sibling folder in workspaces.yaml, e.g. dir: "../{root}.builders"',
                )


@dataclass(frozen=True)
class Location:
    workspace: Workspace
    worktree: Path  # the worktree of the root that holds the starting point: the root or a builder

    @property
    def in_builder(self) -> bool:
        return self.worktree != self.workspace.root


def discover(start: Path) -> Location:
    """Find the workspace from the root, from inside a builder or from inside a nested repo worktree."""
    found = git.locate(start)
    if found is None:
        raise bad_input(
            f"not inside a workspace: {start} is in no git repository",
            "cd into your workspace root (a git repo with a repos/ folder) or one of its builders",
        )
    main = _main_worktree(found)
    if main.parent.name == REPOS and (main.parent.parent / ".git").exists():
        # Inside a clone, or a nested worktree of one: the workspace is one level up.
        top = found.toplevel
        outer = main.parent.parent if top == main else top.parent.parent
        if top != main and top.parent.name != REPOS:
            raise bad_input(f"{top} is a worktree of {main} outside any builder", "cd into a builder or the root")
        return discover(outer)
    root = main.resolve()
    workspace = Workspace(root, found.common_dir.resolve())
    return Location(workspace, found.toplevel.resolve())


def _main_worktree(found: git.RepoLocation) -> Path:
    if found.common_dir.name == ".git":
        return found.common_dir.parent
    return git.worktrees(found.toplevel)[0].path


def start_folder() -> Path:
    """The folder a command starts from: the current one, or, when that was deleted under the shell
    (an agent that removed the builder it stood in), the nearest existing folder of the workspace it
    was in, made current and named on stderr."""
    try:
        return Path(os.getcwd())
    except FileNotFoundError:
        pass
    gone = _deleted_cwd()
    hint = "cd into your workspace root or one of its builders, then run the command again"
    if gone is None:
        raise bad_input("the current folder no longer exists", hint)
    nearest = next(p for p in (gone, *gone.parents) if p.is_dir())  # "/" always exists
    folder = _workspace_folder(nearest)
    if folder is None:
        raise bad_input(f"the current folder {gone} no longer exists, and {nearest} is in no workspace", hint)
    os.chdir(folder)  # git and scripts started from here need a current folder that exists
    output.say(f"note: the current folder {gone} no longer exists; working from {folder}")
    return folder


def _deleted_cwd() -> Path | None:
    """Where the deleted current folder was: $PWD (the path the shell knows), unless it is stale
    (set by a parent that changed folder without updating it), then what Linux still records."""
    logical = os.environ.get("PWD", "")
    try:
        physical = os.readlink("/proc/self/cwd").removesuffix(" (deleted)")
    except OSError:
        physical = ""
    if os.path.isabs(logical) and (not physical or not os.path.isdir(logical)):
        return Path(logical)
    return Path(physical) if os.path.isabs(physical) else None


def _workspace_folder(nearest: Path) -> Path | None:
    """`nearest` when it is inside a git worktree; the workspace root when `nearest` is in that
    root's builders folder (a removed builder's parent lies outside every repository); else None."""
    if git.locate(nearest) is not None:
        return nearest
    for folder in (nearest, *nearest.parents):
        root = folder.parent / folder.name.removesuffix(".builders")
        if root != folder and (root / ".git").exists():
            try:
                found = discover(root).workspace
                return found.root if found.builders_dir == folder.resolve() else None
            except BuildersError:
                return None
    return None
