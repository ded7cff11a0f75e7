"""The git module: scrubbed environment, failures as errors, and parsers of porcelain output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import commit
from workspace_builders.base.errors import BuildersError
from workspace_builders.gitlayer import git


def test_failure_names_command_exit_and_stderr(root: Path) -> None:
    with pytest.raises(BuildersError) as raised:
        git.run(root, "rev-parse", "--verify", "no-such-ref")
    assert "git -C" in raised.value.message and "rev-parse --verify no-such-ref" in raised.value.message
    assert "exit 128" in raised.value.message and "Needed a single revision" in raised.value.message


def test_callers_repository_variables_are_dropped(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alpha = root / "repos/alpha"
    monkeypatch.setenv("GIT_DIR", str(alpha / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(alpha))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "bogus-index"))
    assert git.run(root, "rev-parse", "--show-toplevel").strip() == str(root)
    env = git.environ()
    assert "GIT_DIR" not in env and "GIT_INDEX_FILE" not in env
    assert env["GIT_CONFIG_GLOBAL"]  # the user's own settings stay


def test_revisions_are_never_options(root: Path, tmp_path: Path) -> None:
    trap = tmp_path / "written"
    found = git.resolve_commits(root, [f"--output={trap}", "HEAD", "no-such", "HEAD:README.md"])
    assert not trap.exists()
    assert found[f"--output={trap}"] is None and found["no-such"] is None
    assert found["HEAD:README.md"] is None  # a blob is not a commit
    assert found["HEAD"] == git.run(root, "rev-parse", "HEAD").strip()


def test_changed_tracked_files_with_odd_names(root: Path) -> None:
    odd = "a file with spaces\tand tab.txt"
    (root / odd).write_text("1")
    (root / "old name.txt").write_text("2")
    commit(root)
    (root / odd).write_text("changed")
    git.run(root, "mv", "old name.txt", "new name.txt")
    (root / "untracked.txt").write_text("not counted")
    assert sorted(git.changed_tracked_files_started(root)()) == [odd, "new name.txt"]


def test_worktrees_parse(root: Path, tmp_path: Path) -> None:
    extra = tmp_path / "wt with space"
    git.run(root, "worktree", "add", "-q", "--detach", str(extra))
    git.run(root, "worktree", "lock", str(extra))
    found = git.worktrees(root)
    assert [w.path for w in found] == [root, extra]
    assert found[0].branch == "refs/heads/main" and not found[0].locked
    assert found[1].branch is None and found[1].locked and found[1].head == found[0].head


def test_locate_outside_and_inside(root: Path, tmp_path: Path) -> None:
    assert git.locate(tmp_path) is None
    inside = git.locate(root / "repos/alpha/src")
    assert inside is not None
    assert inside.toplevel == root / "repos/alpha" and inside.common_dir == root / "repos/alpha/.git"


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("git version 2.39.5\n", (2, 39)),
        ("git version 2.36.0.windows.1", (2, 36)),
        ("git version 2.9.1", (2, 9)),
        ("hub version 2.14.2", ()),
        ("", ()),
    ],
)
def test_parse_version(text: str, version: tuple[int, ...]) -> None:
    assert git.parse_version(text) == version
    assert (git.parse_version(text) >= git.MIN_VERSION) == (version >= (2, 36))


@pytest.mark.parametrize("window", [1, 3, 16])
def test_side_by_side_keeps_order_and_returns_failures(root: Path, tmp_path: Path, window: int) -> None:
    repos = [root, *(root / "repos" / name for name in ("alpha", "beta", "gamma"))]
    (tmp_path / "plain").mkdir()
    items = [*repos, tmp_path / "plain", *repos]  # more items than a small window, one not a repository
    outcomes = list(git.side_by_side(items, lambda repo: git.started(repo, "rev-parse", "--show-toplevel")))
    assert [item for item, _ in outcomes] == items
    for item, outcome in outcomes:
        if item == tmp_path / "plain":
            assert isinstance(outcome, git.GitFailed) and "not a git repository" in outcome.message
        else:
            assert outcome == f"{item}\n"


def test_started_worktree_list_matches_the_plain_call(root: Path) -> None:
    alpha = root / "repos/alpha"
    git.run(alpha, "worktree", "add", "-q", "-b", "side", str(root.parent / "alpha-side"))
    wait = git.worktrees_started(alpha)
    assert wait() == git.worktrees(alpha)
    assert [w.path for w in git.worktrees(alpha)] == [alpha, root.parent / "alpha-side"]


def test_every_clean_or_dirty_decision_sees_untracked_files_that_user_config_hides(root: Path) -> None:
    """`status.showUntrackedFiles=no` hides an untracked file from plain `git status`; no question
    this toolkit asks (is it clean? what is in it?) may miss it."""
    clone = root / "repos/alpha"
    git.run(clone, "config", "status.showUntrackedFiles", "no")
    assert git.is_clean(clone) and git.status_entries(clone) == []
    (clone / "deep/er").mkdir(parents=True)
    (clone / "deep/er/note.txt").write_text("mine\n")
    assert git.run(clone, "status", "--porcelain") == ""  # what the user's config shows
    assert not git.is_clean(clone)
    assert git.status_entries(clone) == ["?? deep/"]
    assert "?? deep/er/note.txt" in git.every_change(clone)
    assert "?? deep/er/note.txt" in git.look_at_worktree_started(clone)().changes


def test_one_look_at_a_worktree_gives_what_every_change_and_its_ignored_paths_give(root: Path) -> None:
    clone = root / "repos/alpha"
    (clone / ".gitignore").write_text("node_modules/\n*.log\nbuild/*\n")
    git.run(clone, "add", ".gitignore")
    (clone / "node_modules/pkg").mkdir(parents=True)
    (clone / "node_modules/pkg/index.js").write_text("x\n")
    (clone / "build/out").mkdir(parents=True)
    (clone / "logs").mkdir()
    (clone / "logs/a.log").write_text("a\n")
    (clone / "new.txt").write_text("new\n")
    tracked = next(p for p in git.run(clone, "ls-files").split() if p != ".gitignore")
    (clone / tracked).write_text("edited\n")
    look = git.look_at_worktree_started(clone)()
    assert look.head == git.head_commit(clone)
    assert sorted(look.changes) == sorted(git.every_change(clone))
    assert {"A  .gitignore", f" M {tracked}", "?? new.txt"} <= set(look.changes)
    # An ignored folder is one entry; a folder no pattern matches is looked into.
    assert sorted(look.ignored) == ["build/out/", "logs/a.log", "node_modules/"]
    empty = root.parent / "empty"
    git.run(root.parent, "init", "--quiet", str(empty))
    assert git.look_at_worktree_started(empty)().head is None


# Names a line-based or space-split reading of status would get wrong.
AWKWARD = ("sp ace.txt", "new\nline.txt", "tab\there.txt", "-dash.txt", "# hash.txt", "! bang.txt", "u 1 2 3.txt")


def test_one_look_reads_awkward_paths_and_unmerged_entries_as_every_change_does(root: Path) -> None:
    clone = root / "repos/alpha"
    (clone / "README.md").write_text("theirs\n")
    theirs = commit(clone, "theirs")
    git.run(clone, "reset", "--quiet", "--hard", "HEAD~1")
    (clone / "README.md").write_text("ours\n")
    commit(clone, "ours")
    assert git.attempt(clone, "merge", "--quiet", theirs).returncode != 0  # README.md left unmerged
    for name in (*AWKWARD, b"\xff\xfe.bin".decode("utf-8", "surrogateescape")):
        (clone / name).write_bytes(b"mine\n")
    look = git.look_at_worktree_started(clone)()
    assert sorted(look.changes) == sorted(git.every_change(clone))
    assert "UU README.md" in look.changes
    assert {f"?? {name}" for name in AWKWARD} <= set(look.changes)
    assert look.head == git.head_commit(clone)


def test_span_patch_id_is_the_patch_id_of_the_squash(root: Path) -> None:
    repo = root / "repos/alpha"
    start = git.head_commit(repo)
    assert start is not None
    (repo / "one.txt").write_text("one\n")
    commit(repo, "one")
    (repo / "one.txt").write_text("one, then two\n")
    (repo / "bin.dat").write_bytes(b"\x00\xff binary\n")
    tip = commit(repo, "two")
    git.run(repo, "reset", "--quiet", "--soft", start)
    squash = commit(repo, "both as one")
    spans = git.span_patch_ids(repo, [(start, tip), (tip, tip)])
    assert spans == {tip: git.patch_ids(repo, [squash])[squash]}  # an empty span has none
    assert git.patch_ids(repo, [tip])[tip] != spans[tip]


def test_trees_own_refs_and_octopus_base(root: Path, tmp_path: Path) -> None:
    repo = root / "repos/alpha"
    start = git.head_commit(repo)
    assert start is not None
    (repo / "a.txt").write_text("a\n")
    one = commit(repo, "one")
    assert git.trees_of(repo, [one, start]) == {c: git.tree_of(repo, c) for c in (one, start)}
    assert git.octopus_base(repo, [one, start]) == start and git.octopus_base(repo, []) is None
    linked = tmp_path / "linked"
    git.run(repo, "worktree", "add", "--quiet", "--detach", str(linked), start)
    git.run(linked, "update-ref", "refs/worktree/keep", one)
    git.run(linked, "update-ref", "refs/bisect/bad", start)
    git.run(repo, "tag", "-a", "-m", "annotated", "v1", one)
    seen = git.refs_seen_started(linked)()
    assert seen.own == {"refs/worktree/keep": one, "refs/bisect/bad": start}
    assert one in seen.tips  # through the annotated tag, peeled
    assert git.refs_seen_started(repo)().own == {}  # another worktree's own refs are its alone


def test_head_reflog_read_from_its_file_is_what_git_says(root: Path, tmp_path: Path) -> None:
    repo = root / "repos/alpha"
    linked = tmp_path / "linked"
    git.run(repo, "worktree", "add", "--quiet", "-b", "side", str(linked))
    (linked / "a.txt").write_text("a\n")
    commit(linked, "one\twith a tab")
    git.run(linked, "commit", "--quiet", "--amend", "-m", "one, amended")
    git.run(linked, "switch", "--quiet", "--detach", "HEAD~1")
    admin = Path(git.run(linked, "rev-parse", "--absolute-git-dir").strip())
    for worktree, git_dir in ((linked, admin), (repo, repo / ".git")):
        asked = git.head_reflog(worktree)
        assert len(asked) > (3 if worktree == linked else 0)
        assert git.head_reflog(worktree, git_dir) == asked
    # No file where it was looked for (a reftable keeps reflogs elsewhere): git is asked, and says them.
    assert git.head_reflog(linked, tmp_path / "no-such-dir") == git.head_reflog(linked) != []


def test_trees_of_gives_each_commits_tree(root: Path) -> None:
    first = git.run(root, "rev-parse", "HEAD").strip()
    (root / "more.txt").write_text("more\n")
    second = commit(root, "more")
    found = git.trees_of(root, [second, first])
    assert found == {c: git.run(root, "rev-parse", f"{c}^{{tree}}").strip() for c in (first, second)}
    assert git.trees_of(root, []) == {}


def test_git_dir_read_from_the_folder_is_what_git_says(root: Path, tmp_path: Path) -> None:
    alpha = root / "repos/alpha"
    linked = tmp_path / "linked"
    git.run(alpha, "worktree", "add", "--quiet", "-b", "linked", str(linked))
    separate = tmp_path / "separate"
    git.run(tmp_path, "clone", "--quiet", f"--separate-git-dir={tmp_path / 'separate.git'}", str(alpha), str(separate))
    not_a_repository = tmp_path / "nested"
    (not_a_repository / ".git").mkdir(parents=True)  # a `.git` folder git does not take for a repository
    git.run(tmp_path, "init", "--quiet", str(tmp_path))
    for worktree in (alpha, root, linked, separate, not_a_repository):
        said = git.run(worktree, "rev-parse", "--path-format=absolute", "--git-dir").strip()
        assert git.git_dir(worktree) == Path(said), worktree
    assert git.git_dir(alpha) == alpha / ".git" and git.git_dir(not_a_repository) == tmp_path / ".git"


def test_head_and_tracked_changes_in_one_status(root: Path) -> None:
    alpha = root / "repos/alpha"
    tip = git.run(alpha, "rev-parse", "HEAD").strip()
    (alpha / "untracked.txt").write_text("new\n")
    assert git.head_and_tracked_changes(alpha) == git.WorktreeLook(tip, [], [])
    first = next(p for p in sorted(alpha.iterdir()) if p.is_file())
    first.write_text("changed\n")
    (alpha / "staged name with spaces.txt").write_text("staged\n")
    git.run(alpha, "add", "staged name with spaces.txt")
    look = git.head_and_tracked_changes(alpha)
    assert look.head == tip and look.ignored == []
    assert look.changes == [e for e in git.status_entries(alpha) if not e.startswith("??")]
    assert sorted(look.changes) == sorted([f" M {first.name}", "A  staged name with spaces.txt"])


def test_a_submodule_holding_only_untracked_files_is_a_change_of_a_tracked_file(root: Path, tmp_path: Path) -> None:
    from sample_workspace import make_repo

    make_repo(tmp_path / "lib", 1, "lib")
    alpha = root / "repos/alpha"
    git.run(alpha, "submodule", "add", "--quiet", str(tmp_path / "lib"), "lib")
    commit(alpha, "the lib")
    git.run(alpha, "config", "status.showUntrackedFiles", "no")
    assert git.head_and_tracked_changes(alpha).changes == []
    (alpha / "lib" / "mine.txt").write_text("never committed\n")
    tracked = [e for e in git.status_entries(alpha) if not e.startswith("??")]
    assert git.head_and_tracked_changes(alpha).changes == tracked == [" M lib"]
    git.run(alpha, "config", "submodule.lib.ignore", "all")
    assert git.head_and_tracked_changes(alpha).changes == []
    assert git.head_and_tracked_changes(alpha, every_submodule=True).changes == [" M lib"]


def test_a_small_file_of_gits_is_read_only_when_it_is_a_plain_file(tmp_path: Path) -> None:
    from workspace_builders.gitlayer import links

    (tmp_path / "gitdir").write_bytes(b"/some/where/.git\n")
    (tmp_path / "link").symlink_to(tmp_path / "gitdir")
    os.mkfifo(tmp_path / "fifo")  # never opened for a wait: nobody writes to it
    (tmp_path / "folder").mkdir()
    (tmp_path / "big").write_bytes(b"x" * 200_000 + b"\n")
    assert links.read(tmp_path / "gitdir") == "/some/where/.git"
    assert links.read(str(tmp_path / "gitdir")) == "/some/where/.git"
    for not_plain in ("link", "fifo", "folder", "missing", "gitdir/under-a-file"):
        assert links.read(tmp_path / not_plain) is None, not_plain
    assert links.read(tmp_path / "big") == "x" * 200_000
