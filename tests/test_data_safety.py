"""Data safety as a property: whatever mix of work a builder holds, `remove` either refuses with all
of it intact or, with --force, the archive refs hold exactly what was there."""

from __future__ import annotations

from itertools import count
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Builders, builders_dir
from workspace_builders.gitlayer import git

WORKTREES = ("root", "alpha")
KINDS = ("edit", "untracked", "commit", "stash")
EXAMPLES = count()
work = st.lists(st.tuples(st.sampled_from(WORKTREES), st.sampled_from(KINDS), st.integers(0, 3)), max_size=6)


def apply(builder: Path, mix: list[tuple[str, str, int]]) -> None:
    for step, (where, kind, n) in enumerate(mix):
        tree = builder if where == "root" else builder / "repos" / where
        if kind == "edit":
            (tree / "README.md").write_text(f"edited {n}\n")
        elif kind == "untracked":
            (tree / f"new-{n}.txt").write_text(f"new {n}\n")
        elif kind == "commit":
            (tree / f"committed-{n}.txt").write_text(f"committed at step {step}\n")
            git.run(tree, "add", "--", f"committed-{n}.txt")
            git.run(tree, "commit", "-q", "-m", f"commit {n}", "--", f"committed-{n}.txt")
        else:
            (tree / "README.md").write_text(f"stashed {n}\n")
            git.run(tree, "stash", "push", "-q", "-m", f"stash {n}", "--", "README.md")


def snapshot(tree: Path) -> dict[str, bytes]:
    """The files a worktree holds (tracked or untracked, not ignored), with their content."""
    listed = git.run(tree, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return {p: (tree / p).read_bytes() for p in sorted(set(filter(None, listed.split("\0")))) if (tree / p).is_file()}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mix=work, force=st.booleans())
def test_remove_loses_nothing(root: Path, builders: Builders, mix: list[tuple[str, str, int]], force: bool) -> None:
    name = f"safe{next(EXAMPLES)}"  # a name of its own per example: nothing carries over
    assert builders("new", name, "--repos", "alpha").code == 0, "setup"
    builder = builders_dir(root) / name
    apply(builder, mix)
    trees = {"root": (root, builder), "alpha": (root / "repos/alpha", builder / "repos/alpha")}
    before = {label: snapshot(path) for label, (_, path) in trees.items()}
    heads = {label: git.run(path, "rev-parse", "HEAD").strip() for label, (_, path) in trees.items()}
    stashes = {label: git.run(repo, "stash", "list") for label, (repo, _) in trees.items()}
    dirty = {label: bool(git.status_entries(path)) for label, (_, path) in trees.items()}

    result = builders("remove", name, *(["--force"] if force else []))

    if any(dirty.values()) and not force:
        assert result.code == 1, result.err
        assert {label: snapshot(path) for label, (_, path) in trees.items()} == before  # all intact
        return
    assert result.code == 0, result.err
    assert not builder.exists()
    for label, (repo, _) in trees.items():
        assert git.run(repo, "stash", "list") == stashes[label]  # stashes live in the repository
        assert _reachable(repo, heads[label])  # its commits: on the kept branch, or its base has them
        refs = git.run(repo, "for-each-ref", "--format=%(refname)", f"refs/builders/archive/{name}/").split()
        if dirty[label]:
            assert len(refs) == 1, refs
            archived = refs[0]
            files = git.run(repo, "ls-tree", "-r", "-z", "--name-only", archived).split("\0")
            saved = {p: git.run(repo, "cat-file", "blob", f"{archived}:{p}").encode() for p in filter(None, files)}
            assert saved == before[label]  # exactly what was there


def _reachable(repo: Path, commit: str) -> bool:
    return bool(git.run(repo, "for-each-ref", "--contains", commit, "--format=%(refname)").strip())
