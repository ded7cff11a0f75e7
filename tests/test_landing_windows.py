"""`land` and `sync` stopped in each of their windows (git paused by a wrapper on PATH or a smudge
filter, the gate by its own script), by SIGKILL, SIGINT and SIGTERM to the run or to its process
group. After each: no base went backwards (every reflog entry descends from the one before), the
re-run completes it, every checkout is clean and on its branch, nothing is lost, `verify` is clean.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Builders, builders_dir, commit, edit
from runs import console, environment, signal_run, start, wait_for
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and signals as on Linux")

REPOS = ("alpha", "beta")


def tip(repo: Path, ref: str = "refs/heads/main") -> str:
    return git.run(repo, "rev-parse", "--verify", ref).strip()


def assert_never_backwards(repo: Path, ref: str = "refs/heads/main") -> None:
    """Every entry of the branch's reflog descends from the one before it."""
    shas = git.run(repo, "reflog", "show", "--format=%H", ref, "--").split()  # newest first
    for newer, older in itertools.pairwise(shas):
        assert git.is_ancestor(repo, older, newer), f"{repo} {ref} went back from {older} to {newer}"


def assert_checkout_whole(clone: Path) -> None:
    assert git.run(clone, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git.run(clone, "status", "--porcelain", "--untracked-files=no") == "", clone
    assert not (clone / ".git/index.lock").exists()
    assert git.attempt(clone, "diff-index", "--cached", "--quiet", "HEAD").returncode == 0


class Pause:
    """A `git` on PATH that stops before the first call whose arguments hold `on`, until released."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "pause"
        self.dir.mkdir()
        self.bin = tmp_path / "pause-bin"
        self.bin.mkdir()
        real = shutil.which("git")
        assert real
        wrapper = self.bin / "git"
        wrapper.write_text(
            "#!/bin/sh\n"
            'case " $* " in\n'
            '  *"$BUILDERS_TEST_PAUSE_ON"*)\n'
            '    if [ -n "$BUILDERS_TEST_PAUSE_ON" ] && mkdir "$BUILDERS_TEST_PAUSE_DIR/taken" 2>/dev/null; then\n'
            '      touch "$BUILDERS_TEST_PAUSE_DIR/reached"\n'
            '      while [ ! -e "$BUILDERS_TEST_PAUSE_DIR/go" ]; do sleep 0.02; done\n'
            "    fi ;;\n"
            "esac\n"
            f'exec "{real}" "$@"\n'
        )
        wrapper.chmod(0o755)

    def env(self, on: str) -> dict[str, str]:
        return {
            **environment(path_first=self.bin),
            "BUILDERS_TEST_PAUSE_ON": on,
            "BUILDERS_TEST_PAUSE_DIR": str(self.dir),
        }

    def smudge_in(self, clone: Path, path: str) -> None:
        """Make git stop while it writes `path` into the clone's checkout (a smudge filter)."""
        script = (
            f'if mkdir "{self.dir}/taken" 2>/dev/null; then touch "{self.dir}/reached"; '
            f'while [ ! -e "{self.dir}/go" ]; do sleep 0.02; done; fi; cat'
        )
        git.run(clone, "config", "filter.pause.smudge", f"sh -c '{script}'")
        git.run(clone, "config", "filter.pause.clean", "cat")
        (clone / ".git/info").mkdir(exist_ok=True)
        (clone / ".git/info/attributes").write_text(f"{path} filter=pause\n")

    def wait_reached(self, proc: subprocess.Popen[str]) -> None:
        wait_for(self.dir / "reached", proc)

    def release(self) -> None:
        (self.dir / "go").touch()


def stop(proc: subprocess.Popen[str], pause: Pause, sig: int, group: bool) -> tuple[int, str]:
    signal_run(proc, sig, group=group)
    time.sleep(0.1)
    pause.release()  # a git left running (its run killed alone) goes on, as it would
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


WINDOWS = {
    # the gate runs (before any lock or journal)
    "gate": "",
    # the first checkout's index.lock is ours, its copy made, nothing moved (the move's read-tree, not
    # the one that tried it with nothing written: `-n` before the commits)
    "index-locked": "read-tree -m -u {alpha}",
    # the first base moved; the second checkout's files being written (a smudge filter waits)
    "files-half-written": "smudge",
    # the second checkout's files and index (in our lock) moved, its branch not yet
    "files-moved": "{root}/repos/beta update-ref -m",  # the move, not its trial (update-ref --stdin)
}
STOPS = {
    "KILL": (signal.SIGKILL, False),
    "KILL-group": (signal.SIGKILL, True),
    "INT-group": (signal.SIGINT, True),
    "TERM": (signal.SIGTERM, False),
}


@pytest.mark.parametrize("stop_with", list(STOPS))
@pytest.mark.parametrize("window", list(WINDOWS))
def test_land_stopped_in_a_window_never_goes_back_and_a_rerun_completes(
    root: Path, made: Path, tmp_path: Path, window: str, stop_with: str
) -> None:
    pause = Pause(tmp_path)
    work = {n: tip(made / "repos" / n, "HEAD") for n in REPOS}
    old = {n: tip(root / "repos" / n) for n in REPOS}
    on = WINDOWS[window].format(root=root, alpha=old["alpha"])  # only alpha has that commit
    if window == "gate":
        (root / "workspaces.local.yaml").write_text(
            f"scripts:\n  pre_land: 'touch {pause.dir}/reached; while [ ! -e {pause.dir}/go ]; do sleep 0.02; done'\n"
        )
    if window == "files-half-written":
        pause.smudge_in(root / "repos/beta", "new.txt")
        on = ""
    proc = start(root, "land", "s", env=pause.env(on))
    pause.wait_reached(proc)
    sig, group = STOPS[stop_with]
    code, err = stop(proc, pause, sig, group)
    assert code != 3, err  # never a crash
    for n in REPOS:
        clone = root / "repos" / n
        assert tip(clone) in (old[n], work[n]), n
        assert_never_backwards(clone)
    pending = (root / ".git/builders/landing/s.json").exists()
    if code == 0:  # a stop held off until the bases moved, and said so: then every one of them did
        assert "the landing was completed first" in err
        assert not pending and {n: tip(root / "repos" / n) for n in REPOS} == work
    if sig == signal.SIGKILL and window in ("gate", "index-locked"):
        assert {n: tip(root / "repos" / n) for n in REPOS} == old  # nothing moved yet
        assert pending == (window == "index-locked")  # the journal is written before the first move
    if sig == signal.SIGKILL and window in ("files-half-written", "files-moved"):
        assert pending and tip(root / "repos/alpha") == work["alpha"]  # alpha moved: only forward from here
    checked = console(root, "verify", "s")
    if pending:
        assert checked.returncode == 1 and "builders land s" in checked.stdout + checked.stderr
    stale = [
        c / ".git/index.lock" for c in (root / "repos/alpha", root / "repos/beta") if (c / ".git/index.lock").exists()
    ]
    if sig == signal.SIGKILL and window != "gate":
        assert stale  # the run died holding a checkout's index.lock
    again = console(root, "land", "s")
    assert again.returncode == 0, again.stderr
    for lock in stale:  # recognised as ours (the journal names that move), cleared with a line saying so
        assert f"removed {lock}: left by a landing of ours stopped while it moved main" in again.stderr
    for n in REPOS:
        clone = root / "repos" / n
        assert git.is_ancestor(clone, work[n], tip(clone)), f"{n}: the builder's work did not land"
        assert_never_backwards(clone)
        assert_checkout_whole(clone)
    assert (root / "repos/beta/new.txt").read_text() == "beta new\n"
    assert (root / "repos/alpha/README.md").read_text() == "alpha, changed\n"
    assert not (root / ".git/builders/landing/s.json").exists()
    verified = console(root, "verify", "s")
    assert verified.returncode == 0, verified.stdout


def test_a_foreign_index_lock_refuses_before_anything_moves(root: Path, made: Path, builders: Builders) -> None:
    lock = root / "repos/beta/.git/index.lock"
    lock.write_text("")  # an editor's git, holding it
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1
    assert f"error: beta: {lock} is held" in done.err and "nothing landed" in done.err
    assert f"hint: let that git finish; if none runs (fuser {lock} says nothing), remove it: rm {lock}" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before  # alpha did not move first
    assert lock.exists()
    lock.unlink()
    assert builders("land", "s").code == 0


def test_a_base_mid_rebase_refuses_before_anything_moves(root: Path, made: Path, builders: Builders) -> None:
    beta = root / "repos/beta"
    edit(beta / "x.txt", "one\n")
    first = commit(beta, "x one")
    git.run(beta, "switch", "-q", "-c", "side", "HEAD~1")
    edit(beta / "x.txt", "two\n")
    commit(beta, "x two")
    git.attempt(beta, "rebase", first)  # stops on the conflict in x.txt
    git.run(beta, "rebase", "--abort")
    git.run(beta, "switch", "-q", "main")
    git.attempt(beta, "cherry-pick", "side")  # conflicts: a cherry-pick is under way on main
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1
    assert f"a cherry-pick is under way in {beta}" in done.err or "uncommitted changes" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before


def test_a_touched_but_unchanged_file_is_not_dirt(root: Path, made: Path, builders: Builders) -> None:
    readme = root / "repos/alpha/README.md"
    os.utime(readme, (1, 1))  # stat-dirty, same content
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert readme.read_text() == "alpha, changed\n"
    assert_checkout_whole(root / "repos/alpha")


OVERLAPPING = {"p": ("alpha", "beta"), "q": ("beta", "gamma"), "r": ("alpha", "gamma")}


def overlapping_builders(root: Path, builders: Builders, names: tuple[str, ...]) -> None:
    """Each named builder with a commit of its own in each of its repos (see OVERLAPPING)."""
    for name in names:
        assert builders("new", name, "--repos", ",".join(OVERLAPPING[name])).code == 0
        for repo in OVERLAPPING[name]:
            work = builders_dir(root) / name / "repos" / repo
            edit(work / f"{name}.txt", f"{name} in {repo}\n")
            commit(work, f"{name} work in {repo}")


def assert_all_landed(root: Path, names: tuple[str, ...]) -> None:
    for repo in ("alpha", "beta", "gamma"):
        clone = root / "repos" / repo
        subjects = git.run(clone, "log", "--format=%s", "main").splitlines()
        for name in names:
            if repo in OVERLAPPING[name]:
                assert f"{name} work in {repo}" in subjects
                assert (clone / f"{name}.txt").read_text() == f"{name} in {repo}\n"
        assert_never_backwards(clone)
        assert_checkout_whole(clone)


@pytest.mark.parametrize("names", [("p", "q"), ("p", "q", "r")], ids=["two", "three"])
def test_builders_landing_into_overlapping_repos_at_once_lose_cleanly_and_land_on_their_own_retry(
    root: Path, builders: Builders, tmp_path: Path, names: tuple[str, ...]
) -> None:
    """All of them pass their gate on the same base tips; the last released wins; each of the
    others finds a base it would move already moved (no base moves before that check, so none is
    ever put back), says so, looks again and lands onto the new tips, its gate run again."""
    overlapping_builders(root, builders, names)
    gate = tmp_path / "gate"
    gate.mkdir()
    (root / "workspaces.local.yaml").write_text(
        f"scripts:\n  pre_land: 'echo \"$(git -C {root}/repos/alpha rev-parse main)\" >> {gate}/saw-$BUILDER_NAME; "
        f"touch {gate}/at-$BUILDER_NAME; while [ ! -e {gate}/go-$BUILDER_NAME ]; do sleep 0.02; done'\n"
    )
    procs = {n: start(root, "land", n) for n in names}
    deadline = time.monotonic() + 120
    while not all((gate / f"at-{n}").exists() for n in names):  # every one past its rebase, in its gate
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs.values())
        time.sleep(0.02)
    before = {r: tip(root / "repos" / r) for r in ("alpha", "beta", "gamma")}
    winner, *losers = reversed(names)
    for name in (winner, *losers):
        (gate / f"go-{name}").touch()
        err = procs[name].communicate(timeout=120)[1]
        assert procs[name].returncode == 0, err
        if name == winner:
            assert "landing again" not in err
            continue
        assert "moved meanwhile" in err and "landing again onto the new tip (try 2 of 4)" in err, err
        assert "not put back" not in err and "error:" not in err, err
        assert len((gate / f"saw-{name}").read_text().split()) >= 2  # its gate ran again, on the new tips
    for repo in ("alpha", "beta", "gamma"):
        assert git.is_ancestor(root / "repos" / repo, before[repo], tip(root / "repos" / repo))
    assert_all_landed(root, names)


def test_a_landing_whose_base_keeps_moving_gives_up_with_nothing_landed(
    root: Path, made: Path, builders: Builders
) -> None:
    """A gate during which a teammate commits on the base every time: every try finds the base moved
    under the locks; after the last one nothing landed and the builder's branches are as they were."""
    clone = root / "repos" / "alpha"
    branches_before = {r: git.run(root / "repos" / r, "rev-parse", "builder/s").strip() for r in ("alpha", "beta")}
    (root / "workspaces.local.yaml").write_text(
        f"scripts:\n  pre_land: 'cd {clone} && date +%s%N >> teammate.txt && git add teammate.txt && "
        "git commit -qm teammate'\n"
    )
    tips_before = tip(clone)
    done = console(root, "land", "s")
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("landing again onto the new tip") == 3
    assert "moved meanwhile" in done.stderr and "nothing landed (tried 4 times" in done.stderr
    assert "hint: run it again, it rebases onto the new tip and lands: builders land s" in done.stderr
    assert "alpha work" not in git.run(clone, "log", "--format=%s", "main")
    assert "beta work" not in git.run(root / "repos/beta", "log", "--format=%s", "main")  # all or none
    assert len(git.run(clone, "log", "--format=%s", f"{tips_before}..main").split()) == 4  # the gate ran 4 times
    for repo, before in branches_before.items():  # put back each time
        assert git.run(root / "repos" / repo, "rev-parse", "builder/s").strip() == before
    assert_never_backwards(clone)


def test_three_builders_racing_freely_all_land_and_no_base_goes_back(root: Path, builders: Builders) -> None:
    names = ("p", "q", "r")
    overlapping_builders(root, builders, names)
    pending = list(names)
    rounds = 0
    while pending:
        rounds += 1
        assert rounds <= len(names)
        procs = {n: start(root, "land", n) for n in pending}
        outcomes = {n: (p.communicate(timeout=120)[1], p.returncode) for n, p in procs.items()}
        for name, (err, code) in outcomes.items():
            assert code in (0, 1), err
            if code == 1:
                assert "moved meanwhile" in err and f"builders land {name}" in err, err
        pending = [n for n, (_, code) in outcomes.items() if code != 0]
        assert len(pending) < len(procs)  # someone always wins
    assert_all_landed(root, names)


def test_a_commit_made_while_the_gate_runs_stops_the_landing(root: Path, made: Path, builders: Builders) -> None:
    alpha = made / "repos/alpha"
    (root / "workspaces.local.yaml").write_text(
        f'scripts:\n  pre_land: "echo late >> {alpha}/late.txt && git -C {alpha} add late.txt && '
        f"git -C {alpha} commit -qm 'made while the gate ran'\"\n"
    )
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1
    assert f"alpha: {alpha} changed while the pre_land gate ran (its tip moved to" in done.err
    assert "nothing landed" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before
    assert git.run(alpha, "log", "-1", "--format=%s").strip() == "made while the gate ran"  # kept


def test_an_edit_made_while_a_passing_gate_runs_stops_the_landing(root: Path, made: Path, builders: Builders) -> None:
    alpha = made / "repos/alpha"
    (root / "workspaces.local.yaml").write_text(f"scripts:\n  pre_land: 'echo late >> {alpha}/README.md'\n")
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1
    assert f"alpha: {alpha} changed while the pre_land gate ran (it has changes (README.md)" in done.err
    assert "nothing landed" in done.err and "hint: commit what belongs to the builder, then run the gate " in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before
    assert (alpha / "README.md").read_text() == "alpha, changed\nlate\n"  # kept as it was written


def test_edits_made_while_a_failing_gate_ran_are_never_wiped(root: Path, made: Path, builders: Builders) -> None:
    for repo in REPOS:  # so that both are rebased, then put back
        edit(root / "repos" / repo / "other.txt", "fine\n")
        commit(root / "repos" / repo, f"{repo} main moves")
    before = {n: tip(made / "repos" / n, "HEAD") for n in REPOS}
    alpha = made / "repos/alpha"
    (root / "workspaces.local.yaml").write_text(f"scripts:\n  pre_land: 'echo editing >> {alpha}/README.md; exit 3'\n")
    done = builders("land", "s")
    assert done.code == 1
    assert "the pre_land script failed with exit 3; nothing landed" in done.err
    assert "alpha: not put back (it has uncommitted changes)" in done.err  # named, and the others go on
    assert f"beta: put back at {before['beta'][:10]}" in done.err
    assert tip(made / "repos/beta", "HEAD") == before["beta"]
    assert (alpha / "README.md").read_text() == "alpha, changed\nediting\n"  # never reset --hard


def test_a_journal_of_an_earlier_builder_of_the_same_name_is_never_landed(
    root: Path, made: Path, builders: Builders
) -> None:
    journal = root / ".git/builders/landing/s.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    stale = {
        "builder": {"name": "s", "created_at": "2000-01-01T00:00:00Z", "path": str(made)},
        "squash": False,
        "moves": [],
    }
    journal.write_text(json.dumps(stale))
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1
    assert "is a landing of an earlier builder named 's'" in done.err and f"mv {journal}" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before
    status = builders("status", "s")
    assert "a landing of it was stopped half-way" in status.out


@pytest.mark.parametrize("command", ["sync", "land"])
@pytest.mark.parametrize("stop_with", list(STOPS))
def test_a_run_stopped_mid_rebase_is_taken_up_by_the_next(
    root: Path, made: Path, tmp_path: Path, builders: Builders, command: str, stop_with: str
) -> None:
    pause = Pause(tmp_path)
    edit(root / "repos/alpha/other.txt", "from main\n")
    main = commit(root / "repos/alpha", "alpha main moves")
    pause.smudge_in(root / "repos/alpha", "other.txt")  # the rebase stops while it checks out main
    proc = start(root, command, "s", env=pause.env(""))
    pause.wait_reached(proc)
    sig, group = STOPS[stop_with]
    code, err = stop(proc, pause, sig, group)
    assert code != 3, err
    alpha = made / "repos/alpha"
    if stop_with == "KILL-group":  # the rebase was killed with its run: the worktree is mid-rebase
        assert (root / "repos/alpha/.git/worktrees/alpha/rebase-merge").is_dir()
    if (root / ".git/builders/rebasing/s.json").exists():
        checked = console(root, "verify", "s")
        assert checked.returncode == 1 and "builders sync s" in checked.stdout
        assert "a sync of it was stopped mid-rebase: builders sync s takes it up" in builders("status", "s").out
    again = console(root, command, "s")
    assert again.returncode == 0, again.stderr
    assert git.run(alpha, "symbolic-ref", "HEAD").strip() == "refs/heads/builder/s"
    assert not (root / "repos/alpha/.git/worktrees/alpha/rebase-merge").exists()
    assert not (root / "repos/alpha/.git/worktrees/alpha/index.lock").exists()
    assert git.run(alpha, "status", "--porcelain") == ""
    assert git.is_ancestor(alpha, main, "HEAD")
    assert "alpha work" in git.run(alpha, "log", "--format=%s", "HEAD").splitlines()
    assert_never_backwards(root / "repos/alpha")
    assert console(root, "verify", "s").returncode == 0


@pytest.mark.parametrize("command", ["sync", "land"])
def test_a_rewritten_base_is_refused_and_the_hint_works_as_printed(
    root: Path, made: Path, builders: Builders, command: str
) -> None:
    clone = root / "repos/alpha"
    dropped = tip(clone)
    git.run(clone, "commit", "--quiet", "--amend", "-m", "alpha: initial commit, rewritten")
    before = tip(clone)
    done = builders(command, "s")
    assert done.code == 1
    assert f"error: alpha: its base main was rewritten: it no longer holds {dropped[:10]}" in done.err
    assert tip(clone) == before
    hint = done.err.split("hint: put only the builder's own commits onto it: ", 1)[1].splitlines()[0]
    assert subprocess.run(hint, shell=True, capture_output=True, check=False).returncode == 0
    assert builders("land", "s").code == 0
    assert not git.is_ancestor(clone, dropped, tip(clone))  # never resurrected
    assert "alpha work" in git.run(clone, "log", "--format=%s", "main").splitlines()


def test_a_clone_with_a_separate_git_dir_lands(root: Path, builders: Builders, tmp_path: Path) -> None:
    upstream = root.parent / "upstream/alpha"
    delta = root / "repos/delta"
    git.run(root / "repos", "clone", "--quiet", f"--separate-git-dir={tmp_path / 'delta.git'}", str(upstream), "delta")
    assert (delta / ".git").is_file()
    assert builders("new", "d", "--repos", "delta").code == 0
    work = builders_dir(root) / "d/repos/delta"
    edit(work / "d.txt", "d\n")
    mine = commit(work, "delta work")
    status = builders("status", "d", "--json")
    assert status.code == 0, status.err
    rows = {w["label"]: w for w in json.loads(status.out)["worktrees"]}
    assert rows["delta"]["ahead"] == 1
    done = builders("land", "d")
    assert done.code == 0, done.err
    assert tip(delta) == mine and (delta / "d.txt").read_text() == "d\n"
    assert git.run(delta, "status", "--porcelain") == ""


def test_a_builder_made_by_the_hook_lands_on_the_branch_its_root_was_on(root: Path, builders: Builders) -> None:
    assert builders("hooks", "install").code == 0
    target = builders_dir(root) / "h"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k.startswith("GIT_CONFIG")}
    env["BUILDER_REPOS"] = "alpha"
    made = subprocess.run(
        ["git", "-C", str(root), "worktree", "add", "-b", "builder/h", str(target)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    state = json.loads((root / ".git/builders/state/h.json").read_text())
    assert state["base_ref"] == "refs/heads/main"
    edit(target / "notes.txt", "root work\n")
    mine = commit(target, "root work")
    status = json.loads(builders("status", "h", "--json").out)
    assert status["worktrees"][0]["ahead"] == 1 and status["worktrees"][0]["base"] == "main"
    done = builders("land", "h")
    assert done.code == 0, done.err
    assert tip(root) == mine and (root / "notes.txt").read_text() == "root work\n"
    assert git.run(root, "status", "--porcelain", "--untracked-files=no") == ""


def test_reads_take_no_optional_locks(root: Path, made: Path, tmp_path: Path) -> None:
    """Every `git status` (and diff, log) that status, sync and land run is told not to take the
    worktree's index.lock, which a stop would leave behind in the agent's worktree."""
    log = tmp_path / "calls.log"
    wrapper_dir = tmp_path / "logging-bin"
    wrapper_dir.mkdir()
    real = shutil.which("git")
    (wrapper_dir / "git").write_text(
        f'#!/bin/sh\necho "locks=${{GIT_OPTIONAL_LOCKS:-1}} $*" >> "{log}"\nexec "{real}" "$@"\n'
    )
    (wrapper_dir / "git").chmod(0o755)
    env = environment(path_first=wrapper_dir)
    for command in (["status", "s"], ["sync", "s"], ["land", "s"]):
        done = console(root, *command, env=env)
        assert done.returncode == 0, done.stderr
    reads = [line for line in log.read_text().splitlines() if " status " in line or " diff " in line]
    assert any(f" {made}" in line for line in reads) and any(f" {root}/repos/" in line for line in reads)
    assert all(line.startswith("locks=0 ") for line in reads), [r for r in reads if not r.startswith("locks=0 ")]


def test_verify_names_a_stopped_landing_whose_builder_is_gone(root: Path, builders: Builders) -> None:
    journal = root / ".git/builders/landing/gone.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({"builder": {"name": "gone"}, "moves": []}))
    done = builders("verify")
    assert done.code == 1
    assert "a landing of a builder that is gone was stopped after its first base moved" in done.out
    assert f"mv {journal} {journal}.done" in done.out


def test_land_into_a_sparse_checkout_with_user_configs(root: Path, builders: Builders, tmp_path: Path) -> None:
    """The base checkout is sparse, hides untracked files from status, has hooks elsewhere and a
    skip-worktree file: the landed files arrive where the checkout shows files, and it stays clean."""
    alpha = root / "repos/alpha"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    assert builders("new", "sp", "--repos", "alpha").code == 0
    git.run(alpha, "config", "status.showUntrackedFiles", "no")
    git.run(alpha, "config", "core.hooksPath", str(hooks))
    git.run(alpha, "sparse-checkout", "set", "--cone", "docs")
    git.run(alpha, "update-index", "--skip-worktree", "README.md")
    work = builders_dir(root) / "sp/repos/alpha"
    edit(work / "docs/guide.md", "inside the cone\n")
    edit(work / "src/pkg00/added.py", "outside the cone\n")
    mine = commit(work, "sparse work")
    edit(alpha / "untracked-note.txt", "mine, untracked\n")
    done = builders("land", "sp")
    assert done.code == 0, done.err
    assert tip(alpha) == mine
    assert (alpha / "docs/guide.md").read_text() == "inside the cone\n"
    assert not (alpha / "src/pkg00/added.py").exists()  # outside the cone: in the index, not on disk
    assert (alpha / "untracked-note.txt").read_text() == "mine, untracked\n"
    assert git.run(alpha, "status", "--porcelain", "--untracked-files=no") == ""
    assert git.attempt(alpha, "diff-index", "--cached", "--quiet", "HEAD").returncode == 0
    assert_never_backwards(alpha)


def test_a_base_someone_moved_after_a_stop_lands_the_rest_rebased(root: Path, made: Path, builders: Builders) -> None:
    killed = console(root, "land", "s", fault="land:moved:alpha")
    assert killed.returncode == -9
    beta = root / "repos/beta"
    edit(beta / "teammate.txt", "a teammate's\n")
    theirs = commit(beta, "teammate on beta")  # beta is now neither where the landing found it nor where it left it
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert "beta: main was moved by someone else meanwhile" in done.err
    assert git.is_ancestor(beta, theirs, tip(beta))
    assert "beta work" in git.run(beta, "log", "--format=%s", "main").splitlines()
    assert (beta / "new.txt").read_text() == "beta new\n"
    for n in REPOS:
        assert_never_backwards(root / "repos" / n)
        assert_checkout_whole(root / "repos" / n)


def test_land_remove_that_cannot_remove_exits_4_and_the_landing_stands(
    root: Path, made: Path, builders: Builders
) -> None:
    edit(made / "repos/gamma/scratch.txt", "untracked work the removal must keep\n")
    done = builders("land", "s", "--remove", "--json")
    assert done.code == 4
    document = json.loads(done.out)
    assert document["ok"] is False and document["removed"] is False
    assert sorted(m["repo"] for m in document["landed"]) == ["alpha", "beta"]
    assert "error: builder s landed, but the removal did not complete (exit 4)" in done.err
    assert (made / "repos/gamma/scratch.txt").exists()
    for n in REPOS:
        assert tip(root / "repos" / n) == tip(made / "repos" / n, "HEAD")


def test_a_base_being_rebased_in_its_clone_is_never_moved_under_it(root: Path, made: Path, builders: Builders) -> None:
    beta = root / "repos/beta"
    edit(beta / "mine.txt", "the clone's own\n")
    commit(beta, "the clone's own commit")
    stopped = git.attempt(beta, "rebase", "--exec", "false", "HEAD~1")  # stops mid-rebase, HEAD detached
    assert stopped.returncode != 0 and (beta / ".git/rebase-merge/head-name").exists()
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1
    assert "error: beta: main is being rebased" in done.err and "nothing landed" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before
    git.run(beta, "rebase", "--abort")
    done = builders("land", "s")
    assert done.code == 0, done.err
    assert "beta work" in git.run(beta, "log", "--format=%s", "main").splitlines()
    assert_never_backwards(beta)


@pytest.mark.parametrize(
    "in_the_way", ["ignored file", "file where a folder goes", "folder where a file goes", "folder the landing empties"]
)
def test_what_is_in_the_way_of_a_landed_file_refuses_before_anything_moves(
    root: Path, made: Path, builders: Builders, in_the_way: str
) -> None:
    """An ignored file git would overwrite without a word, or a path git would refuse half-way: found
    under the locks before the first base moves, named, and kept; the hint's command shows them."""
    beta = root / "repos/beta"
    edit(made / "repos/beta/sub/deep.txt", "landed\n")
    commit(made / "repos/beta", "beta: a folder")
    if in_the_way == "ignored file":
        edit(beta / ".git/info/exclude", "new.txt\n")
        mine, shown = beta / "new.txt", "new.txt"
        edit(mine, "mine, ignored\n")
    elif in_the_way == "file where a folder goes":
        mine, shown = beta / "sub", "sub"
        edit(mine, "mine, a file\n")
    elif in_the_way == "folder where a file goes":
        mine, shown = beta / "new.txt/keep.txt", "new.txt/"
        edit(mine, "mine, in a folder\n")
    else:  # the builder turns the tracked folder src/pkg00 into a file; an untracked file of the clone is in it
        git.run(made / "repos/beta", "rm", "-r", "-q", "src/pkg00")
        edit(made / "repos/beta/src/pkg00", "a file now\n")
        commit(made / "repos/beta", "beta: src/pkg00 becomes a file")
        mine, shown = beta / "src/pkg00/mine.txt", "src/pkg00/"
        edit(mine, "mine, untracked\n")
    before = {n: tip(root / "repos" / n) for n in REPOS}
    done = builders("land", "s")
    assert done.code == 1, done.err
    assert f"error: beta: its base main is checked out in {beta}, which has untracked or ignored files" in done.err
    assert f"({shown}); nothing landed" in done.err
    assert {n: tip(root / "repos" / n) for n in REPOS} == before  # alpha did not move first
    assert not (root / ".git/builders/landing/s.json").exists()
    assert mine.read_text().startswith("mine")
    hint = done.err.split("(they are: ", 1)[1].split("), then run the command again")[0]
    looked = subprocess.run(hint, shell=True, capture_output=True, text=True, check=False)
    assert looked.returncode == 0 and shown.rstrip("/") in looked.stdout, looked.stderr
    aside = root.parent / "aside"
    shutil.move(mine if in_the_way == "folder the landing empties" else beta / shown.rstrip("/"), aside)
    again = builders("land", "s")
    assert again.code == 0, again.err
    assert (beta / "sub/deep.txt").read_text() == "landed\n" and (beta / "new.txt").read_text() == "beta new\n"
    assert aside.exists()
    if in_the_way == "folder the landing empties":
        assert (beta / "src/pkg00").read_text() == "a file now\n"
    for n in REPOS:
        assert_never_backwards(root / "repos" / n)
        assert_checkout_whole(root / "repos" / n)


def test_a_lock_someone_holds_open_is_never_cleared_as_ours(root: Path, made: Path, builders: Builders) -> None:
    """A sync stopped mid-run leaves its record; its index.lock is cleared by the next run only while
    no running process has it open (a git of the agent's that took it since keeps it)."""
    edit(root / "repos/alpha/other.txt", "from main\n")
    commit(root / "repos/alpha", "alpha main moves")
    env = environment(fault="sync:rebased:alpha")
    killed = subprocess.run(["builders", "sync", "s"], cwd=root, env=env, capture_output=True, text=True, check=False)
    assert killed.returncode == -9 and (root / ".git/builders/rebasing/s.json").exists()
    lock = root / "repos/alpha/.git/worktrees/alpha/index.lock"
    holder = subprocess.Popen(["sh", "-c", 'exec 3>"$0"; exec sleep 60', str(lock)])
    try:
        deadline = time.monotonic() + 10
        while not lock.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        held = builders("sync", "s")
        assert held.code == 1
        assert f"error: {lock} is held open by a running process" in held.err and "it was not removed" in held.err
        assert lock.exists()
    finally:
        holder.kill()
        holder.wait()
    done = builders("sync", "s")
    assert done.code == 0, done.err
    assert f"removed {lock}: a git of a stopped sync left it" in done.err
    assert not lock.exists() and not (root / ".git/builders/rebasing/s.json").exists()


def test_a_landing_under_way_is_never_called_stopped(root: Path, made: Path, tmp_path: Path) -> None:
    """While a live `land` moves the bases (paused in a git call, journal written), `remove`, `sync`,
    `status` and `verify` of that builder must not say the landing was stopped, nor blame "a git
    that a stopped run left running": the run is there, at work, and `land` again would only wait."""
    pause = Pause(tmp_path)
    proc = start(root, "land", "s", env=pause.env(f"{root}/repos/beta update-ref -m"))
    pause.wait_reached(proc)
    try:
        assert (root / ".git/builders/landing/s.json").exists()
        for args in (("remove", "s"), ("sync", "s")):
            busy = console(root, *args)
            assert busy.returncode == 1, busy.stderr
            assert "another run holds builder 's'" in busy.stderr and "stopped run" not in busy.stderr, busy.stderr
        status = console(root, "status", "s")
        assert "under way" in status.stdout and "stopped" not in status.stdout, status.stdout
        verified = console(root, "verify", "s")
        assert verified.returncode == 1 and "under way" in verified.stdout, verified.stdout
        assert "stopped" not in verified.stdout, verified.stdout
    finally:
        pause.release()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert console(root, "verify", "s").returncode == 0
