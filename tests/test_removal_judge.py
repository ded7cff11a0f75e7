"""The removal judge on real repositories: no false refusal after a rebase or an amend, and nothing
that git hides (user config, skip-worktree, staged ignored files, sparse cones, nested repositories,
submodules) is ever deleted. Every byte is either still in place or in an archive `restore` brings
back exactly."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit, edit
from runs import environment
from workspace_builders.gitlayer import git


@pytest.fixture
def builder(root: Path, builders: Builders) -> Path:
    done = builders("new", "x", "--repos", "alpha,beta")
    assert done.code == 0, done.err
    return builders_dir(root) / "x"


def branches(repo: Path) -> list[str]:
    return git.run(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def files_of(tree: Path) -> dict[str, bytes]:
    """Every file under `tree` (ignored ones too, .git left out), with its bytes; a symlink as its target."""
    found: dict[str, bytes] = {}
    for folder, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d != ".git" and not (Path(folder) == tree and d == "repos")]
        for name in names:
            path = Path(folder, name)
            if name == ".git":
                continue
            relative = path.relative_to(tree).as_posix()
            found[relative] = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return found


def archive_refs(repo: Path, name: str = "x") -> list[str]:
    return git.run(repo, "for-each-ref", "--format=%(refname)", f"refs/builders/archive/{name}/").split()


def round_trip(builders: Builders, tree: Path, ignored: tuple[str, ...] = ()) -> None:
    """`remove --force` then `restore` gives back every file of `tree` byte for byte (but the
    ignored ones named, which removal names as deleted and never archives). A file more can only
    be one its HEAD has (a sparse checkout comes back whole)."""
    before = {k: v for k, v in files_of(tree).items() if k not in ignored}
    head = git.run(tree, "rev-parse", "HEAD").strip()
    removed = builders("remove", "x", "--force")
    assert removed.code == 0, removed.err
    assert not tree.exists()
    restored = builders("restore", "x")
    assert restored.code == 0, restored.err
    after = {k: v for k, v in files_of(tree).items() if k not in ignored}
    assert {k: v for k, v in after.items() if k in before} == before
    assert git.run(tree, "rev-parse", "HEAD").strip() == head
    for extra in set(after) - set(before):
        assert git.run(tree, "cat-file", "blob", f"HEAD:{extra}").encode() == after[extra]


# --- no false refusals -------------------------------------------------------------------------


def test_an_amended_commit_is_no_work_and_removal_goes_through(root: Path, builder: Path, builders: Builders) -> None:
    alpha = builder / "repos/alpha"
    (alpha / "feature.txt").write_text("first\n")
    commit(alpha, "feature")
    git.run(alpha, "commit", "--quiet", "--amend", "-m", "feature, better said")
    result = builders("remove", "x")
    assert result.code == 0, result.err
    assert "reflog" not in result.err
    kept = git.run(root / "repos/alpha", "log", "-1", "--format=%s", "builder/x").strip()
    assert kept == "feature, better said"  # the branch with the work stays


def test_an_amend_that_changed_the_content_is_work_named_by_what_made_it(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    alpha = builder / "repos/alpha"
    (alpha / "feature.txt").write_text("first version\n")
    first = commit(alpha, "feature")
    (alpha / "feature.txt").write_text("second version\n")
    git.run(alpha, "commit", "--quiet", "--amend", "-a", "-m", "feature")
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1
    assert f"1 commit tip(s) only the HEAD reflog reaches, with changes on no branch: {first[:10]}" in result.err
    assert "commit: feature" in result.err  # what the reflog says made it, not a guess
    assert builders("remove", "x", "--force").code == 0
    (ref,) = archive_refs(root / "repos/alpha")
    assert git.is_ancestor(root / "repos/alpha", first, ref)


@pytest.mark.parametrize(
    "how", [["sync"], [], ["--squash", "-m", "all of x"]], ids=["synced", "rebased-by-land", "squashed"]
)
def test_land_remove_after_a_rebase_removes_the_builder(
    root: Path, builder: Path, builders: Builders, how: list[str]
) -> None:
    alpha = builder / "repos/alpha"
    (alpha / "feature.txt").write_text("work\n")
    commit(alpha, "alpha work")
    (alpha / "feature.txt").write_text("work, then more\n")
    commit(alpha, "alpha more work")
    (builder / "root-notes.txt").write_text("in the root\n")
    commit(builder, "root work")
    (root / "repos/alpha/other.txt").write_text("main moved\n")
    commit(root / "repos/alpha", "main moves on")
    (root / "shared.txt").write_text("root main moved\n")
    commit(root, "root main moves on")
    if how == ["sync"]:
        assert builders("sync", "x").code == 0  # rebases: the pre-rebase copies stay in the reflog
        how = []
    done = builders("land", "x", *how, "--remove")  # no --force: what the reflog keeps has landed
    assert done.code == 0, done.err
    assert "reflog" not in done.err
    assert not builder.exists()
    assert git.run(root / "repos/alpha", "show", "main:feature.txt") == "work, then more\n"
    assert git.run(root, "show", "main:root-notes.txt") == "in the root\n"
    assert "builder/x" not in branches(root / "repos/alpha") and "builder/x" not in branches(root)
    assert archive_refs(root / "repos/alpha") == [] and archive_refs(root) == []


# Runs the real git; the first `git rebase` first commits on main in $CLONE, as another landing
# would between land's look at the bases and its rebase.
MOVING_GIT = """#!/bin/sh
case " $* " in
  *" rebase --quiet "*) if [ ! -e "$CLONE/.git/moved-once" ]; then
      touch "$CLONE/.git/moved-once"
      (unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE; cd "$CLONE" && echo teammate > teammate.txt &&
       "$REAL_GIT" add teammate.txt && "$REAL_GIT" commit -q -m teammate)
    fi ;;
esac
exec "$REAL_GIT" "$@"
"""


def test_a_squash_landing_retried_after_the_base_moved_removes_without_force(
    root: Path, builder: Path, tmp_path: Path
) -> None:
    import shutil
    import subprocess
    import sys

    alpha, clone = builder / "repos/alpha", root / "repos/alpha"
    (alpha / "feature.txt").write_text("work\n")
    commit(alpha, "alpha work")
    (clone / "first.txt").write_text("main moved\n")
    commit(clone, "main moves on")  # the landing has to rebase
    wrapper = tmp_path / "moving-git"
    wrapper.mkdir()
    (wrapper / "git").write_text(MOVING_GIT)
    (wrapper / "git").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{wrapper}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "REAL_GIT": str(shutil.which("git")),
        "CLONE": str(clone),
    }

    def land() -> subprocess.CompletedProcess[str]:
        args = ["builders", "land", "x", "--squash", "-m", "all of x", "--remove"]
        return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=False, timeout=300)

    done = land()  # its first try finds main moved under the locks, puts back and lands on the next
    assert done.returncode == 0, done.stderr
    assert "moved meanwhile" in done.stderr and "landing again onto the new tip (try 2 of 4)" in done.stderr
    assert "not put back" not in done.stderr  # the squash undone, then the rebase
    assert not builder.exists()
    assert git.run(clone, "log", "-1", "--format=%s", "main").strip() == "all of x"
    assert git.run(clone, "show", "main:feature.txt") == "work\n"
    assert git.run(clone, "show", "main:teammate.txt") == "teammate\n"


def test_a_leftover_whose_tree_has_landed_is_no_work_but_an_empty_commit_is(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    alpha, clone = builder / "repos/alpha", root / "repos/alpha"
    start = git.run(clone, "rev-parse", "main").strip()
    (alpha / "feature.txt").write_text("work\n")
    commit(alpha, "alpha work")
    (clone / "other.txt").write_text("main moved\n")
    commit(clone, "main moves on")
    assert builders("land", "x").code == 0
    landed = git.run(clone, "rev-parse", "main^{tree}").strip()
    # what a squash made on a base that moved meanwhile leaves: the landed tree, on the old base
    stale = git.run(alpha, "commit-tree", "-p", start, "-m", "squashed on a stale base", landed).strip()
    git.run(alpha, "reset", "--quiet", "--hard", stale)
    git.run(alpha, "reset", "--quiet", "--hard", "main")
    assert builders("remove", "x", "--dry-run").code == 0
    git.run(alpha, "commit", "--quiet", "--allow-empty", "-m", "a marker, its message the work")
    marker = git.run(alpha, "rev-parse", "HEAD").strip()
    git.run(alpha, "reset", "--quiet", "--hard", "main")
    with unchanged():
        refused = builders("remove", "x")
    assert refused.code == 1
    assert f"1 commit tip(s) only the HEAD reflog reaches, with changes on no branch: {marker[:10]}" in refused.err
    assert stale[:10] not in refused.err
    # a line that ends where it began (a change, then its revert) has landed nothing: work
    (alpha / "tried.txt").write_text("tried\n")
    commit(alpha, "tried")
    git.run(alpha, "revert", "--no-edit", "HEAD")
    reverted = git.run(alpha, "rev-parse", "HEAD").strip()
    git.run(alpha, "reset", "--quiet", "--hard", "main")
    with unchanged():
        refused = builders("remove", "x")
    assert refused.code == 1 and reverted[:10] in refused.err


def test_a_commit_left_on_a_detached_head_is_work(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    beta = builder / "repos/beta"
    git.run(beta, "switch", "--quiet", "--detach")
    (beta / "lost.txt").write_text("only here\n")
    lost = commit(beta, "on a detached head")
    git.run(beta, "switch", "--quiet", "builder/x")
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1 and f"{lost[:10]} (commit: on a detached head)" in result.err
    assert builders("remove", "x", "--force").code == 0
    (ref,) = archive_refs(root / "repos/beta")
    assert git.is_ancestor(root / "repos/beta", lost, ref)


@pytest.mark.parametrize("kind", ["commit", "annotated tag", "tag of a tag"])
def test_a_commit_only_a_ref_of_the_worktree_itself_reaches_is_work(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged, kind: str
) -> None:
    alpha = builder / "repos/alpha"
    (alpha / "kept.txt").write_text("never on HEAD\n")
    git.run(alpha, "add", "kept.txt")
    tree = git.run(alpha, "write-tree").strip()
    git.run(alpha, "reset", "--quiet")
    (alpha / "kept.txt").unlink()
    made = git.run(alpha, "commit-tree", "-p", "HEAD", "-m", "made by a tool", tree).strip()
    made_or_tag = made
    for _ in range({"commit": 0, "annotated tag": 1, "tag of a tag": 2}[kind]):  # the ref names a tag, ...
        kind_of = "commit" if made_or_tag == made else "tag"
        tag = f"object {made_or_tag}\ntype {kind_of}\ntag keep\ntagger Test <test@example.com> 0 +0000\n\nkeep\n"
        made_or_tag = git.run(alpha, "mktag", input=tag).strip()
    git.run(alpha, "update-ref", "refs/worktree/keep", made_or_tag)  # deleted with the worktree
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1
    said = "1 commit tip(s) only this worktree's own refs or HEAD reflog reach, with changes on no branch"
    assert f"{said}: {made[:10]} (its ref refs/worktree/keep)" in result.err
    assert builders("remove", "x", "--force").code == 0
    (ref,) = archive_refs(root / "repos/alpha")
    assert git.is_ancestor(root / "repos/alpha", made, ref)


# --- what git hides ----------------------------------------------------------------------------


def test_untracked_files_count_under_show_untracked_files_no(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    git.run(root / "repos/alpha", "config", "status.showUntrackedFiles", "no")
    alpha = builder / "repos/alpha"
    (alpha / "deep/er").mkdir(parents=True)
    (alpha / "deep/er/notes.txt").write_text("mine\n")
    listed = json.loads(builders("list", "--json").out)["builders"]
    assert next(b for b in listed if b["name"] == "x")["dirty"] != 0
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1 and "deep/er/notes.txt" in result.err
    round_trip(builders, alpha)


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
def test_edits_hidden_by_index_flags_are_work(
    builder: Path, builders: Builders, unchanged: Unchanged, flag: str
) -> None:
    alpha = builder / "repos/alpha"
    git.run(alpha, "update-index", flag, "README.md")
    (alpha / "README.md").write_text("edited where status does not look\n")
    assert git.run(alpha, "status", "--porcelain") == ""
    with unchanged():
        shown = builders("status", "x")
        document = json.loads(builders("status", "x", "--json").out)
        result = builders("remove", "x")
    assert shown.code == 0
    assert "note: alpha: 1 edited but hidden from git status (skip-worktree/assume-unchanged): README.md" in shown.out
    assert {w["label"]: w["hidden"] for w in document["worktrees"]} == {"root": [], "alpha": ["README.md"], "beta": []}
    assert result.code == 1
    assert "1 edited but hidden from git status (skip-worktree/assume-unchanged): README.md" in result.err
    round_trip(builders, alpha)


def test_a_file_staged_under_an_ignored_path_is_archived(root: Path, builder: Path, builders: Builders) -> None:
    alpha = builder / "repos/alpha"
    (alpha / ".gitignore").write_text("build/\n")
    commit(alpha, "ignore build/")
    (alpha / "build").mkdir()
    (alpha / "build/keep.bin").write_bytes(b"\x00\x01 forced\n")
    git.run(alpha, "add", "-f", "build/keep.bin")
    result = builders("remove", "x")
    assert result.code == 1 and "build/keep.bin" in result.err
    round_trip(builders, alpha)


def test_sparse_checkout_edits_and_untracked_outside_the_cone(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    alpha = builder / "repos/alpha"
    git.run(alpha, "sparse-checkout", "set", "src/pkg00")
    assert not (alpha / "src/pkg01").exists()
    (alpha / "src/pkg01").mkdir(parents=True)
    (alpha / "src/pkg01/module00001.py").write_text("edited outside the cone\n")
    (alpha / "src/pkg02").mkdir()
    (alpha / "src/pkg02/new.py").write_text("untracked outside the cone\n")
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1
    assert "src/pkg01/module00001.py" in result.err and "src/pkg02/new.py" in result.err
    round_trip(builders, alpha)


def test_crlf_files_come_back_as_they_were_on_disk(root: Path, builder: Path, builders: Builders) -> None:
    alpha = builder / "repos/alpha"
    (alpha / ".gitattributes").write_text("* text=auto\n")
    (alpha / "windows.txt").write_bytes(b"one\r\ntwo\r\n")
    (alpha / "mixed.txt").write_bytes(b"a\r\nb\nc\r\n")
    round_trip(builders, alpha)


@pytest.mark.parametrize("where", ["scratch", "node_modules/vendored", "a-worktree", "node_modules/a-worktree"])
def test_a_nested_repository_is_refused_even_with_force(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged, where: str
) -> None:
    alpha = builder / "repos/alpha"
    (root / "repos/alpha/.git/info").mkdir(exist_ok=True)
    (root / "repos/alpha/.git/info/exclude").write_text("node_modules/\n")
    nested = alpha / where
    if where.endswith("a-worktree"):  # a `.git` file: a worktree of another repository
        git.run(root / "repos/beta", "worktree", "add", "--quiet", "-b", "aside", str(nested))
    else:
        nested.mkdir(parents=True)
        git.run(nested, "init", "--quiet")
    (nested / "own.txt").write_text("its own work\n")
    commit(nested, "a commit only it has")
    for flags in ([], ["--force"]):
        with unchanged():
            result = builders("remove", "x", *flags)
        assert result.code == 1, result.err
        assert f"{where}: a git repository or worktree inside the worktree" in result.err
        assert "move what is named out of" in result.err


@pytest.mark.parametrize("pattern", ["vendor/*", "vendor/**"])
def test_a_nested_repository_under_a_pattern_that_ignores_only_what_a_folder_holds_is_refused(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged, pattern: str
) -> None:
    """git names each ignored thing inside such a folder, not the folder: the repository is found all the same."""
    alpha = builder / "repos/alpha"
    (alpha / ".gitignore").write_text(f"{pattern}\n")
    commit(alpha, "ignore what vendor/ holds")
    nested = alpha / "vendor/deep/lib"
    nested.mkdir(parents=True)
    git.run(nested, "init", "--quiet")
    (nested / "own.txt").write_text("its own work\n")
    commit(nested, "a commit only it has")
    for flags in ([], ["--force"]):
        with unchanged():
            result = builders("remove", "x", *flags)
        assert result.code == 1, result.err
        assert "a git repository or worktree inside the worktree" in result.err


def test_awkward_file_names_are_named_and_come_back_byte_for_byte(
    builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    alpha = builder / "repos/alpha"
    names = ["sp ace.txt", "new\nline.txt", "tab\there.txt", "-dash.txt", "# hash.txt", "! bang.txt", "u 1 2 3.txt"]
    names.append(b"\xff\xfe.bin".decode("utf-8", "surrogateescape"))
    for name in names:
        (alpha / name).write_bytes(f"{name!r}\n".encode())
    (alpha / "-dash.txt").write_text("staged\n")
    git.run(alpha, "add", "--", "-dash.txt")
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1 and f"{len(names)} uncommitted or untracked" in result.err
    round_trip(builders, alpha)


# --- submodules ----------------------------------------------------------------------------------


def with_submodule(root: Path, builders: Builders) -> tuple[Path, Path]:
    """A builder `x` whose alpha has a submodule `sub` (cloned from upstream beta), checked out,
    and beta beside it (a refusal removes neither)."""
    upstream = root.parent / "upstream/beta"
    clone = root / "repos/alpha"
    git.run(clone, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet", str(upstream), "sub")
    git.run(clone, "commit", "--quiet", "-m", "add a submodule")
    assert builders("new", "x", "--repos", "alpha:main,beta").code == 0
    alpha = builders_dir(root) / "x/repos/alpha"
    git.run(alpha, "-c", "protocol.file.allow=always", "submodule", "update", "--init", "--quiet")
    assert (alpha / "sub/README.md").is_file()
    return alpha, alpha / "sub"


def test_a_clean_submodule_does_not_stop_removal(root: Path, builders: Builders) -> None:
    alpha, _ = with_submodule(root, builders)
    result = builders("remove", "x")
    assert result.code == 0, result.err
    assert not alpha.exists()


@pytest.mark.parametrize("work", ["dirt", "unpushed", "stashed"])
def test_a_submodule_with_work_is_refused_even_with_force(
    root: Path, builders: Builders, unchanged: Unchanged, work: str
) -> None:
    _, sub = with_submodule(root, builders)
    (sub / "sub-work.txt").write_text("in the submodule\n")
    if work == "unpushed":
        commit(sub, "a commit on no remote")
    if work == "stashed":  # its stash lives in its git dir, which goes with the worktree
        git.run(sub, "stash", "push", "--quiet", "--include-untracked")
        assert git.run(sub, "status", "--porcelain") == ""
    for flags in ([], ["--force"]):
        with unchanged():
            result = builders("remove", "x", *flags)
        assert result.code == 1, result.err
        said = {
            "dirt": "1 uncommitted or untracked: sub-work.txt",
            "unpushed": "1 commit(s) on no remote-tracking ref",
            "stashed": "3 commit(s) on no remote-tracking ref",
        }[work]
        assert f"submodule sub: {said}" in result.err


# --- branches ------------------------------------------------------------------------------------


def test_a_branch_the_builder_merely_had_checked_out_is_never_deleted(
    root: Path, builder: Path, builders: Builders
) -> None:
    git.run(builder / "repos/alpha", "switch", "--quiet", "--detach")
    git.run(root / "repos/alpha", "switch", "--quiet", "--detach")
    git.run(builder / "repos/alpha", "switch", "--quiet", "main")
    result = builders("remove", "x")
    assert result.code == 0, result.err
    assert "main" in branches(root / "repos/alpha")
    assert "kept branch in alpha: main (not made by this builder: kept)" in result.out
    assert "builder/x" in branches(root / "repos/alpha")  # not judged: no worktree had it


def test_a_root_branch_the_builder_switched_to_is_never_deleted(root: Path, builder: Path, builders: Builders) -> None:
    git.run(root, "branch", "release")
    git.run(builder, "switch", "--quiet", "release")
    result = builders("remove", "x")
    assert result.code == 0, result.err
    assert "kept branch in root: release (not made by this builder: kept)" in result.out
    assert "release" in branches(root) and "builder/x" in branches(root)


def test_stacked_builders_removed_in_order_lose_nothing(root: Path, builders: Builders) -> None:
    assert builders("new", "a", "--repos", "alpha").code == 0
    a_alpha = builders_dir(root) / "a/repos/alpha"
    (a_alpha / "a.txt").write_text("a's work\n")
    work = commit(a_alpha, "a's unlanded work")
    done = builders("new", "b", "--repos", "alpha:builder/a")
    assert done.code == 0, done.err
    assert builders("remove", "a").code == 0
    assert builders("remove", "b").code == 0
    holders = git.run(root / "repos/alpha", "for-each-ref", "--contains", work, "--format=%(refname)", "refs/heads")
    assert holders.strip(), "a's commit is on no branch"


# --- atomic refusal ------------------------------------------------------------------------------


def test_an_archive_script_that_writes_files_refuses_before_anything(
    root: Path, builder: Path, builders: Builders
) -> None:
    (root / "workspaces.local.yaml").write_text("scripts:\n  archive: 'echo log > archive-output.txt'\n")
    result = builders("remove", "x")
    assert result.code == 1
    assert "the archive script changed what the builder holds" in result.err
    assert "archive-output.txt" in result.err and "nothing was changed" in result.err
    assert (builder / "repos/alpha").is_dir() and (builder / "repos/beta").is_dir()
    assert json.loads((root / ".git/builders/state/x.json").read_text())["status"] == "ready"
    assert builders("remove", "x", "--force").code == 0
    assert git.run(root, "show", f"{archive_refs(root)[0]}:archive-output.txt") == "log\n"


def test_an_edited_copy_in_file_is_warned_about(root: Path, builders: Builders) -> None:
    (root / "workspaces.yaml").write_text('copy: [".env.local"]\n')
    commit(root, "copy .env.local")
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text(".env.local\n")
    (root / ".env.local").write_text("SECRET=1\n")
    assert builders("new", "w").code == 0
    builder = builders_dir(root) / "w"
    assert ".env.local" not in builders("remove", "w", "--dry-run").err  # as copied: can be copied again
    (builder / ".env.local").write_text("SECRET=changed in the builder\n")
    result = builders("remove", "w", "--dry-run")
    assert f"warning: root ({builder}): would be deleted with the builder, not archived: .env.local" in result.err


def test_two_removals_of_one_name_in_a_second_keep_both_records(root: Path, builders: Builders) -> None:
    for _ in range(2):
        assert builders("new", "x", "--repos", "alpha").code == 0
        assert builders("remove", "x").code == 0
    records = list((root / ".git/builders/removed").glob("x.*.json"))
    assert len(records) == 2
    listed = json.loads(builders("list", "--removed", "--json").out)["removed"]
    assert [r["name"] for r in listed] == ["x", "x"] and all(r["complete"] for r in listed)


def test_records_begun_at_once_never_overwrite_each_other(root: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from workspace_builders.engine import removal_records
    from workspace_builders.model.workspace import discover

    ws = discover(root).workspace
    documents = [{"name": "x", "removed_at": "now", "archive_refs": {}, "kept_branches": {}, "n": n} for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda d: removal_records.begin(ws, "x", d), documents))
    assert len(set(paths)) == 40
    assert sorted(json.loads(p.read_text())["n"] for p in paths) == list(range(40))
    assert sorted(p.name for p in removal_records.removed_dir(ws).iterdir()) == sorted(p.name for p in paths)


def test_a_stopped_landing_refuses_removal(root: Path, builder: Path, builders: Builders, unchanged: Unchanged) -> None:
    journal = root / ".git/builders/landing/x.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text('{"name": "x", "moves": []}\n')
    with unchanged():
        result = builders("remove", "x")
    assert result.code == 1 and "a landing that was stopped half-way" in result.err
    assert "hint: complete it first: builders land x" in result.err


# --- a builder folder deleted by hand ------------------------------------------------------------


def test_a_closed_builder_is_restored_then_finished_by_remove(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    (builder / "repos/alpha/work.txt").write_text("committed\n")
    work = commit(builder / "repos/alpha", "work in alpha")
    import shutil

    shutil.rmtree(builder)
    assert builders("prune").code == 0
    restored = builders("restore", "x")
    assert restored.code == 0, restored.err
    assert (builder / "repos/alpha/work.txt").read_text() == "committed\n"
    assert not (builder / "repos/all").exists()
    shutil.rmtree(builder)
    assert builders("prune").code == 0
    with unchanged():
        unknown = builders("remove", "nobody")
        planned = builders("remove", "x", "--dry-run")
    assert unknown.code == 2 and "no builder named 'nobody'" in unknown.err
    assert planned.code == 0 and "plan to finish closed builder x (dry run: nothing changed)" in planned.out
    assert "  root: builder/x would be deleted" in planned.out
    assert "  alpha: builder/x (has commits no other branch has: it is kept)" in planned.out
    finished = builders("remove", "x")
    assert finished.code == 0, finished.err
    assert "builder/x" not in branches(root) and "builder/x" not in branches(root / "repos/beta")
    assert git.run(root / "repos/alpha", "rev-parse", "builder/x").strip() == work  # its commit: kept
    assert "kept branch in alpha: builder/x (has commits no other branch has: it is kept)" in finished.out


def test_removing_a_builder_deleted_by_hand_before_prune_refuses_with_the_commands_that_finish_it(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    import shutil

    shutil.rmtree(builder)
    with unchanged():
        refused = builders("remove", "x")
    assert refused.code == 1 and f"error: builder 'x' has no folder: {builder} is gone" in refused.err
    hint = "hint: close it first, then remove it: builders prune && builders remove x\n"
    assert hint in refused.err
    line = hint.split(": ", 2)[2]  # as a user pastes it
    pasted = subprocess.run(line, shell=True, cwd=root, env=environment(), capture_output=True, text=True, check=False)
    assert pasted.returncode == 0, pasted.stderr
    assert "builder/x" not in branches(root) and "builder/x" not in branches(root / "repos/beta")
    assert "x" not in builders("list").out.split()


def test_removing_a_builder_whose_repo_folder_was_deleted_by_hand_refuses_then_keeps_its_work(
    root: Path, builder: Path, builders: Builders, unchanged: Unchanged
) -> None:
    """git still has the deleted worktree, on the builder's branch: it is not "checked out elsewhere",
    and its entry is not left behind. Closed by prune, the removal keeps the branch with its commit."""
    import shutil

    edit(builder / "repos/alpha/w.txt", "w\n")
    work = commit(builder / "repos/alpha", "work never landed")
    shutil.rmtree(builder / "repos/alpha")
    with unchanged():
        refused = builders("remove", "x")
    assert refused.code == 1, refused.err
    assert f"error: builder 'x': repos/alpha has no folder: {builder / 'repos/alpha'} is gone" in refused.err
    hint = "hint: close it first, then remove the builder: builders prune && builders remove x\n"
    assert hint in refused.err
    line = hint.split(": ", 2)[2]  # as a user pastes it
    pasted = subprocess.run(line, shell=True, cwd=root, env=environment(), capture_output=True, text=True, check=False)
    assert pasted.returncode == 0, pasted.stderr
    assert "kept branch in alpha: builder/x (has commits no other branch has: it is kept)" in pasted.stdout
    assert git.run(root / "repos/alpha", "rev-parse", "builder/x").strip() == work
    assert str(builder) not in git.run(root / "repos/alpha", "worktree", "list")
    assert "builder/x" not in branches(root) and "builder/x" not in branches(root / "repos/beta")


def test_a_branch_checked_out_through_a_symlinked_head_is_kept(root: Path, builder: Path, builders: Builders) -> None:
    """An old git's symlinked HEAD is no plain file to read: git is asked, and the branch it names
    checked out is never deleted under that checkout."""
    clone = root / "repos/alpha"
    git.run(clone, "-c", "core.preferSymlinkRefs=true", "symbolic-ref", "HEAD", "refs/heads/builder/x")
    assert (clone / ".git/HEAD").is_symlink()
    done = builders("remove", "x")
    assert done.code == 0, done.err
    assert "kept branch in alpha: builder/x (checked out elsewhere)" in done.out
    assert "builder/x" in branches(clone)
    assert git.run(clone, "symbolic-ref", "HEAD").strip() == "refs/heads/builder/x"


def test_a_branch_of_the_builder_namespace_with_no_record_is_no_builder(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    git.run(root, "branch", "builder/mine")  # made by hand: no builder ever had it
    with unchanged():
        result = builders("remove", "mine")
    assert result.code == 2 and "no builder named 'mine'" in result.err


# --- prune -----------------------------------------------------------------------------------------


def test_prune_leaves_a_builder_being_made_alone(root: Path, builder: Path, builders: Builders) -> None:
    state_file = root / ".git/builders/state/x.json"
    record = json.loads(state_file.read_text())
    record["status"] = "creating"
    state_file.write_text(json.dumps(record))
    git.run(
        root, "worktree", "lock", str(builder)
    )  # as creation holds it: listed, but seen as unregistered by a stale look
    import shutil

    shutil.move(str(root / ".git/worktrees/x"), str(root / "x-admin-aside"))
    from workspace_builders.gitlayer.locks import builder_lock
    from workspace_builders.model.workspace import discover

    with builder_lock(discover(root).workspace, "x"):  # as a run making it holds it
        held = builders("prune")
    result = builders("prune")
    shutil.move(str(root / "x-admin-aside"), str(root / ".git/worktrees/x"))
    assert held.code == 0 and f"left alone: {builder} (a run is working on it)" in held.out
    assert builder.is_dir(), result.out
    assert "a builder being made: not an orphan" in result.out


def test_empty_trash_keeps_detached_commits_and_records_the_archive(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    assert builders("new", "t", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "t"
    alpha = builder / "repos/alpha"
    git.run(alpha, "switch", "--quiet", "--detach")
    (alpha / "detached.txt").write_text("on a detached head\n")
    lost = commit(alpha, "detached work")
    import shutil

    shutil.rmtree(root / ".git/worktrees/t")
    assert builders("prune").code == 0
    result = builders("prune", "--empty-trash", "--older-than", "0d")
    assert result.code == 0, result.err
    (ref,) = archive_refs(root / "repos/alpha", "t")
    assert git.is_ancestor(root / "repos/alpha", lost, ref)
    listed = json.loads(builders("list", "--removed", "--json").out)["removed"]
    trashed = [r for r in listed if r["name"] == "t" and r["archive_refs"]]
    assert trashed and trashed[-1]["archive_refs"]["alpha"].endswith(ref)
    # restore finds it; the work was made on a commit its branch is not at: it says how to get it
    with unchanged():
        refused = builders("restore", "t")
    assert refused.code == 1
    assert f"alpha: builder/t is at {git.run(root / 'repos/alpha', 'rev-parse', 'builder/t')[:10]}" in refused.err
    assert f"but the archived work was made on {lost[:10]}" in refused.err
    hint = refused.err.split("hint: get the archived work by hand: ", 1)[1].split()
    assert hint[:2] == ["git", "-C"]
    git.run(Path(hint[2]), *hint[3:])
    assert (alpha / "detached.txt").read_text() == "on a detached head\n"


def test_a_trashed_builder_comes_back_byte_for_byte_from_its_record(root: Path, builders: Builders) -> None:
    assert builders("new", "t", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "t"
    alpha = builder / "repos/alpha"
    (builder / ".gitattributes").write_text("* text=auto\n")
    (builder / "windows.txt").write_bytes(b"one\r\ntwo\r\n")
    (builder / "README.md").write_bytes(b"edited in the root\r\n")
    (alpha / "README.md").write_bytes(b"edited in alpha\r\n")
    (alpha / "deep").mkdir()
    (alpha / "deep/new.bin").write_bytes(b"\x00\xff\r\n")
    before = {"root": files_of(builder), "alpha": files_of(alpha)}
    import shutil

    shutil.rmtree(root / ".git/worktrees/t")  # the builder's own link is gone: it is an orphan
    assert builders("prune").code == 0
    emptied = builders("prune", "--empty-trash", "--older-than", "0d")
    assert emptied.code == 0, emptied.err
    assert not list((builders_dir(root) / ".trash").iterdir())
    restored = builders("restore", "t")
    assert restored.code == 0, restored.err
    assert {"root": files_of(builder), "alpha": files_of(alpha)} == before
    assert builders("verify", "t").code == 0
