"""`builders verify`: a sound builder passes; each broken case fails with its own row and hint."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, builders_dir, commit
from workspace_builders.gitlayer import git


@pytest.fixture
def builder(root: Path, builders: Builders) -> Path:
    assert builders("new", "x", "--repos", "alpha,beta").code == 0
    return builders_dir(root) / "x"


def failures(builders: Builders, *names: str) -> set[tuple[str, str, str]]:
    result = builders("verify", "--json", *names)
    document = json.loads(result.out)
    failed = {(c["builder"], c["worktree"], c["check"]) for c in document["checks"] if not c["ok"]}
    assert (result.code == 1) == bool(failed) == (not document["ok"])
    assert all(c["hint"] for c in document["checks"] if not c["ok"])
    return failed


@pytest.mark.quick
def test_sound_builder_passes(builder: Path, builders: Builders) -> None:
    assert failures(builders) == set()
    result = builders("verify")
    checks = len(json.loads(builders("verify", "--json").out)["checks"])
    # one line that sums up; the passing rows only with --all
    assert result.code == 0 and result.err == ""
    assert (
        result.out == f"{checks} checks of 1 builder(s) and the workspace: all ok (builders verify --all lists them)\n"
    )
    every = builders("verify", "--all")
    assert every.code == 0 and every.err == ""
    lines = every.out.splitlines()
    assert lines[0].split() == ["builder", "worktree", "check", "result", "detail", "fix"]
    assert len(lines) == 1 + checks + 1 and lines[-1] == f"{checks} checks of 1 builder(s) and the workspace: all ok"
    assert "FAIL" not in every.out


@pytest.mark.quick
def test_failures_are_shown_once_with_their_fix_and_a_summary(root: Path, builder: Path, builders: Builders) -> None:
    git.run(builder / "repos/alpha", "switch", "-q", "-c", "other")
    result = builders("verify")
    checks = len(json.loads(builders("verify", "--json").out)["checks"])
    assert result.code == 1 and result.err == ""  # not repeated on stderr
    lines = result.out.splitlines()
    assert len(lines) == 3  # header, the one failure, the summary
    assert lines[1].split()[:5] == ["x", "alpha", "branch", "FAIL", "on"]
    assert lines[1].endswith(f"git -C {builder / 'repos/alpha'} switch builder/x")
    assert lines[2] == f"{checks} checks of 1 builder(s) and the workspace: 1 failed, {checks - 1} ok"
    every = builders("verify", "--all")
    assert every.code == 1 and len(every.out.splitlines()) == 1 + checks + 1


def test_nested_builder_inside_the_root(root: Path, builder: Path, builders: Builders) -> None:
    with (root / ".gitignore").open("a") as out:
        out.write(".builders/\n")
    commit(root)
    git.run(root, "worktree", "add", "-q", "-b", "builder/old", str(root / ".builders/old"))
    failed = failures(builders)
    assert ("old", "root", "layout: sibling, not nested") in failed
    assert ("old", "root", "layout: not ignored by the root") in failed
    assert "builders migrate" in builders("verify").out


def test_builders_folder_inside_the_root(root: Path, builder: Path, builders: Builders) -> None:
    (root / "workspaces.local.yaml").write_text('builders:\n  dir: ".builders"\n')
    assert ("(workspace)", "root", "builders folder outside the root") in failures(builders)


def test_repos_not_ignored(root: Path, builder: Path, builders: Builders) -> None:
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("repos/\n", ""))
    assert ("(workspace)", "root", "repos/ ignored") in failures(builders)
    (builder / ".gitignore").write_text("")
    assert ("x", "root", "repos/ ignored") in failures(builders)


def test_admin_entry_deleted_in_a_clone(root: Path, builder: Path, builders: Builders) -> None:
    shutil.rmtree(root / "repos/alpha/.git/worktrees/alpha")
    failed = failures(builders)
    # git no longer lists it: the state disagrees with git
    assert ("x", "root", "state: repos agree with git") in failed


def test_git_file_pointing_elsewhere(root: Path, builder: Path, builders: Builders) -> None:
    (builder / "repos/beta/.git").write_text(f"gitdir: {root}/repos/alpha/.git/worktrees/alpha\n")
    failed = failures(builders)
    assert ("x", "beta", "link: .git names its admin dir") in failed


def test_admin_dir_naming_another_place(root: Path, builder: Path, builders: Builders) -> None:
    (root / ".git/worktrees/x/gitdir").write_text(f"{root.parent}/elsewhere/.git\n")
    failed = failures(builders)
    # git now places the builder where its admin dir says: that place fails, and so does x itself
    assert ("elsewhere", "root", "link: not prunable") in failed
    assert ("x", "root", "registered with git") in failed
    assert ("x", "root", "state has a builder") in failed
    assert "worktree repair" in builders("verify").out


def test_a_builder_folder_deleted_by_hand_gets_fixes_that_work(root: Path, builder: Path, builders: Builders) -> None:
    shutil.rmtree(builder)
    rows = json.loads(builders("verify", "--json").out)["checks"]
    failed = {(c["worktree"], c["check"]): c for c in rows if not c["ok"]}
    for worktree in ("root", "alpha", "beta"):
        for check in ("link: .git names its admin dir", "link: admin dir names it back", "link: not prunable"):
            row = failed[(worktree, check)]
            # `git worktree repair` of the gone folder would fail pasted: the fix says repair NEW_PATH or prune
            assert "is gone" in row["detail"] and row["hint"].endswith("NEW_PATH; else: builders prune")
    assert builders("prune").code == 0
    assert failures(builders) == set()


def test_wrong_branch_and_detached_head(builder: Path, builders: Builders) -> None:
    git.run(builder / "repos/alpha", "switch", "-q", "-c", "other")
    git.run(builder / "repos/beta", "switch", "-q", "--detach")
    failed = failures(builders, "x")
    assert ("x", "alpha", "branch") in failed
    assert ("x", "beta", "HEAD on a branch") in failed


def test_state_disagreements(root: Path, builder: Path, builders: Builders) -> None:
    state_file = root / ".git/builders/state/x.json"
    record = json.loads(state_file.read_text())
    record["repos"] = record["repos"][:1]
    record["status"] = "creating"
    state_file.write_text(json.dumps(record))
    failed = failures(builders)
    assert ("x", "root", "state: repos agree with git") in failed
    assert ("x", "root", "state: status") in failed


def test_builder_without_state_and_state_without_builder(root: Path, builder: Path, builders: Builders) -> None:
    git.run(root, "worktree", "add", "-q", "-b", "plain", str(builders_dir(root) / "plain"))
    ghost = json.loads((root / ".git/builders/state/x.json").read_text())
    ghost["name"], ghost["path"] = "ghost", str(builders_dir(root) / "ghost")
    (root / ".git/builders/state/ghost.json").write_text(json.dumps(ghost))
    failed = failures(builders)
    assert ("plain", "root", "state") in failed
    assert ("ghost", "root", "state has a builder") in failed


def test_unknown_name_is_bad_input(builder: Path, builders: Builders) -> None:
    done = builders("verify", "nope")
    assert done.code == 2 and "error: no builder named 'nope'" in done.err


TRICKY = [  # (root .gitignore, whether git counts repos/ as ignored)
    ("repos/\n", True),
    ("repos\n", True),
    ("/repos/\n", True),
    ("repos/*\n", True),
    ("*\n!repos/\n", True),  # '*' still matches repos/ itself: the negation is beaten by nothing
    ("repos/\n!repos/\n", False),  # negation, last match wins
    ("repos/\n!repos/alpha/\n", True),  # nothing under an excluded directory can be re-included
    ("repos/alpha\n", False),  # one clone is not the folder
    ("", False),
]


@pytest.mark.parametrize(("gitignore", "ignored"), TRICKY)
def test_ignore_answers_match_git(root: Path, builders: Builders, gitignore: str, ignored: bool) -> None:
    (root / ".gitignore").write_text(gitignore)
    result = json.loads(builders("verify", "--json").out)
    row = next(c for c in result["checks"] if c["check"] == "repos/ ignored")
    assert row["ok"] is ignored


def test_excluded_parent_and_info_exclude(root: Path, builders: Builders) -> None:
    (root / ".gitignore").write_text("")
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text("repos/\n")
    assert json.loads(builders("verify", "--json").out)["ok"]


def test_a_clone_where_git_fails_is_named_and_the_rest_is_checked(
    root: Path, builder: Path, builders: Builders
) -> None:
    assert builders("new", "y", "--repos", "alpha").code == 0
    beta = root / "repos/beta"
    with (beta / ".git/config").open("a") as config:
        config.write("[broken\n")  # every git command in beta now fails
    result = builders("verify", "--json")
    assert result.code == 1
    checks = json.loads(result.out)["checks"]
    (unread,) = [c for c in checks if c["check"] == "git can read it"]
    assert unread["worktree"] == "repos/beta" and f"git -C {beta} worktree list" in unread["detail"]
    shown = builders("verify")
    assert shown.code == 1 and shown.err == ""
    assert "(workspace)  repos/beta" in shown.out and f"git -C {beta} worktree list" in shown.out
    assert "fix what git says, then run again: builders verify" in shown.out
    assert all(c["ok"] for c in checks if c["builder"] == "y")  # the other builder is still checked
    assert builders("verify", "y").code == 1  # a named builder too: the clone's failure is reported


def test_a_folder_that_is_no_builder_gets_a_fix_that_clears_it(root: Path, builders: Builders) -> None:
    assert builders("new", "x").code == 0
    junk = builders_dir(root) / "myjunk"
    junk.mkdir()
    (junk / "notes.txt").write_text("someone's, not ours\n")
    checked = builders("verify", "--json")
    assert checked.code == 1
    row = next(c for c in json.loads(checked.out)["checks"] if c["builder"] == "myjunk")
    assert row["check"] == "registered with git" and "prune leaves it alone" in row["hint"]
    assert builders("prune").code == 0 and junk.is_dir()  # prune, as said, leaves it
    move = row["hint"].rpartition(": ")[2]
    assert move == f"mv {junk} {builders_dir(root).parent}"
    subprocess.run(shlex.split(move), check=True)  # the fix, as printed
    assert (builders_dir(root).parent / "myjunk" / "notes.txt").is_file()
    assert builders("verify").code == 0


def test_a_creation_under_way_is_not_named_as_stopped(root: Path, tmp_path: Path) -> None:
    """verify while a live `new` is inside git: the builder is being made, not stopped half-way; the
    fix is to wait, not `builders new x` (which would only wait for the lock, then fail)."""
    from runs import console, start
    from test_landing_windows import Pause

    pause = Pause(tmp_path)
    proc = start(root, "new", "x", "--repos", "alpha,beta", env=pause.env("worktree add"))
    pause.wait_reached(proc)
    try:
        verified = console(root, "verify", "x")
        assert verified.returncode == 1, verified.stdout + verified.stderr
        assert "under way" in verified.stdout and "(completes it)" not in verified.stdout, verified.stdout
    finally:
        pause.release()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert console(root, "verify", "x").returncode == 0
