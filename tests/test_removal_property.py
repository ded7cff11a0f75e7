"""The removal judge as a property: whatever a worktree holds (tracked edits, untracked, ignored and
staged files, a file staged under an ignored path, a nested repository, skip-worktree edits, a
sparse cone, amended or rebased history, CRLF bytes), `remove` either refuses with nothing changed,
or removes, and `restore` gives back every file that was not ignored, byte for byte; `--force`
likewise, or it refuses with nothing changed (a nested repository)."""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Builders, builders_dir, commit, snapshot
from test_removal_judge import files_of
from workspace_builders.gitlayer import git

KINDS = (
    "edit",
    "untracked",
    "ignored",
    "staged",
    "staged-ignored",
    "nested-repo",
    "skip-worktree",
    "sparse",
    "amend",
    "amend-content",
    "rebase",
    "crlf",
)
EXAMPLES = count()
work = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 2)), max_size=5)


def apply(root: Path, tree: Path, mix: list[tuple[str, int]]) -> list[str]:
    """Make the mix in `tree` (a builder's alpha); the commits only its reflog keeps that are work."""
    must_keep: list[str] = []
    for step, (kind, n) in enumerate(mix):
        if kind == "edit":
            (tree / "README.md").write_text(f"edited {step}\n")
        elif kind == "untracked":
            (tree / f"new/{n}").mkdir(parents=True, exist_ok=True)
            (tree / f"new/{n}/file.txt").write_text(f"new {step}\n")
        elif kind == "ignored":
            (tree / f"scratch-{n}.log").write_text(f"ignored {step}\n")
        elif kind == "staged":
            (tree / f"staged-{n}.txt").write_text(f"staged {step}\n")
            git.run(tree, "add", "--", f"staged-{n}.txt")
        elif kind == "staged-ignored":
            (tree / f"forced-{n}.log").write_text(f"forced {step}\n")
            git.run(tree, "add", "-f", "--", f"forced-{n}.log")
        elif kind == "nested-repo":
            nested = tree / f"vendored-{n}"
            if not nested.exists():
                git.run(tree, "init", "--quiet", str(nested))
                (nested / "own.txt").write_text("its own\n")
                commit(nested, "its own commit")
        elif kind == "skip-worktree":
            target = next(p for p in sorted((tree / "src").rglob("*.py")))
            git.run(tree, "update-index", "--skip-worktree", "--", target.relative_to(tree).as_posix())
            target.write_text(f"hidden edit {step}\n")
        elif kind == "sparse":
            git.run(tree, "sparse-checkout", "set", "--no-cone", "/*", "!/src/pkg01/")
            (tree / "src/pkg01").mkdir(parents=True, exist_ok=True)
            (tree / "src/pkg01/outside.txt").write_text(f"outside the cone {step}\n")
        elif kind in ("amend", "amend-content"):
            # The builder's name in it: a patch no other example's branch has.
            (tree / f"amended-{step}.txt").write_text(f"first in {tree.parent.parent.name}\n")
            first = commit_only(tree, f"amended-{step}.txt", f"to amend {step}")
            if kind == "amend-content":
                (tree / f"amended-{step}.txt").write_text("second\n")
                git.run(tree, "add", "--", f"amended-{step}.txt")
                must_keep.append(first)
            git.run(tree, "commit", "--quiet", "--amend", "-m", f"amended {step}", "--", f"amended-{step}.txt")
        elif kind == "rebase":
            if git.run(tree, "status", "--porcelain", "--untracked-files=no").strip():
                continue  # rebase wants a clean tree; the mix goes on
            (tree / f"rebased-{step}.txt").write_text("mine\n")
            commit_only(tree, f"rebased-{step}.txt", f"to rebase {step}")
            clone = root / "repos/alpha"
            (clone / f"main-{tree.parent.parent.name}-{step}.txt").write_text("main moved\n")
            onto = commit(clone, f"main moves {step}")
            git.run(tree, "rebase", "--quiet", onto)
        else:
            (tree / f"crlf-{n}.txt").write_bytes(f"line {step}\r\nnext\r\n".encode())
    return must_keep


def commit_only(tree: Path, path: str, message: str) -> str:
    """Commit this one file (a sparse cone or staged work elsewhere in the tree left as they are)."""
    git.run(tree, "add", "--sparse", "--", path)
    git.run(tree, "commit", "--quiet", "-m", message, "--", path)
    return git.run(tree, "rev-parse", "HEAD").strip()


def wanted(tree: Path) -> dict[str, bytes]:
    """Its files, but the untracked ignored ones (named and deleted by removal, never archived)."""
    ignored = set(git.run(tree, "ls-files", "-z", "--others", "--ignored", "--exclude-standard").split("\0"))
    return {k: v for k, v in files_of(tree).items() if k not in ignored}


# A longer hunt, by hand: REMOVAL_PROPERTY_EXAMPLES=200 pytest tests/test_removal_property.py
EXAMPLE_COUNT = int(os.environ.get("REMOVAL_PROPERTY_EXAMPLES", "8"))


@settings(
    max_examples=EXAMPLE_COUNT,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mix=work)
def test_remove_refuses_untouched_or_restore_gives_every_byte_back(
    root: Path, builders: Builders, mix: list[tuple[str, int]]
) -> None:
    name = f"p{next(EXAMPLES)}"  # a builder of its own per example
    assert builders("new", name, "--repos", "alpha").code == 0, "setup"
    tree = builders_dir(root) / name / "repos/alpha"
    (root / "repos/alpha/.git/info").mkdir(exist_ok=True)
    (root / "repos/alpha/.git/info/exclude").write_text("*.log\n")
    must_keep = apply(root, tree, mix)
    before = wanted(tree)
    head = git.run(tree, "rev-parse", "HEAD").strip()

    removed = None
    for flags in ([], ["--force"]):
        everything = snapshot(root.parent)
        attempt = builders("remove", name, *flags)
        if attempt.code == 0:
            removed = attempt
            break
        assert attempt.code == 1, attempt.err
        assert "nothing was changed" in attempt.err
        assert snapshot(root.parent) == everything
    if removed is None:
        assert any(kind == "nested-repo" for kind, _ in mix), "refused even with --force"
        return
    assert not tree.exists()
    for lost in must_keep:
        assert git.run(root / "repos/alpha", "for-each-ref", "--contains", lost), lost
    restored = builders("restore", name)
    assert restored.code == 0, restored.err
    after = files_of(tree)
    assert {k: v for k, v in after.items() if k in before} == before
    assert git.run(tree, "rev-parse", "HEAD").strip() == head
    for extra in set(after) - set(before):  # only what HEAD has: a sparse cone comes back whole
        assert git.run(tree, "cat-file", "blob", f"HEAD:{extra}").encode() == after[extra]
