"""Generate a sample workspace: a root with the templates committed, and clones of local upstreams.

    python scripts/sample_workspace.py DIR [--repos ai-dev,domain-apis,k8s-lab] [--files 20]

Layout made under DIR: upstream/<repo> (the "remote" each clone's origin points at) and
workspace-root/ with repos/<repo> clones. No network. Used by the demo, the benchmarks and tests.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from workspace_builders.commands.scaffold import scaffold
from workspace_builders.gitlayer import git
from workspace_builders.model.workspace import discover

DEFAULT_REPOS = ("ai-dev", "domain-apis", "k8s-lab")
IDENTITY = ("-c", "user.name=Sample Author", "-c", "user.email=sample@example.com")
ROOT_NAME = "workspace-root"


def make_repo(path: Path, files: int, label: str) -> None:
    """A repository at `path` with `files` small files spread over a few folders, one commit."""
    path.mkdir(parents=True)
    git.run(path, "init", "--quiet", "--initial-branch=main")
    (path / "README.md").write_text(f"# {label}\n", encoding="utf-8")
    for index in range(files):
        folder = path / "src" / f"pkg{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"module{index:05d}.py").write_text(
            f'"""{label} module {index}."""\n\nVALUE = {index}\n\n\ndef value() -> int:\n    return VALUE\n',
            encoding="utf-8",
        )
    commit_all(path, f"{label}: initial commit")


def commit_all(path: Path, message: str) -> None:
    git.run(path, "add", "--all")
    git.run(path, *IDENTITY, "commit", "--quiet", "--message", message)


def make_workspace(
    parent: Path, repos: Sequence[str] = DEFAULT_REPOS, files: int = 20, scaffolded: bool = True
) -> Path:
    """Make parent/workspace-root with cloned repos (and the templates, unless not `scaffolded`); returns the root."""
    root = parent / ROOT_NAME
    root.mkdir(parents=True)
    git.run(root, "init", "--quiet", "--initial-branch=main")
    (root / "README.md").write_text("# A sample workspace root\n", encoding="utf-8")
    if scaffolded:
        scaffold(discover(root), dry_run=False, hooks=False, quiet=True)
    commit_all(root, "workspace root with workspace-builders templates" if scaffolded else "workspace root")
    (root / "repos").mkdir()
    for name in repos:
        upstream = parent / "upstream" / name
        make_repo(upstream, files, name)
        git.run(root / "repos", "clone", "--quiet", "--", str(upstream), name)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--repos", default=",".join(DEFAULT_REPOS))
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args(argv)
    if args.dir.exists() and any(args.dir.iterdir()):
        print(f"error: {args.dir} is not empty", file=sys.stderr)
        return 2
    root = make_workspace(args.dir.resolve(), [r for r in args.repos.split(",") if r], args.files)
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
