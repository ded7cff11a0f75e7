"""`builders remove`: refuses whenever work would be lost; --force archives exactly that work first."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git


@pytest.fixture
def builder(root: Path, builders: Builders) -> Path:
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    return builders_dir(root) / "x"


def branches(repo: Path) -> list[str]:
    return git.run(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


@pytest.mark.quick
def test_clean_builder_goes_with_its_empty_branches(root: Path, builder: Path, builders: Builders) -> None:
    result = builders("remove", "x", "--json")
    assert result.code == 0, result.err
    assert not builder.exists()
    for repo in (root, root / "repos/alpha", root / "repos/beta"):
        assert "builder/x" not in branches(repo)
        assert len(git.worktrees(repo)) == 1
    assert not (root / ".git/builders/state/x.json").exists()
    removed = list((root / ".git/builders/removed").glob("x.*.json"))
    assert len(removed) == 1 and json.loads(removed[0].read_text())["archive_refs"] == {}
    document = json.loads(result.out)
    assert document["removed"] is True
    assert [w["label"] for w in document["worktrees"]] == ["alpha", "beta", "root"]


@pytest.mark.parametrize(
    ("where", "change", "said"),
    [
        ("repos/alpha", "edit", "1 uncommitted or untracked: README.md"),
        ("repos/beta", "untracked", "new-file.txt"),
        (".", "untracked", "new-file.txt"),
        ("repos/alpha", "staged", "staged.txt"),
        ("repos/beta", "delete", "README.md"),
    ],
)
def test_work_at_risk_is_refused_and_nothing_changes(
    builder: Path, builders: Builders, unchanged: Unchanged, where: str, change: str, said: str
) -> None:
    tree = builder / where
    if change == "edit":
        (tree / "README.md").write_text("edited\n")
    elif change == "untracked":
        (tree / "new-file.txt").write_text("new\n")
    elif change == "staged":
        (tree / "staged.txt").write_text("s\n")
        git.run(tree, "add", "staged.txt")
    else:
        (tree / "README.md").unlink()
    with unchanged():
        result = builders("remove", "x")
        dry = builders("remove", "x", "--dry-run")
    assert result.code == 1
    assert said in result.err
    assert "nothing was changed" in result.err and "--force" in result.err
    assert dry.code == 1 and said in dry.out


@pytest.mark.quick
def test_commits_on_the_branch_are_kept_not_lost(root: Path, builder: Path, builders: Builders) -> None:
    (builder / "repos/alpha/feature.txt").write_text("work\n")
    work = commit(builder / "repos/alpha", "unpushed work")
    result = builders("remove", "x")
    assert result.code == 0, result.err
    assert "kept branch in alpha: builder/x" in result.out
    assert git.run(root / "repos/alpha", "rev-parse", "builder/x").strip() == work
    assert "builder/x" not in branches(root / "repos/beta")  # nothing there: deleted


def test_a_branch_that_moved_after_the_judge_looked_is_kept(root: Path, builder: Path) -> None:
    """A branch is deleted only at the tip the judge saw: a commit made on it since is never lost."""
    from workspace_builders.engine.removal import clean_branch
    from workspace_builders.engine.removal_judge import check, find_members
    from workspace_builders.model import state
    from workspace_builders.model.workspace import discover

    ws = discover(root).workspace
    alpha = next(m for m in find_members(ws, builder) if m.label == "alpha")
    check(alpha)
    assert alpha.head == git.head_commit(builder / "repos/alpha") and not alpha.problems
    (builder / "repos/alpha/late.txt").write_text("made after the look\n")
    late = commit(builder / "repos/alpha", "late work")
    why = clean_branch(ws, "x", alpha, state.load(ws, "x"))
    assert why == "builder/x (it moved while being removed: kept)"
    assert git.run(root / "repos/alpha", "rev-parse", "builder/x").strip() == late


def test_merged_branch_is_deleted(root: Path, builder: Path, builders: Builders) -> None:
    (builder / "notes.md").write_text("n\n")
    commit(builder, "notes")
    git.run(root, "merge", "--quiet", "--ff-only", "builder/x")
    assert builders("remove", "x").code == 0
    assert "builder/x" not in branches(root)


def test_keep_branches(root: Path, builder: Path, builders: Builders) -> None:
    assert builders("remove", "x", "--keep-branches").code == 0
    assert "builder/x" in branches(root) and "builder/x" in branches(root / "repos/beta")


def test_detached_head_with_unreachable_commits(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    nested = builder / "repos/beta"
    git.run(nested, "switch", "--quiet", "--detach")
    (nested / "lost.txt").write_text("only here\n")
    lost = commit(nested, "on a detached head")
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1 and "detached HEAD with commits no ref reaches" in result.err
    result = builders("remove", "x", "--force")
    assert result.code == 0, result.err
    ref = git.run(root / "repos/beta", "for-each-ref", "--format=%(refname)", "refs/builders/archive/x").strip()
    assert git.is_ancestor(root / "repos/beta", lost, ref)


def test_locked_worktree_is_refused_then_forced(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    git.run(root / "repos/alpha", "worktree", "lock", "--reason", "agent busy", str(builder / "repos/alpha"))
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1 and "locked" in result.err
    assert builders("remove", "x", "--force").code == 0
    assert not builder.exists()


def test_force_archives_exactly_what_was_there(root: Path, builder: Path, builders: Builders) -> None:
    nested = builder / "repos/alpha"
    (nested / "README.md").write_text("edited, not committed\n")
    (nested / "src/pkg00/module00000.py").unlink()
    (nested / "notes").mkdir()
    (nested / "notes/idea.txt").write_text("untracked idea\n")
    (nested / "staged.txt").write_text("staged\n")
    git.run(nested, "add", "staged.txt")
    index_before = (root / "repos/alpha/.git/worktrees/alpha/index").read_bytes()
    expected = {
        str(p.relative_to(nested)): p.read_bytes() for p in nested.rglob("*") if p.is_file() and p.name != ".git"
    }
    head = git.run(nested, "rev-parse", "HEAD").strip()
    result = builders("remove", "x", "--force")
    assert result.code == 0, result.err
    assert index_before  # the user's index was never touched while the snapshot was made
    refs = git.run(root / "repos/alpha", "for-each-ref", "--format=%(refname)", "refs/builders/archive/x").split()
    assert len(refs) == 1
    assert git.run(root / "repos/alpha", "rev-parse", f"{refs[0]}^").strip() == head
    listed = git.run(root / "repos/alpha", "ls-tree", "-r", "--name-only", refs[0]).split("\n")
    assert sorted(p for p in listed if p) == sorted(expected)
    for rel, data in expected.items():
        assert git.run(root / "repos/alpha", "show", f"{refs[0]}:{rel}").encode() == data
    # beta had nothing to lose: no archive there
    assert git.run(root / "repos/beta", "for-each-ref", "refs/builders") == ""
    # the printed recovery command works as printed
    line = next(line for line in result.err.splitlines() if "get it back with:" in line)
    command = line.split("get it back with: ", 1)[1]
    subprocess.run(shlex.split(command), check=True, capture_output=True)
    for rel, data in expected.items():
        assert (nested / rel).read_bytes() == data


def test_ignored_files_do_not_block(root: Path, builder: Path, builders: Builders) -> None:
    (root / "repos/alpha/.git/info").mkdir(exist_ok=True)
    with (root / "repos/alpha/.git/info/exclude").open("a") as out:
        out.write("node_modules/\n")
    (builder / "repos/alpha/node_modules").mkdir()
    (builder / "repos/alpha/node_modules/x.js").write_text("1")
    assert builders("remove", "x").code == 0


def test_stray_content_under_repos_is_never_deleted(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    stray = builder / "repos/own-clone"
    git.run(builder / "repos", "clone", "--quiet", str(root / "repos/gamma"), "own-clone")
    (stray / "precious.txt").write_text("mine\n")
    for flags in ([], ["--force"]):
        with unchanged():
            result = builders("remove", "x", *flags)
        assert result.code == 1, result.err
        assert "repos/own-clone: not a worktree this toolkit can remove" in result.err
    assert (stray / "precious.txt").read_text() == "mine\n"


def test_symlink_swapped_builder_is_refused(root: Path, builder: Path, builders: Builders, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.txt").write_text("keep me\n")
    moved = tmp_path / "moved-builder"
    builder.rename(moved)
    os.symlink(precious, builder)
    result = builders("remove", "x", "--force")
    assert result.code == 1 and "symlink" in result.err
    assert (precious / "data.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("target", ["/", "root", "clone", "home", "outside", "inside-root"])
def test_path_guards(root: Path, builder: Path, builders: Builders, tmp_path: Path, target: str) -> None:
    """A state file can be edited by hand: whatever path it names, removal must not follow it blindly."""
    paths = {
        "/": "/",
        "root": str(root),
        "clone": str(root / "repos/alpha"),
        "home": str(Path.home().parent),
        "outside": str(tmp_path / "elsewhere"),
        "inside-root": str(root / "sub"),
    }
    (tmp_path / "elsewhere").mkdir()
    state_file = root / ".git/builders/state/x.json"
    record = json.loads(state_file.read_text())
    record["path"] = paths[target]
    state_file.write_text(json.dumps(record))
    before = {p: sorted(os.listdir(p)) for p in (root, root / "repos/alpha", tmp_path)}
    result = builders("remove", "x", "--force")
    assert result.code == 1
    assert "refusing to remove" in result.err or "not a registered worktree" in result.err
    assert {p: sorted(os.listdir(p)) for p in before} == before


def test_unknown_builder(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("remove", "ghost")
    assert result.code == 2 and "no builder named 'ghost'" in result.err


def test_archive_script_runs_and_its_failure_is_not_fatal(root: Path, builder: Path, builders: Builders) -> None:
    (root / "workspaces.local.yaml").write_text("scripts:\n  archive: 'echo archiving $BUILDER_NAME; exit 3'\n")
    result = builders("remove", "x")
    assert result.code == 0
    assert "archiving x" in result.err and "archive script failed with exit 3" in result.err
    assert not builder.exists()


def test_branch_checked_out_elsewhere_is_kept(root: Path, builder: Path, builders: Builders) -> None:
    clone = root / "repos/alpha"
    git.run(clone, "checkout", "-q", "--ignore-other-worktrees", "builder/x")
    result = builders("remove", "x")
    assert result.code == 0, result.err
    assert "builder/x (checked out elsewhere)" in result.out
    assert git.run(clone, "branch", "--show-current").strip() == "builder/x"
    assert "builder/x" in branches(clone)
    assert "builder/x" not in branches(root / "repos/beta")  # the others went as usual


def test_ignored_files_are_named_deleted_not_archived(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.yaml").write_text('copy: [".env.local"]\n')
    commit(root, "copy .env.local")
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text(".env.local\n*.tmp\nnode_modules/\n")
    (root / ".env.local").write_text("SECRET=1\n")
    (root / "repos/alpha/.git/info").mkdir(exist_ok=True)
    (root / "repos/alpha/.git/info/exclude").write_text("node_modules/\n")
    assert builders("new", "w", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "w"
    assert (builder / ".env.local").read_text() == "SECRET=1\n"  # copied in: can be copied again
    for i in range(10):
        (builder / f"a{i}.tmp").write_text("scratch\n")
    (builder / "node_modules").mkdir()
    (builder / "node_modules/x.js").write_text("1")
    (builder / "repos/alpha/node_modules").mkdir()
    (builder / "repos/alpha/node_modules/y.js").write_text("1")
    said_root = (
        f"warning: root ({builder}): {{}} with the builder, not archived: "
        "a0.tmp, a1.tmp, a2.tmp, a3.tmp, a4.tmp, a5.tmp, a6.tmp, a7.tmp (and 3 more)"
    )
    said_alpha = f"warning: alpha ({builder / 'repos/alpha'}): {{}} with the builder, not archived: node_modules/"
    with unchanged():
        planned = builders("remove", "w", "--dry-run", "--json")
    assert planned.code == 0, planned.err
    assert said_root.format("would be deleted") in planned.err.splitlines()
    assert said_alpha.format("would be deleted") in planned.err.splitlines()
    ignored = {w["label"]: w["ignored"] for w in json.loads(planned.out)["worktrees"]}
    assert ignored == {
        "alpha": ["node_modules/"],
        "root": [".env.local", *(f"a{i}.tmp" for i in range(10)), "node_modules/"],
    }
    removed = builders("remove", "w", "--force")
    assert removed.code == 0, removed.err
    assert said_root.format("deleted") in removed.err.splitlines()
    assert said_alpha.format("deleted") in removed.err.splitlines()
    assert ".env.local" not in removed.err
    assert not builder.exists()
    assert not git.run(root, "for-each-ref", "refs/builders/archive")


def test_restore_dry_run_shows_what_would_come_back_and_changes_nothing(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    alpha = builders_dir(root) / "x/repos/alpha"
    (alpha / "notes.txt").write_text("archived, then back\n")
    assert builders("remove", "x", "--force").code == 0
    with unchanged():
        plan = builders("restore", "x", "--dry-run")
    assert plan.code == 0, plan.err
    assert "plan to restore builder x (dry run: nothing changed)" in plan.out
    alpha_row = next(line for line in plan.out.splitlines() if line.startswith("alpha "))
    assert "builder/x" in alpha_row and "full" in alpha_row and "uncommitted again (" in alpha_row
    assert not alpha.exists()
    assert builders("restore", "x").code == 0
    assert (alpha / "notes.txt").read_text() == "archived, then back\n"
    with unchanged():
        refused = builders("restore", "x", "--dry-run")  # it exists: refused as the restore would be
    assert refused.code == 1 and "error: builder 'x' exists" in refused.err


def _write_when_archived(repo: Path, writes: dict[Path, str]) -> None:
    """A reference-transaction hook in `repo` that, as the archive ref is written, writes each file of
    `writes`: a session still at work in the builder while `remove --force` goes on."""
    lines = "".join(f"  printf %s {shlex.quote(text)} > {shlex.quote(str(path))}\n" for path, text in writes.items())
    hook = repo / ".git/hooks/reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        '#!/bin/sh\n[ "$1" = committed ] || exit 0\nif grep -q refs/builders/archive; then\n' + lines + "fi\nexit 0\n"
    )
    hook.chmod(0o755)


def test_work_made_while_remove_force_runs_is_never_deleted(root: Path, builder: Path, builders: Builders) -> None:
    """remove --force saves what it judged; what a session writes after that, in a worktree judged
    clean (beta, the builder itself) or in one already archived (alpha), is kept or saved, never
    deleted unsaved."""
    (builder / "repos/alpha/README.md").write_text("judged edit\n")
    late = {
        builder / "repos/beta/late.txt": "beta work made during the removal\n",
        builder / "late.txt": "root work made during the removal\n",
        builder / "repos/alpha/late.txt": "alpha work made after its archive\n",
    }
    _write_when_archived(root / "repos/alpha", late)
    first = builders("remove", "x", "--force")
    assert first.code != 0, first.out + first.err  # it cannot both remove and keep what came late
    for repo, path in ((root / "repos/beta", "late.txt"), (root, "late.txt"), (root / "repos/alpha", "late.txt")):
        text = late[(builder if repo == root else builder / "repos" / repo.name) / path]
        on_disk = (builder if repo == root else builder / "repos" / repo.name) / path
        refs = git.run(repo, "for-each-ref", "--format=%(refname)", "refs/builders/archive/x/").split()
        saved = [ref for ref in refs if git.attempt(repo, "show", f"{ref}:{path}").stdout == text]
        assert (on_disk.is_file() and on_disk.read_text() == text) or saved, (repo, first.out, first.err)
    (root / "repos/alpha/.git/hooks/reference-transaction").unlink()
    again = builders("remove", "x", "--force")
    assert again.code == 0, again.out + again.err
    for repo in (root, root / "repos/alpha", root / "repos/beta"):
        refs = git.run(repo, "for-each-ref", "--format=%(refname)", "refs/builders/archive/x/").split()
        assert any(git.attempt(repo, "show", f"{ref}:late.txt").returncode == 0 for ref in refs), repo


def test_a_repository_made_in_an_archived_worktree_while_remove_force_runs_is_never_deleted(
    root: Path, builder: Path, builders: Builders
) -> None:
    """A git repository no archive can hold, made in a worktree after its work was saved, stops the
    removal as it would have before: with --force too."""
    (builder / "repos/alpha/README.md").write_text("judged edit\n")
    late = builder / "repos/alpha/vendor/lib"
    hook = root / "repos/alpha/.git/hooks/reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        '#!/bin/sh\n[ "$1" = committed ] || exit 0\nif grep -q refs/builders/archive; then\n'
        f"  git init --quiet {shlex.quote(str(late))} && echo mine > {shlex.quote(str(late / 'own.txt'))}\n"
        "fi\nexit 0\n"
    )
    hook.chmod(0o755)
    first = builders("remove", "x", "--force")
    assert first.code != 0, first.out + first.err
    assert (late / ".git").is_dir() and (late / "own.txt").read_text() == "mine\n"
