"""Add many builders to a sample workspace quickly: plain `git worktree add` in a loop, plus the state
file `builders new` would have written. For the scale test and the benchmarks; the builders are the
same as `new` makes (same layout, branches, bases and state), only without copy-in or setup.

    python scripts/many_builders.py ROOT COUNT [--prefix m]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from workspace_builders.base import parallel
from workspace_builders.gitlayer import git
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState, RepoState
from workspace_builders.model.workspace import discover

ORIGIN_HEAD = "refs/remotes/origin/HEAD"


def add_builders(root: Path, count: int, prefix: str = "m", copied: bool = False) -> list[str]:
    """`count` ready builders named PREFIX0000... with every repo under repos/; their names.

    The root's worktrees first, then each clone makes its own in a thread of its own (git serialises
    nothing across repositories). `copied`: git makes the first worktree of each repository, the
    others are copies of it laid out as git lays out a worktree (admin dir, `.git` file, branch),
    a hundred times faster than a `git worktree add` each, for tests that count rather than time."""
    ws = discover(root).workspace
    clones = ws.clones()
    names = [f"{prefix}{index:04d}" for index in range(count)]
    tips = {root: git.run(root, "rev-parse", "HEAD").strip()}
    tips |= {clone: git.run(clone, "rev-parse", ORIGIN_HEAD).strip() for clone in clones}

    def target(repository: Path, name: str) -> Path:
        return ws.builder_path(name) if repository == root else ws.builder_path(name) / "repos" / repository.name

    def add(repository: Path, name: str) -> None:
        where = str(target(repository, name))
        git.run(
            repository, "worktree", "add", "--quiet", "--no-track", "-b", ws.branch(name), "--", where, tips[repository]
        )

    def add_all(repository: Path) -> None:
        if not copied:
            for name in names:
                add(repository, name)
            return
        add(repository, names[0])
        template = target(repository, names[0])
        admin = Path(git.run(template, "rev-parse", "--absolute-git-dir").strip())
        creates = "".join(f"create refs/heads/{ws.branch(name)} {tips[repository]}\n" for name in names[1:])
        git.run(repository, "update-ref", "--stdin", input=creates)
        for name in names[1:]:
            _copy_worktree(
                template, admin, target(repository, name), admin.parent / f"{admin.name}.{name}", ws.branch(name)
            )

    if names:
        add_all(root)  # first: a builder's folder must be its root worktree before repos go in it
        for _, outcome in parallel.each(clones, add_all):
            if isinstance(outcome, BaseException):
                raise outcome
    for name in names:
        branch = ws.branch(name)
        repos = [RepoState(c.name, str(target(c, name)), branch, ORIGIN_HEAD, tips[c]) for c in clones]
        record = BuilderState(
            name, str(target(root, name)), branch, "HEAD", tips[root], status=state.READY, repos=repos
        )
        # The file `state.save` writes, without its fsyncs: a thousand of them would cost minutes.
        path = state.state_file(ws, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record.to_json(), indent=2) + "\n", encoding="utf-8")
    return names


def _copy_worktree(template: Path, template_admin: Path, target: Path, admin: Path, branch: str) -> None:
    """A worktree at `target` on `branch`, its files and index those of `template` (same commit)."""
    shutil.copytree(template, target, ignore=shutil.ignore_patterns(".git", "repos"), dirs_exist_ok=True)
    admin.mkdir()
    shutil.copy2(template_admin / "index", admin / "index")
    (admin / "commondir").write_text("../..\n", encoding="utf-8")
    (admin / "HEAD").write_text(f"ref: refs/heads/{branch}\n", encoding="utf-8")
    (admin / "gitdir").write_text(f"{target / '.git'}\n", encoding="utf-8")
    (target / ".git").write_text(f"gitdir: {admin}\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("root", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--prefix", default="m")
    parser.add_argument("--copied", action="store_true", help="copy worktrees rather than git worktree add each")
    args = parser.parse_args()
    add_builders(args.root.resolve(), args.count, args.prefix, args.copied)
    return 0


if __name__ == "__main__":
    sys.exit(main())
