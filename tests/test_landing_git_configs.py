"""`sync` and `land` rebase, merge and squash with the user's git config in force: settings real users
have either leave the run as it would be without them, or stop it with every repo put back and git's
own words; none moves a branch that is not the builder's, and none loses a commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, commit, edit, edit_behind_a_lagging_monitor
from runs import environment
from workspace_builders.gitlayer import git


def tip(repo: Path, ref: str = "refs/heads/main") -> str:
    return git.run(repo, "rev-parse", "--verify", ref).strip()


def user_config(*pairs: tuple[str, str]) -> None:
    """Set in the private HOME's ~/.gitconfig, as a user's own would be."""
    config = os.environ["GIT_CONFIG_GLOBAL"]
    for key, value in pairs:
        git.run(Path(config).parent, "config", "--file", config, key, value)


def main_moves(root: Path) -> str:
    edit(root / "repos/alpha/other.txt", "from main\n")
    return commit(root / "repos/alpha", "alpha main moves")


def beta_conflicts(root: Path) -> None:
    edit(root / "repos/beta/new.txt", "the base's own version\n")
    commit(root / "repos/beta", "beta main conflicts")


@pytest.mark.parametrize("command", ["sync", "land"])
def test_rebase_update_refs_moves_no_other_branch(root: Path, builders: Builders, made: Path, command: str) -> None:
    user_config(("rebase.updateRefs", "true"))
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    mine = tip(alpha, "HEAD")
    git.run(clone, "branch", "users-own", mine)  # a user's branch at the builder's commit
    assert builders("new", "t", "--repos", "alpha").code == 0
    other = made.parent / "t/repos/alpha"
    git.run(other, "reset", "--quiet", "--keep", mine)  # another builder's branch there too (checked out)
    main = main_moves(root)
    done = builders(command, "s")
    assert done.code == 0, done.err
    assert git.is_ancestor(alpha, main, "HEAD") and tip(alpha, "HEAD") != mine
    assert tip(clone, "refs/heads/users-own") == mine
    assert tip(clone, "refs/heads/builder/t") == mine


def test_rebase_update_refs_and_a_conflict_leave_every_other_branch(root: Path, builders: Builders, made: Path) -> None:
    user_config(("rebase.updateRefs", "true"))
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    mine = tip(alpha, "HEAD")
    git.run(clone, "branch", "users-own", mine)
    main_moves(root)
    beta_conflicts(root)
    done = builders("sync", "s")
    assert done.code == 1 and "stops on a conflict in: new.txt" in done.err
    assert tip(alpha, "HEAD") == mine  # put back
    assert tip(clone, "refs/heads/users-own") == mine  # and never moved


@pytest.mark.parametrize("command", ["sync", "land"])
def test_a_merge_commit_in_the_builder_is_not_flattened_by_a_rebase(
    root: Path, builders: Builders, made: Path, command: str
) -> None:
    """A rebase replays the commits merged and drops what the merge commit itself changed."""
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    git.run(clone, "branch", "side", "main")
    side = root.parent / "side"
    git.run(clone, "worktree", "add", "--quiet", str(side), "side")
    edit(side / "side.txt", "side\n")
    commit(side, "side work")
    git.run(alpha, "merge", "--quiet", "--no-commit", "--no-ff", "side")
    edit(alpha / "fix.txt", "made while merging\n")
    git.run(alpha, "add", "fix.txt")
    mine = commit(alpha, "merge side, with a fix")
    main = main_moves(root)
    done = builders(command, "s")
    assert done.code == 1
    assert "error: alpha: builder/s has a merge commit" in done.err and "nothing moved" in done.err
    assert "hint: bring it up with a merge instead: builders sync s --merge" in done.err
    assert tip(alpha, "HEAD") == mine and tip(clone) == main
    assert builders("sync", "s", "--merge").code == 0  # the hint, taken
    assert builders("land", "s").code == 0
    assert (clone / "fix.txt").read_text() == "made while merging\n"
    assert (clone / "side.txt").exists() and (clone / "other.txt").exists()


@pytest.mark.parametrize(
    "config",
    [
        [("commit.gpgSign", "true"), ("gpg.program", "false")],  # a commit it cannot sign
        [("user.useConfigOnly", "true")],  # and no user.email: no identity
    ],
    ids=["gpg-fails", "no-identity"],
)
@pytest.mark.parametrize("command", [("sync",), ("sync", "--merge"), ("land",)])
def test_a_commit_git_cannot_make_stops_the_run_with_every_repo_put_back(
    root: Path, builders: Builders, made: Path, config: list[tuple[str, str]], command: tuple[str, ...]
) -> None:
    alpha = made / "repos/alpha"
    mine = tip(alpha, "HEAD")
    main = main_moves(root)
    user_config(*config)
    if ("user.useConfigOnly", "true") in config:
        git.run(alpha, "config", "--file", os.environ["GIT_CONFIG_GLOBAL"], "--unset", "user.email")
    done = builders(*command, "s")
    assert done.code == 1
    how = "merge" if "--merge" in command else "rebase"
    assert f"error: alpha: git {how} main stopped: " in done.err and "conflict" not in done.err
    assert "every repo was put back where it was" in done.err
    assert tip(alpha, "HEAD") == mine and tip(root / "repos/alpha") == main
    assert git.run(alpha, "status", "--porcelain") == ""
    assert not (root / "repos/alpha/.git/worktrees/alpha/rebase-merge").exists()
    assert not (root / "repos/alpha/.git/worktrees/alpha/MERGE_HEAD").exists()


@pytest.mark.parametrize("command", [("land",), ("sync", "--merge")])
def test_rerere_staging_a_recorded_resolution_still_stops_the_sync(
    root: Path, builders: Builders, made: Path, command: tuple[str, ...]
) -> None:
    """A conflict rerere resolves from a recorded resolution is still a conflict: nothing lands on it."""
    user_config(("rerere.enabled", "true"), ("rerere.autoUpdate", "true"))
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    mine = tip(alpha, "HEAD")
    edit(clone / "README.md", "main's own readme\n")
    commit(clone, "conflicting on main")
    how = "merge" if "--merge" in command else "rebase"
    assert git.attempt(alpha, how, "main").returncode != 0
    edit(alpha / "README.md", "resolved once\n")
    git.run(alpha, "add", "README.md")
    git.run(alpha, "-c", "core.editor=true", how, "--continue")  # rerere records the resolution
    git.run(alpha, "reset", "--quiet", "--keep", mine)
    main = main_moves(root)
    done = builders(*command, "s")
    assert done.code == 1
    assert f"error: alpha: git {how} main stopped: " in done.err and "README.md" in done.err
    assert tip(alpha, "HEAD") == mine and tip(clone) == main
    assert git.run(alpha, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "config",
    [
        ("core.editor", "false"),
        ("sequence.editor", "false"),
        ("rebase.autoSquash", "true"),
        ("rebase.missingCommitsCheck", "error"),
        ("commit.verbose", "true"),
        ("merge.conflictStyle", "zdiff3"),
        ("rebase.backend", "apply"),
        ("rebase.autoStash", "true"),
        ("pull.rebase", "true"),
    ],
)
def test_settings_that_change_nothing_here_land_every_commit(
    root: Path, builders: Builders, made: Path, config: tuple[str, str]
) -> None:
    alpha = made / "repos/alpha"
    edit(alpha / "fix.txt", "fix\n")
    commit(alpha, "fixup! alpha work")  # autoSquash would fold it: only an interactive rebase does
    main = main_moves(root)
    user_config(config)
    done = builders("land", "s")
    assert done.code == 0, done.err
    clone = root / "repos/alpha"
    subjects = git.run(clone, "log", "--format=%s", f"{main}..main").splitlines()
    assert subjects == ["fixup! alpha work", "alpha work"]
    assert git.run(alpha, "status", "--porcelain") == ""


@pytest.mark.parametrize("backend", ["merge", "apply"])
def test_empty_and_already_upstream_commits(root: Path, builders: Builders, made: Path, backend: str) -> None:
    """An empty commit is kept (the apply backend would drop it); one whose change the base already has
    is dropped (its change is there)."""
    user_config(("rebase.backend", backend))
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    edit(clone / "README.md", "alpha, changed\n")  # the builder's "alpha work", on main too
    commit(clone, "the same change on main")
    git.run(alpha, "commit", "--quiet", "--allow-empty", "-m", "empty")
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert git.run(clone, "log", "--format=%s", "-3", "main").splitlines()[:2] == ["empty", "the same change on main"]
    assert (clone / "README.md").read_text() == "alpha, changed\n"


@pytest.mark.parametrize("squash", [(), ("--squash", "-m", "squashed")])
def test_a_builder_whose_every_commit_is_already_upstream_lands_nothing(
    root: Path, builders: Builders, made: Path, squash: tuple[str, ...]
) -> None:
    """The rebase drops each commit whose change the base already has: nothing is left to land, and
    no empty squash commit nor an empty landing is made of it."""
    mains = {}
    for name, path, text in (("alpha", "README.md", "alpha, changed\n"), ("beta", "new.txt", "beta new\n")):
        edit(root / "repos" / name / path, text)
        mains[name] = commit(root / "repos" / name, "the same change on main")
    done = builders("land", "s", *squash)
    assert done.code == 0, done.err
    assert "builder s: nothing to land (no commits beyond any base)" in done.out
    assert {n: tip(root / "repos" / n) for n in mains} == mains
    assert {n: tip(made / "repos" / n, "HEAD") for n in mains} == mains  # brought up: nothing of theirs lost
    assert "landed " not in builders("status", "s").out


@pytest.mark.parametrize("merge", [(), ("--merge",)])
def test_a_resolution_made_in_a_rebase_a_killed_sync_left_is_never_aborted(
    root: Path, builders: Builders, made: Path, merge: tuple[str, ...]
) -> None:
    """A sync killed once its git stopped on a conflict leaves the worktree mid-rebase (or mid-merge), as
    git says; what is done there since (a conflict resolved by hand) is not the run's to drop."""
    beta_conflicts(root)
    beta = made / "repos/beta"
    mine = tip(beta, "HEAD")
    env = environment(fault="sync:rebased:beta")
    killed = subprocess.run(["builders", "sync", "s", *merge], cwd=root, env=env, capture_output=True, check=False)
    assert killed.returncode == -9
    edit(beta / "new.txt", "the careful resolution\n")
    git.run(beta, "add", "new.txt")
    for command in ("sync", "land"):
        done = builders(command, "s")
        assert done.code == 1
        how = "merge" if merge else "rebase"
        assert f"error: beta: {beta} is in the middle of the {how} a stopped sync left, with changes" in done.err
        assert f"hint: finish it (git {how} --continue) or drop it (git {how} --abort)" in done.err
        assert (beta / "new.txt").read_text() == "the careful resolution\n"
    git.run(beta, "-c", "core.editor=true", "rebase" if not merge else "merge", "--continue")
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert (root / "repos/beta/new.txt").read_text() == "the careful resolution\n"
    assert git.is_ancestor(beta, mine, "HEAD") == bool(merge)


def test_a_rebase_a_killed_sync_left_untouched_is_taken_up(root: Path, builders: Builders, made: Path) -> None:
    """Stopped between two commits, with nothing changed: the next run aborts it and starts again."""
    beta = made / "repos/beta"
    edit(beta / "second.txt", "second\n")
    mine = commit(beta, "beta second")
    edit(root / "repos/beta/other.txt", "from main\n")
    main = commit(root / "repos/beta", "beta main moves")
    env = environment(fault="sync:rebased:beta")
    killed = subprocess.run(["builders", "sync", "s"], cwd=root, env=env, capture_output=True, check=False)
    assert killed.returncode == -9
    git.run(beta, "reset", "--quiet", "--keep", mine)  # as if killed mid-way: stopped after its first pick
    assert git.attempt(beta, "rebase", "--quiet", "--exec", "false", main).returncode != 0
    done = builders("sync", "s")
    assert done.code == 0, done.err
    assert "beta: aborted the rebase a stopped sync left" in done.err
    assert git.is_ancestor(beta, main, "HEAD") and (beta / "second.txt").exists()


@pytest.mark.parametrize("stash", [False, True], ids=["", "autostash"])
@pytest.mark.parametrize("merge", [(), ("--merge",)])
def test_an_edit_a_file_system_monitor_has_not_reported_is_never_written_over_by_the_sync(
    root: Path, builders: Builders, made: Path, tmp_path: Path, merge: tuple[str, ...], stash: bool
) -> None:
    """A monitor that has not reported an edit yet (watchman settles first) has the look before the
    sync take the worktree for clean; the rebase or merge then writes the files the base changed, and
    with the monitor's word, over that edit."""
    module = "src/pkg01/module00001.py"
    edit(root / "repos/beta" / module, "VALUE = 'from main'\n")
    commit(root / "repos/beta", "beta main changes the module")
    beta = made / "repos/beta"
    mine = tip(beta, "HEAD")
    edit_behind_a_lagging_monitor(beta, module, "my own version, never committed\n", tmp_path)
    if stash:
        user_config(("rebase.autoStash", "true"), ("merge.autoStash", "true"))
    done = builders("sync", "s", *merge)
    assert (beta / module).read_text() == "my own version, never committed\n"
    assert done.code == 1, done.out + done.err
    said = module if merge else "cannot rebase: You have unstaged changes"
    assert said in done.err and "every repo was put back where it was" in done.err
    assert tip(beta, "HEAD") == mine
    assert git.run(beta, "stash", "list") == ""  # nothing was stashed away


def fake_gpg(folder: Path, works: bool) -> Path:
    """A gpg.program that signs anything with a made-up signature, as gpg would say it did (or fails)."""
    program = folder / ("fake-gpg" if works else "failing-gpg")
    body = (
        "cat > /dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 0 0' >&2\n"
        "printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nbWFkZSB1cA==\\n-----END PGP SIGNATURE-----\\n'\n"
        if works
        else "exit 1\n"
    )
    program.write_text("#!/bin/sh\n" + body)
    program.chmod(0o755)
    return program


@pytest.mark.parametrize("works", [True, False], ids=["signs", "cannot-sign"])
def test_the_squash_commit_is_signed_as_the_users_commits_are(
    root: Path, builders: Builders, made: Path, tmp_path: Path, works: bool
) -> None:
    alpha, clone = made / "repos/alpha", root / "repos/alpha"
    mine, main = tip(alpha, "HEAD"), tip(clone)
    user_config(("commit.gpgSign", "true"), ("gpg.program", str(fake_gpg(tmp_path, works))))
    done = builders("land", "s", "--squash", "-m", "squashed")
    if works:
        assert done.code == 0, done.err
        assert "gpgsig -----BEGIN PGP SIGNATURE-----" in git.run(clone, "cat-file", "commit", "main")
    else:
        assert done.code == 1 and "gpg failed to sign the data" in done.err
        assert tip(alpha, "HEAD") == mine and tip(clone) == main


def test_signed_commits_shown_with_their_signatures_still_read_right(
    root: Path, builders: Builders, made: Path, tmp_path: Path
) -> None:
    """With log.showSignature, `git log` writes gpg's check of each signed commit into its output, before
    the format asked for; what the toolkit reads of a log is that format alone."""
    user_config(("commit.gpgSign", "true"), ("gpg.program", str(fake_gpg(tmp_path, works=True))))
    alpha = made / "repos/alpha"
    edit(alpha / "signed.txt", "signed\n")
    commit(alpha, "signed work")
    user_config(("log.showSignature", "true"))
    done = builders("land", "s", "--squash", "-m", "squashed")
    assert done.code == 0, done.err
    removed = builders("remove", "s")  # its commits judged landed by their patch, through the log
    assert removed.code == 0, removed.err


def test_a_squash_commit_with_no_identity_lands_nothing(root: Path, builders: Builders, made: Path) -> None:
    tips = {n: (tip(made / "repos" / n, "HEAD"), tip(root / "repos" / n)) for n in ("alpha", "beta")}
    user_config(("user.useConfigOnly", "true"))
    git.run(root, "config", "--file", os.environ["GIT_CONFIG_GLOBAL"], "--unset", "user.email")
    done = builders("land", "s", "--squash", "-m", "squashed")
    assert done.code == 1 and "no email was given" in done.err
    assert {n: (tip(made / "repos" / n, "HEAD"), tip(root / "repos" / n)) for n in tips} == tips


def test_a_hook_that_refuses_a_base_update_refuses_before_anything_moves(
    root: Path, made: Path, builders: Builders
) -> None:
    """A reference-transaction hook that protects main (in the clone's hooks or core.hooksPath)
    refused the update of beta's base after alpha's had moved: a partial landing, reported as
    "main moved while landing ... run the command again", which fails the same way for good. Each
    base's update is tried as a transaction (prepared, then aborted) before the first one moves."""
    beta = root / "repos/beta"
    hook = beta / ".git/hooks/reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        '#!/bin/sh\n[ "$1" = prepared ] || exit 0\n'
        'if grep -q " refs/heads/main$"; then echo "main is protected here" >&2; exit 1; fi\nexit 0\n'
    )
    hook.chmod(0o755)
    before = {n: git.run(root / "repos" / n, "rev-parse", "main").strip() for n in ("alpha", "beta", "gamma")}
    result = builders("land", "s")
    assert result.code == 1, result.out + result.err
    assert "main is protected here" in result.err and "nothing landed" in result.err, result.err
    assert "moved" not in result.err, result.err
    assert {n: git.run(root / "repos" / n, "rev-parse", "main").strip() for n in before} == before
    assert not (root / ".git/builders/landing/s.json").exists()
    hook.unlink()
    assert builders("land", "s").code == 0
