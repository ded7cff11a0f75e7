"""status, sync, land, push and restore on real repositories: a builder finished across its repos as
one unit, all or none."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit, edit
from runs import console
from workspace_builders.engine.landing import compare_url
from workspace_builders.gitlayer import git


def tip(repo: Path, ref: str = "refs/heads/main") -> str:
    return git.run(repo, "rev-parse", "--verify", ref).strip()


def refs(repo: Path) -> str:
    return git.run(repo, "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.mark.quick
def test_land_fast_forwards_each_base_and_nothing_else(root: Path, builders: Builders, made: Path) -> None:
    gamma, origin = refs(root / "repos/gamma"), refs(root.parent / "upstream/alpha")
    root_refs = refs(root)
    done = builders("land", "s", "--json")
    assert done.code == 0, done.err
    document = json.loads(done.out)
    assert sorted(m["repo"] for m in document["landed"]) == ["alpha", "beta"]
    for name in ("alpha", "beta"):
        clone = root / "repos" / name
        assert tip(clone) == tip(clone, "refs/heads/builder/s")
        assert git.run(clone, "status", "--porcelain") == ""  # the checked-out main moved with its tree
    assert (root / "repos/alpha/README.md").read_text() == "alpha, changed\n"
    assert (root / "repos/beta/new.txt").read_text() == "beta new\n"
    assert refs(root / "repos/gamma") == gamma
    assert refs(root) == root_refs
    assert refs(root.parent / "upstream/alpha") == origin  # never pushed unless asked
    status = json.loads(builders("status", "s", "--json").out)
    assert [w["ahead"] for w in status["worktrees"]] == [0, 0, 0, 0]
    assert [m["repo"] for m in status["landed"][0]["moves"]] == ["alpha", "beta"]


def test_status_inside_the_builder_counts_against_the_base_as_it_is_now(
    root: Path, builders: Builders, made: Path
) -> None:
    edit(root / "repos/gamma/later.txt", "later\n")
    commit(root / "repos/gamma", "later on main")
    edit(made / "repos/beta/untracked.txt", "u\n")
    done = builders("status", "--json", cwd=made / "repos/beta")
    assert done.code == 0, done.err
    rows = {w["label"]: w for w in json.loads(done.out)["worktrees"]}
    assert (rows["alpha"]["ahead"], rows["alpha"]["behind"]) == (1, 0)
    assert (rows["gamma"]["ahead"], rows["gamma"]["behind"]) == (0, 1)
    assert rows["beta"]["untracked"] == ["untracked.txt"] and rows["beta"]["base"] == "main"
    assert json.loads(done.out)["diffstat"]["files"] == 2


def conflicting(root: Path, made: Path) -> dict[str, str]:
    """beta's main gets a change that conflicts with the builder's; alpha's main one that does not."""
    edit(root / "repos/alpha/other.txt", "fine\n")
    commit(root / "repos/alpha", "alpha main moves")
    edit(root / "repos/beta/new.txt", "the base's own version\n")
    commit(root / "repos/beta", "beta main conflicts")
    return {
        **{f"{n} main": tip(root / "repos" / n) for n in ("alpha", "beta", "gamma")},
        **{f"{n} builder": tip(made / "repos" / n, "HEAD") for n in ("alpha", "beta", "gamma")},
    }


@pytest.mark.parametrize("command", ["sync", "land"])
def test_a_conflict_in_one_repo_puts_every_repo_back(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged, command: str
) -> None:
    before = conflicting(root, made)
    with unchanged():
        done = builders(command, "s")
        assert done.code == 1
        assert "error: beta: rebase onto main stops on a conflict in: new.txt" in done.err
        assert f"hint: resolve it by hand: cd {made / 'repos/beta'} && git rebase main" in done.err
    assert tip(made / "repos/alpha", "HEAD") == before["alpha builder"]
    assert tip(root / "repos/beta") == before["beta main"]


def test_sync_rebases_every_worktree_onto_its_base(root: Path, builders: Builders, made: Path) -> None:
    edit(root / "repos/alpha/other.txt", "fine\n")
    main = commit(root / "repos/alpha", "alpha main moves")
    done = builders("sync", "s")
    assert done.code == 0, done.err
    assert git.is_ancestor(made / "repos/alpha", main, "HEAD")
    assert (made / "repos/alpha/other.txt").read_text() == "fine\n"
    assert git.run(made / "repos/alpha", "log", "-1", "--format=%s").strip() == "alpha work"


def test_sync_fetch_names_a_base_behind_what_it_fetched_and_moves_no_local_branch(
    root: Path, builders: Builders, made: Path
) -> None:
    main = tip(root / "repos/alpha")
    edit(root.parent / "upstream/alpha/teammate.txt", "theirs\n")
    commit(root.parent / "upstream/alpha", "a teammate's commit")
    done = builders("sync", "s", "--fetch")
    assert done.code == 0, done.err
    note = "note: alpha: main [origin/main: behind 1]: the sync is onto the local main, which --fetch does not move"
    assert note in done.err and "note: beta:" not in done.err
    assert f"  fetched {root / 'repos/alpha'}\n" in done.err
    assert f"  {root} has no remote: nothing fetched\n" in done.err and f"  fetched {root}\n" not in done.err
    assert "every worktree is up to date with its base" in done.out
    assert tip(root / "repos/alpha") == main and not (made / "repos/alpha/teammate.txt").exists()


def test_sync_merge_makes_a_merge_commit(root: Path, builders: Builders, made: Path) -> None:
    edit(root / "repos/alpha/other.txt", "fine\n")
    commit(root / "repos/alpha", "alpha main moves")
    assert builders("sync", "s", "--merge").code == 0
    parents = git.run(made / "repos/alpha", "log", "-1", "--format=%P").split()
    assert len(parents) == 2


@pytest.mark.quick
def test_a_dirty_worktree_refuses_sync_only_where_it_would_be_rebased(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    edit(root / "repos/alpha/other.txt", "fine\n")
    commit(root / "repos/alpha", "alpha main moves")
    edit(made / "repos/alpha/README.md", "dirty\n")
    edit(made / "repos/gamma/README.md", "dirty too, but gamma has nothing to rebase\n")
    with unchanged():
        done = builders("sync", "s")
        assert done.code == 1
        assert (
            "error: builder 's' has uncommitted or untracked work in: alpha, which a rebase or merge would have to "
            "move; nothing was changed" in done.err
        )
        shown = f"git -C {made / 'repos/alpha'} status --ignore-submodules=none"
        assert f"hint: commit or stash it first ({shown})" in done.err
    git.run(made / "repos/alpha", "checkout", "--", "README.md")
    done = builders("sync", "s")
    assert done.code == 0, done.err
    assert (made / "repos/gamma/README.md").read_text() == "dirty too, but gamma has nothing to rebase\n"
    assert git.is_ancestor(made / "repos/alpha", tip(root / "repos/alpha"), "HEAD")


def test_a_dirty_worktree_refuses_land_only_where_it_has_commits_to_land(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    edit(made / "repos/gamma/README.md", "dirty, but gamma has nothing to land\n")
    edit(made / "repos/beta/scratch.txt", "untracked in a worktree that lands\n")
    with unchanged():
        refused = builders("land", "s")
    assert refused.code == 1
    assert "error: builder 's' has uncommitted or untracked work in: beta" in refused.err
    assert "gamma" not in refused.err.splitlines()[0]
    (made / "repos/beta/scratch.txt").unlink()
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert tip(root / "repos/beta") == tip(made / "repos/beta", "HEAD")
    assert (made / "repos/gamma/README.md").read_text() == "dirty, but gamma has nothing to land\n"
    assert "note: gamma: 1 uncommitted or untracked file(s) did not land (README.md)" in done.err


def test_a_builder_with_only_uncommitted_work_says_it_landed_nothing_and_names_the_work(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    edit(builders_dir(root) / "s/repos/alpha/README.md", "edited, not committed\n")
    with unchanged():
        done = builders("land", "s")
    assert done.code == 0, done.err
    assert "builder s: nothing to land" in done.out
    assert "note: alpha: 1 uncommitted or untracked file(s) did not land (README.md)" in done.err
    with unchanged():
        removing = builders("land", "s", "--remove")  # the removal refuses the uncommitted work
    assert removing.code == 4, removing.err
    assert "error: builder s had nothing to land, and the removal did not complete (exit 4)" in removing.err
    assert " landed, but " not in removing.err


def test_a_dirty_base_checkout_refuses_landing(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    edit(root / "repos/beta/README.md", "uncommitted in the clone\n")
    with unchanged():
        done = builders("land", "s")
        assert done.code == 1
        assert f"error: beta: its base main is checked out in {root / 'repos/beta'} with uncommitted" in done.err
        assert "nothing landed" in done.err and "hint: commit or stash them" in done.err


def test_a_base_checked_out_in_a_linked_worktree_moves_with_it_and_its_changes_refuse(
    root: Path, builders: Builders, made: Path
) -> None:
    """Where the base is checked out is read from the worktrees' HEAD files: here not the clone's
    folder (on a branch of its own) but a linked worktree of the clone, which moves with the base."""
    clone = root / "repos/alpha"
    git.run(clone, "switch", "--quiet", "-c", "users-own")
    linked = root.parent / "alpha-main"
    git.run(clone, "worktree", "add", "--quiet", str(linked), "main")
    edit(linked / "README.md", "uncommitted in the linked worktree\n")
    refused = builders("land", "s")
    assert refused.code == 1
    assert f"error: alpha: its base main is checked out in {linked} with uncommitted" in refused.err
    git.run(linked, "checkout", "--", "README.md")
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert tip(clone) == tip(clone, "refs/heads/builder/s") == tip(linked, "HEAD")
    assert git.run(linked, "status", "--porcelain") == ""  # its files and index moved with it
    assert (linked / "README.md").read_text() == "alpha, changed\n"
    assert tip(clone, "HEAD") == tip(clone, "refs/heads/users-own")  # the clone's own checkout: untouched


def test_a_base_checkout_whose_head_is_a_symlink_moves_with_it(root: Path, builders: Builders, made: Path) -> None:
    """An old git's symlinked HEAD is no plain file to read: git is asked where the base is checked
    out, so the checkout is never left behind while its branch moves."""
    clone = root / "repos/alpha"
    git.run(clone, "-c", "core.preferSymlinkRefs=true", "symbolic-ref", "HEAD", "refs/heads/main")
    assert (clone / ".git/HEAD").is_symlink()
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert tip(clone) == tip(clone, "refs/heads/builder/s")
    assert git.run(clone, "status", "--porcelain") == ""  # its files and index moved with its branch
    assert (clone / "README.md").read_text() == "alpha, changed\n"


def test_squash_lands_one_commit_per_repo(root: Path, builders: Builders, made: Path) -> None:
    edit(made / "repos/alpha/second.txt", "two\n")
    commit(made / "repos/alpha", "alpha work, part two")
    old = tip(root / "repos/alpha")
    done = builders("land", "s", "--squash", "-m", "the whole session")
    assert done.code == 0, done.err
    alpha = root / "repos/alpha"
    assert git.run(alpha, "log", "-1", "--format=%s %P").strip() == f"the whole session {old}"
    assert (alpha / "second.txt").read_text() == "two\n" and (alpha / "README.md").read_text() == "alpha, changed\n"
    assert tip(alpha) == tip(made / "repos/alpha", "HEAD")


def test_squash_then_remove_takes_the_builder_away(root: Path, builders: Builders, made: Path) -> None:
    """The builder's commits, and the copies the rebase left, are held whole by the squash on the base."""
    edit(made / "repos/alpha/second.txt", "second\n")
    commit(made / "repos/alpha", "alpha second step")
    edit(root / "repos/alpha/theirs.txt", "theirs\n")
    commit(root / "repos/alpha", "alpha main moves on")  # the landing rebases first
    done = builders("land", "s", "--squash", "-m", "the whole fix", "--remove")
    assert done.code == 0, done.err
    assert not made.exists() and "builder s removed" in done.out
    assert git.run(root / "repos/alpha", "log", "-1", "--format=%s", "main").strip() == "the whole fix"
    assert (root / "repos/alpha/second.txt").read_text() == "second\n"
    assert (root / "repos/alpha/README.md").read_text() == "alpha, changed\n"


def test_squash_needs_a_message(root: Path, builders: Builders, made: Path, unchanged: Unchanged) -> None:
    with unchanged():
        done = builders("land", "s", "--squash")
        assert done.code == 2
        assert "error: --squash needs a commit message" in done.err
        assert "hint: builders land s --squash -m 'what this builder did'" in done.err


def test_a_message_without_squash_gets_the_same_command_with_squash(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    with unchanged():
        done = builders("land", "s", "-m", "the fix's message")
        assert done.code == 2
        assert "error: -m is the message of the --squash commit" in done.err
        assert "hint: builders land s --squash -m 'the fix'\"'\"'s message'" in done.err


def test_land_of_an_unknown_builder_is_bad_input(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    with unchanged():
        done = builders("land", "ss")
        assert done.code == 2
        assert "error: no builder named 'ss'" in done.err and "hint: did you mean 's'? builders land s" in done.err


def test_a_failing_pre_land_gate_moves_nothing(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    edit(root / "repos/alpha/other.txt", "fine\n")
    commit(root / "repos/alpha", "alpha main moves")  # so that the builder is rebased, then put back
    (root / "workspaces.local.yaml").write_text("scripts:\n  pre_land: 'touch gate-ran; exit 3'\n")
    before = {n: tip(made / "repos" / n, "HEAD") for n in ("alpha", "beta")}
    with unchanged():
        done = builders("land", "s")
        assert done.code == 1
        assert "error: the pre_land script failed with exit 3; nothing landed" in done.err
        assert "hint: fix what it found" in done.err
        (made / "gate-ran").unlink()
    assert {n: tip(made / "repos" / n, "HEAD") for n in ("alpha", "beta")} == before


def bare_origin(root: Path, name: str) -> Path:
    bare = root.parent / "bare" / f"{name}.git"
    git.run(root.parent, "clone", "--quiet", "--bare", str(root.parent / "upstream" / name), str(bare))
    git.run(root / "repos" / name, "remote", "set-url", "origin", str(bare))
    return bare


def test_push_sends_each_builder_branch_with_commits(root: Path, builders: Builders, made: Path) -> None:
    alpha, beta = bare_origin(root, "alpha"), bare_origin(root, "beta")
    gamma = refs(root.parent / "upstream/gamma")
    done = builders("push", "s", "--json")
    assert done.code == 0, done.err
    rows = {r["repo"]: r for r in json.loads(done.out)["repos"]}
    assert sorted(rows) == ["alpha", "beta"] and all(r["ok"] for r in rows.values())
    assert tip(alpha, "refs/heads/builder/s") == tip(made / "repos/alpha", "HEAD")
    assert tip(beta, "refs/heads/builder/s") == tip(made / "repos/beta", "HEAD")
    assert refs(root.parent / "upstream/gamma") == gamma


def test_land_push_pushes_each_landed_base(root: Path, builders: Builders, made: Path) -> None:
    alpha = bare_origin(root, "alpha")
    bare_origin(root, "beta")
    done = builders("land", "s", "--push")
    assert done.code == 0, done.err
    assert tip(alpha) == tip(root / "repos/alpha")


def test_land_push_with_nothing_to_land_names_a_base_an_earlier_landing_left_unpushed(
    root: Path, builders: Builders, made: Path
) -> None:
    alpha = bare_origin(root, "alpha")
    bare_origin(root, "beta")
    assert builders("land", "s").code == 0
    git.run(root / "repos/alpha", "fetch", "--quiet", "origin")
    again = builders("land", "s", "--push")
    assert again.code == 0, again.err
    assert "nothing to land" in again.out
    hint = f"push it by hand: git -C {root / 'repos/alpha'} push origin main\n"
    assert "note: alpha: main [origin/main: ahead 1] was landed before and is not pushed; " + hint in again.err
    assert tip(alpha) != tip(root / "repos/alpha")
    note = next(line for line in again.err.splitlines() if line.startswith("note: alpha:"))
    pasted = subprocess.run(note.split("push it by hand: ", 1)[1], shell=True, check=False)  # as a user pastes it
    assert pasted.returncode == 0 and tip(alpha) == tip(root / "repos/alpha")


def test_a_refused_push_is_named_and_never_forced(root: Path, builders: Builders, made: Path) -> None:
    alpha = bare_origin(root, "alpha")
    bare_origin(root, "beta")
    other = git.run(alpha, "commit-tree", "refs/heads/main^{tree}", "-m", "someone else's").strip()
    git.run(alpha, "update-ref", "refs/heads/builder/s", other)
    done = builders("push", "s")
    assert done.code == 1
    assert "error: alpha: push of builder/s failed" in done.err and "hint: push it by hand" in done.err
    assert tip(alpha, "refs/heads/builder/s") == other


def test_compare_urls_of_known_forges() -> None:
    assert (
        compare_url("git@github.com:o/r.git", "main", "builder/s") == "https://github.com/o/r/compare/main...builder/s"
    )
    assert compare_url("https://gitlab.com/g/sub/r", "main", "b") == "https://gitlab.com/g/sub/r/-/compare/main...b"
    assert compare_url("/srv/git/r.git", "main", "b") is None


def test_restore_after_forced_removal_gives_back_the_exact_work(root: Path, builders: Builders, made: Path) -> None:
    alpha = made / "repos/alpha"
    edit(alpha / "README.md", "modified, uncommitted\n")
    edit(alpha / "added.txt", "added\n")
    git.run(alpha, "add", "added.txt")
    tracked = [p for p in git.run(alpha, "ls-files").split() if p.startswith("src/")]
    (alpha / tracked[0]).unlink()
    edit(alpha / "notes/untracked.txt", "untracked\n")
    edit(made / "root-untracked.txt", "in the builder's root\n")
    status_before = git.run(alpha, "status", "--porcelain")
    heads = {n: tip(made / "repos" / n, "HEAD") for n in ("alpha", "beta", "gamma")}
    assert builders("remove", "s", "--force").code == 0
    assert not made.exists()
    done = builders("restore", "s")
    assert done.code == 0, done.err
    assert (alpha / "README.md").read_text() == "modified, uncommitted\n"
    assert (alpha / "added.txt").read_text() == "added\n"
    assert not (alpha / tracked[0]).exists()
    assert (alpha / "notes/untracked.txt").read_text() == "untracked\n"
    assert (made / "root-untracked.txt").read_text() == "in the builder's root\n"
    # everything comes back unstaged: a file that was staged as new is untracked again
    after = sorted(git.run(alpha, "status", "--porcelain").splitlines())
    assert after == sorted(status_before.replace("A  added.txt", "?? added.txt").splitlines())
    assert git.run(alpha, "diff", "--cached", "--name-only") == ""
    assert {n: tip(made / "repos" / n, "HEAD") for n in ("alpha", "beta", "gamma")} == heads
    assert git.run(made, "symbolic-ref", "HEAD").strip() == "refs/heads/builder/s"
    assert builders("verify", "s").code == 0
    status = json.loads(builders("status", "s", "--json").out)
    assert [w["label"] for w in status["worktrees"]] == ["root", "alpha", "beta", "gamma"]


def test_restore_of_an_unknown_removal_is_bad_input(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        done = builders("restore", "nobody")
        assert done.code == 2
        assert "error: no removal of 'nobody'" in done.err and "hint: see the removed builders" in done.err


@pytest.mark.parametrize(
    "point", ["land:journalled", "land:ref-moved:alpha", "land:moved:alpha", "land:ref-moved:beta"]
)
def test_land_killed_leaves_each_base_old_or_new_and_a_rerun_completes(root: Path, made: Path, point: str) -> None:
    old = {n: tip(root / "repos" / n) for n in ("alpha", "beta")}
    new = {n: tip(made / "repos" / n, "HEAD") for n in ("alpha", "beta")}
    killed = console(root, "land", "s", fault=point)
    assert killed.returncode == -9
    for n in ("alpha", "beta"):
        assert tip(root / "repos" / n) in (old[n], new[n])
    done = console(root, "land", "s")
    assert done.returncode == 0, done.stderr
    for n in ("alpha", "beta"):
        clone = root / "repos" / n
        assert tip(clone) == new[n]
        assert git.run(clone, "status", "--porcelain") == ""
    assert not (root / ".git/builders/landing/s.json").exists()


def test_land_remove_records_what_landed_for_list_removed(root: Path, builders: Builders, made: Path) -> None:
    done = builders("land", "s", "--remove", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["removed"] is True and not made.exists()
    removed = json.loads(builders("list", "--removed", "--json").out)["removed"]
    assert [m["repo"] for m in removed[-1]["landed"][0]["moves"]] == ["alpha", "beta"]


def test_land_refuses_a_repo_whose_work_cannot_land_and_moves_nothing(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    """A repo with commits whose base is no branch (here: its clone's HEAD detached, base HEAD) would
    otherwise be skipped while the others land and the run says all is well."""
    git.run(root / "repos/alpha", "checkout", "--quiet", "--detach")
    record = root / ".git/builders/state/s.json"
    state = json.loads(record.read_text())
    for repo in state["repos"]:
        if repo["name"] == "alpha":
            repo["base_ref"] = "HEAD"
    record.write_text(json.dumps(state))
    with unchanged():
        done = builders("land", "s")
    assert done.code == 1, done.out
    assert "error: alpha: its base 'HEAD' is not a branch" in done.err and "nothing was changed" in done.err


def test_land_refuses_work_committed_off_the_builder_branch(
    root: Path, builders: Builders, made: Path, unchanged: Unchanged
) -> None:
    git.run(made / "repos/gamma", "checkout", "--quiet", "--detach")
    edit(made / "repos/gamma/detached.txt", "on no branch\n")
    commit(made / "repos/gamma", "detached work")
    with unchanged():
        done = builders("land", "s")
    assert done.code == 1
    assert "gamma" in done.err and "is not on its branch builder/s" in done.err
    assert "hint: put it on the branch (git -C" in done.err


def test_a_stopped_landing_whose_bases_moved_on_is_complete(root: Path, builders: Builders, made: Path) -> None:
    killed = console(root, "land", "s", fault="land:moved:beta")
    assert killed.returncode != 0
    clone = root / "repos/alpha"
    edit(clone / "after.txt", "built on the landing\n")
    commit(clone, "another landing on top")  # main moved past what the stopped landing left
    status = builders("status", "s", "--json")
    assert json.loads(status.out)["landing_stopped"] is True
    assert "a landing of it was stopped half-way: builders land s completes it" in builders("status", "s").out
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert git.is_ancestor(clone, tip(clone, "refs/heads/builder/s"), tip(clone))
    assert not (root / ".git/builders/landing/s.json").exists()


@pytest.mark.quick
def test_land_keeps_the_builder_when_a_push_failed(root: Path, builders: Builders, made: Path) -> None:
    bare_origin(root, "alpha")
    git.run(root / "repos/beta", "remote", "set-url", "origin", str(root.parent / "no-such-remote"))
    done = builders("land", "s", "--push", "--remove")
    assert done.code == 4  # landed, but a follow-up step failed
    assert "push of main failed" in done.err and "builder s kept: a push failed" in done.err
    assert "error: builder s landed, but its push did not complete (exit 4)" in done.err
    assert made.is_dir() and json.loads(builders("status", "s", "--json").out)["name"] == "s"
    assert tip(root / "repos/beta") == tip(made / "repos/beta", "HEAD")  # the landing itself stands


def test_land_json_says_landed_but_not_ok_when_a_push_failed(root: Path, builders: Builders, made: Path) -> None:
    git.run(root / "repos/alpha", "remote", "set-url", "origin", str(root.parent / "no-such-remote"))
    git.run(root / "repos/beta", "config", "branch.main.remote", "mirror")  # a remote that is not there
    done = builders("land", "s", "--push", "--json")
    assert done.code == 4
    document = json.loads(done.out)
    assert document["ok"] is False and sorted(m["repo"] for m in document["landed"]) == ["alpha", "beta"]
    rows = {r["repo"]: r for r in document["pushed"]}
    assert rows["alpha"]["ok"] is False and "no-such-remote" in rows["alpha"]["error"]
    assert rows["beta"]["ok"] is None and rows["beta"]["skipped"] == "no remote 'mirror'"
    assert f"beta: not pushed: {root / 'repos/beta'} has no remote 'mirror'" in done.err


def test_land_push_skips_a_repo_without_the_remote_with_a_note(root: Path, builders: Builders, made: Path) -> None:
    alpha = bare_origin(root, "alpha")
    git.run(root / "repos/beta", "config", "branch.main.remote", "mirror")  # a remote that is not there
    done = builders("land", "s", "--push")
    assert done.code == 0, done.err
    assert tip(alpha) == tip(root / "repos/alpha")
    assert "beta: not pushed:" in done.err and "has no remote 'mirror'" in done.err


def test_land_then_remove_deletes_the_landed_branches(root: Path, builders: Builders, made: Path) -> None:
    done = builders("land", "s", "--remove")
    assert done.code == 0, done.err
    assert done.out.index("builder s landed:") < done.out.index("builder s removed")
    for name in ("alpha", "beta", "gamma"):  # landed into main, or never moved: nothing would be lost
        assert git.run(root / "repos" / name, "branch", "--list", "builder/s").strip() == "", name


def test_remove_keeps_a_branch_whose_commits_no_other_branch_has(root: Path, builders: Builders, made: Path) -> None:
    git.run(made / "repos/alpha", "branch", "--quiet", "copy-of-work")  # alpha's work, on a second branch
    done = builders("remove", "s")
    assert done.code == 0, done.err
    assert git.run(root / "repos/alpha", "branch", "--list", "builder/s").strip() == ""  # copy-of-work has it
    assert "builder/s" in git.run(root / "repos/beta", "branch", "--list", "builder/s")
    assert "kept branch in beta: builder/s (has commits no other branch has: it is kept)" in done.out
