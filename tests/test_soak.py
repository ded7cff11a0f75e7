"""Several agents at once, each looping new -> commits -> a teammate's commit on a base -> sync -> land
-> remove (plain, never --force), with `prune` and `list` running beside them, and runs stopped at
random (SIGKILL, SIGINT, SIGTERM, to the run or its process group; a fixed seed). Each stopped step
is run again until it completes. Afterwards every commit is accounted for (by SHA on the base, or,
once rebased, by its patch there), no base went backwards, every base checkout is clean, nothing is
pending.

Short in the suite; a longer soak by hand: BUILDERS_SOAK_ROUNDS=20 BUILDERS_SOAK_AGENTS=4
BUILDERS_SOAK_SEED=7 .venv/bin/pytest -q tests/test_soak.py
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from conftest import builders_dir
from runs import signal_run, start
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and signals as on Linux")

REPOS = ("alpha", "beta")
ROUNDS = int(os.environ.get("BUILDERS_SOAK_ROUNDS", "1"))
AGENTS = int(os.environ.get("BUILDERS_SOAK_AGENTS", "3"))
SEED = int(os.environ.get("BUILDERS_SOAK_SEED", "19"))
STOP_CHANCE = 0.35
TRIES = 12
SIGNALS = (signal.SIGKILL, signal.SIGINT, signal.SIGTERM)


@dataclass
class Ledger:
    """Every commit an agent or a teammate made: (repo, sha, subject)."""

    builder_commits: list[tuple[str, str, str]] = field(default_factory=list)
    teammate_commits: list[tuple[str, str, str]] = field(default_factory=list)
    stops: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def step(root: Path, rng: random.Random, ledger: Ledger, *args: str, done: Callable[[], bool] | None = None) -> None:
    """Run `builders ARGS` until it completes, stopping some tries at a random moment. `done` says
    whether a stopped try had completed all the same (a `new` stopped after `ready`)."""
    outputs: list[str] = []
    for _ in range(TRIES):
        if outputs and done is not None and done():
            return
        proc = start(root, *args)
        if rng.random() < STOP_CHANCE:
            time.sleep(rng.uniform(0.05, 1.2))
            sig, group = rng.choice(SIGNALS), rng.random() < 0.5
            if proc.poll() is None:
                with ledger.lock:
                    ledger.stops += 1
                signal_run(proc, sig, group=group)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode != 3, f"builders {' '.join(args)} crashed: {err}"
        outputs.append(f"exit {proc.returncode}: {err.strip()[-600:]}")
        if proc.returncode == 0:
            return
    pytest.fail(f"builders {' '.join(args)} never completed:\n" + "\n".join(outputs))


def commit_file(worktree: Path, name: str, text: str, subject: str, why: list[str] | None = None) -> str | None:
    """The new commit of the file alone, or None with what git said added to `why`. Only that file:
    two teammates may stage a file each in one clone at once, and a plain commit by one would take
    the other's too (the other's then finds nothing to commit)."""
    (worktree / name).write_text(text, encoding="utf-8")
    for args in (("add", "--", name), ("commit", "--quiet", "-m", subject, "--", name)):
        done = git.attempt(worktree, *args)
        if done.returncode != 0:
            if why is not None:
                why.append(f"git {args[0]}: {(done.stderr or done.stdout).strip()}")
            return None
    return git.run(worktree, "rev-parse", "HEAD").strip()


def teammate(root: Path, repo: str, label: str, ledger: Ledger) -> None:
    """A commit made straight on the base, in its checkout, as a teammate would; retried while a
    landing holds the checkout's index."""
    clone = root / "repos" / repo
    why: list[str] = []
    for attempt in range(200):
        sha = commit_file(clone, f"{label}.txt", f"{label}\n", f"teammate {label}", why)
        if sha is not None:
            with ledger.lock:
                ledger.teammate_commits.append((repo, sha, f"teammate {label}"))
            return
        git.attempt(clone, "reset", "--quiet", "--", f"{label}.txt")
        time.sleep(0.05 + attempt * 0.01)
    pytest.fail(f"teammate could not commit in {clone}; git said, last: {why[-3:]}")


def agent(root: Path, index: int, ledger: Ledger, failures: list[BaseException]) -> None:
    rng = random.Random(SEED * 1000 + index)
    try:
        for round_ in range(ROUNDS):
            name = f"a{index}r{round_}"
            state = root / ".git/builders/state" / f"{name}.json"
            step(root, rng, ledger, "new", name, "--repos", ",".join(REPOS), done=partial(_ready, state))
            path = builders_dir(root) / name
            for repo, n in itertools.product(REPOS, range(2)):
                subject = f"{name} {repo} {n}"
                sha = commit_file(path / "repos" / repo, f"{name}-{n}.txt", f"{subject}\n", subject)
                assert sha is not None
                with ledger.lock:
                    ledger.builder_commits.append((repo, sha, subject))
            teammate(root, rng.choice(REPOS), f"{name}-mate", ledger)
            step(root, rng, ledger, "sync", name)
            step(root, rng, ledger, "land", name)
            # A plain remove, never --force: what a stopped or put-back rebase left in the HEAD
            # reflog has its patch on the base by now, so it is no work.
            step(root, rng, ledger, "remove", name, done=partial(_removed, state, path))
    except BaseException as exc:  # handed to the main thread, which fails the test
        failures.append(exc)


def janitor(root: Path, ledger: Ledger, failures: list[BaseException], agents_done: threading.Event) -> None:
    """`prune` and `list` run over and over beside the agents, stopped at random like them: a prune
    racing creations, landings and removals (and stopped in the middle) must take nothing live."""
    rng = random.Random(SEED * 1000 + 999)
    try:
        while not agents_done.is_set():
            for args in (("prune",), ("list",)):
                proc = start(root, *args)
                if rng.random() < STOP_CHANCE:
                    time.sleep(rng.uniform(0.05, 0.8))
                    if proc.poll() is None:
                        with ledger.lock:
                            ledger.stops += 1
                        signal_run(proc, rng.choice(SIGNALS), group=rng.random() < 0.5)
                _, err = proc.communicate(timeout=300)
                assert proc.returncode != 3, f"builders {' '.join(args)} crashed: {err}"
            agents_done.wait(rng.uniform(0.1, 0.5))
    except BaseException as exc:
        failures.append(exc)


def test_agents_landing_at_once_with_random_stops_lose_nothing_and_never_rewind(root: Path) -> None:
    ledger = Ledger()
    failures: list[BaseException] = []
    agents_done = threading.Event()
    threads = [threading.Thread(target=agent, args=(root, i, ledger, failures)) for i in range(AGENTS)]
    pruning = threading.Thread(target=janitor, args=(root, ledger, failures, agents_done))
    for t in [*threads, pruning]:
        t.start()
    for t in threads:
        t.join()
    agents_done.set()
    pruning.join()
    if failures:
        raise failures[0]
    for args in (("prune",), ("verify",)):  # what a stopped prune left, completed; then nothing is wrong
        done = start(root, *args)
        out, err = done.communicate(timeout=300)
        assert done.returncode == 0, f"builders {' '.join(args)}: {out}{err}"
    for repo in REPOS:
        clone = root / "repos" / repo
        shas = git.run(clone, "reflog", "show", "--format=%H", "refs/heads/main", "--").split()
        for newer, older in itertools.pairwise(shas):
            assert git.is_ancestor(clone, older, newer), f"{repo}: main went back from {older} to {newer}"
        assert git.run(clone, "status", "--porcelain", "--untracked-files=no") == ""
        assert not (clone / ".git/index.lock").exists()
        lines = git.run(clone, "log", "--format=%H %s", "main").splitlines()
        on_main = {line.split(" ", 1)[1]: line.split(" ", 1)[0] for line in lines}
        for r, sha, _ in ledger.teammate_commits:
            if r == repo:
                assert git.is_ancestor(clone, sha, "main"), f"{repo}: teammate commit {sha} lost"
        for r, sha, subject in ledger.builder_commits:
            if r != repo:
                continue
            if git.is_ancestor(clone, sha, "main"):
                continue
            assert subject in on_main, f"{repo}: {subject} ({sha}) never landed"
            assert _patch_id(clone, sha) == _patch_id(clone, on_main[subject]), f"{repo}: {subject} landed changed"
    assert not list((root / ".git/builders/landing").glob("*.json"))
    assert not list((root / ".git/builders/rebasing").glob("*.json"))
    assert ledger.stops > 0 or ROUNDS * AGENTS < 2


def _patch_id(repo: Path, sha: str) -> str:
    patch = git.run(repo, "show", "--format=", sha)
    return git.run(repo, "patch-id", "--stable", input=patch).split()[0]


def _ready(state: Path) -> bool:
    return state.exists() and '"status": "ready"' in state.read_text()


def _removed(state: Path, path: Path) -> bool:
    return not state.exists() and not path.exists()
