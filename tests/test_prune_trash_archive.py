"""`prune --empty-trash`: trash is not a shredder. Work in a trashed builder is archived before it goes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import Builders, builders_dir
from workspace_builders.gitlayer import git


def trashed_builder(root: Path, builders: Builders, name: str) -> Path:
    """A builder `name` with alpha, made an orphan (its admin entry deleted) and moved to the trash."""
    assert builders("new", name, "--repos", "alpha").code == 0
    shutil.rmtree(root / ".git/worktrees" / name)
    before = set((builders_dir(root) / ".trash").glob("*"))
    result = builders("prune")
    assert result.code == 0 and "trashed:" in result.out, result.err
    (entry,) = set((builders_dir(root) / ".trash").glob("*")) - before
    return entry


def archive_refs(repo: Path, name: str) -> list[str]:
    out = git.run(repo, "for-each-ref", "--format=%(refname)", f"refs/builders/archive/{name}/")
    return out.split()


def test_work_in_a_trashed_builder_is_archived_before_it_is_deleted(root: Path, builders: Builders) -> None:
    entry = trashed_builder(root, builders, "x")
    (entry / "README.md").write_text("edited in the builder\n")
    (entry / "notes.txt").write_text("untracked in the builder\n")
    nested = entry / "repos/alpha"
    (nested / "README.md").write_text("edited in alpha\n")
    (nested / "wip.txt").write_text("untracked in alpha\n")
    nested_head = git.run(nested, "rev-parse", "HEAD").strip()

    result = builders("prune", "--empty-trash", "--older-than", "0d", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["emptied"] == [str(entry)]
    assert len(document["archived"]) == 2
    assert not entry.exists()

    (root_ref,) = archive_refs(root, "x")
    assert git.run(root, "show", f"{root_ref}:README.md") == "edited in the builder\n"
    assert git.run(root, "show", f"{root_ref}:notes.txt") == "untracked in the builder\n"
    assert "repos" not in git.run(root, "ls-tree", "--name-only", root_ref).split()  # ignored: each repo has its own
    alpha = root / "repos/alpha"
    (alpha_ref,) = archive_refs(alpha, "x")
    assert git.run(alpha, "show", f"{alpha_ref}:README.md") == "edited in alpha\n"
    assert git.run(alpha, "show", f"{alpha_ref}:wip.txt") == "untracked in alpha\n"
    assert git.run(alpha, "rev-parse", f"{alpha_ref}^").strip() == nested_head
    # the nested worktree's admin entry went with it
    assert [w.path for w in git.worktrees(alpha)] == [alpha]


def test_a_clean_nested_worktree_needs_no_archive(root: Path, builders: Builders) -> None:
    trashed_builder(root, builders, "x")
    result = builders("prune", "--empty-trash", "--older-than", "0d")
    assert result.code == 0, result.err
    assert archive_refs(root / "repos/alpha", "x") == []
    assert len(archive_refs(root, "x")) == 1  # the builder's own link is gone: saved as the folder is


def test_an_entry_that_cannot_be_archived_is_kept_and_others_go_on(root: Path, builders: Builders) -> None:
    stuck = trashed_builder(root, builders, "stuck")
    (stuck / "repos/stray").mkdir()
    (stuck / "repos/stray/only-copy.txt").write_text("precious\n")  # not a worktree: nothing can archive it
    other = trashed_builder(root, builders, "other")
    result = builders("prune", "--empty-trash", "--older-than", "0d")
    assert result.code == 1
    assert f"error: kept {stuck} in the trash: its work could not be archived" in result.err
    assert "repos/stray: not a worktree" in result.err and "hint: move what you want to keep out of" in result.err
    assert (stuck / "repos/stray/only-copy.txt").read_text() == "precious\n"
    assert (stuck / "repos/alpha/.git").is_file()
    assert not other.exists()


def test_an_unlinked_trashed_builder_keeps_bytes_and_refuses_a_nested_repository(
    root: Path, builders: Builders
) -> None:
    entry = trashed_builder(root, builders, "u")
    (entry / "windows.txt").write_bytes(b"one\r\ntwo\r\n")
    (entry / ".gitattributes").write_text("* text=auto\n")
    scratch = entry / "scratch"
    git.run(entry, "init", "--quiet", str(scratch))
    (scratch / "own.txt").write_text("its own\n")
    git.run(scratch, "add", "own.txt")
    git.run(scratch, "commit", "--quiet", "-m", "only here")
    result = builders("prune", "--empty-trash", "--older-than", "0d")
    assert result.code == 1
    assert "scratch: a git repository inside (move it out first)" in result.err
    assert (scratch / "own.txt").read_text() == "its own\n" and entry.is_dir()
    shutil.rmtree(scratch)
    result = builders("prune", "--empty-trash", "--older-than", "0d")
    assert result.code == 0, result.err
    (ref,) = archive_refs(root, "u")
    assert git.blob_bytes(root, git.run(root, "rev-parse", f"{ref}:windows.txt").strip()) == b"one\r\ntwo\r\n"


def test_a_repository_inside_a_trashed_nested_worktree_is_never_deleted(root: Path, builders: Builders) -> None:
    entry = trashed_builder(root, builders, "n")
    nested = entry / "repos/alpha"  # still linked to its clone: judged by the removal judge
    (root / "repos/alpha/.git/info").mkdir(exist_ok=True)
    (root / "repos/alpha/.git/info/exclude").write_text("vendor/\n")
    inner = nested / "vendor/lib"
    git.run(nested, "init", "--quiet", str(inner))
    (inner / "own.txt").write_text("its own\n")
    git.run(inner, "add", "own.txt")
    git.run(inner, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "only here")
    head = git.run(inner, "rev-parse", "HEAD").strip()
    result = builders("prune", "--empty-trash", "--older-than", "0d")
    assert result.code == 1
    assert f"error: kept {entry} in the trash: its work could not be archived" in result.err
    assert "vendor/lib: a git repository or worktree inside the worktree" in result.err
    assert git.run(inner, "rev-parse", "HEAD").strip() == head and (inner / "own.txt").read_text() == "its own\n"
    assert archive_refs(root, "n") == [] and archive_refs(root / "repos/alpha", "n") == []
