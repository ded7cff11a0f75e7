"""Many runs at once, as parallel agents start them: real processes of the console script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import builders_dir
from runs import console, start
from sample_workspace import make_workspace
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

TEN = tuple(f"repo{i}" for i in range(10))


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    results = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        results.append((proc.returncode, err))
    return results


def verify_clean(root: Path) -> None:
    done = console(root, "verify")
    assert done.returncode == 0, done.stdout + done.stderr


def builder_branches(repo: Path) -> list[str]:
    return git.run(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/builder/").split()


@pytest.fixture
def ten(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ten", TEN, files=5)


def test_eight_distinct_news_at_once(ten: Path) -> None:
    results = finish([start(ten, "new", f"agent{i}", "--repos", "all") for i in range(8)])
    assert [code for code, _ in results] == [0] * 8, [err for _, err in results]
    verify_clean(ten)
    for repo in [ten, *(ten / "repos" / r for r in TEN)]:
        assert builder_branches(repo) == [f"builder/agent{i}" for i in range(8)]


def test_four_racing_on_one_name(ten: Path) -> None:
    results = finish([start(ten, "new", "same", "--repos", "all") for _ in range(4)])
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1, 1, 1], results
    for code, err in results:
        if code == 1:
            assert "another run holds" in err or "already exists" in err, err
    verify_clean(ten)
    assert [p.name for p in builders_dir(ten).iterdir()] == ["same"]
    for repo in [ten, *(ten / "repos" / r for r in TEN)]:
        assert builder_branches(repo) == ["builder/same"]


@pytest.mark.parametrize("rounds", [3])
def test_new_racing_remove_on_one_name(ten: Path, rounds: int) -> None:
    for _ in range(rounds):
        new, remove = start(ten, "new", "b", "--repos", "all"), start(ten, "remove", "b")
        (new_code, new_err), (remove_code, remove_err) = finish([new, remove])
        assert new_code in (0, 1), new_err  # 1: it found a builder b still there, or the lock held
        assert remove_code in (0, 1, 2), remove_err  # 2: there was no builder b yet
        verify_clean(ten)
        exists = (builders_dir(ten) / "b").exists()
        for repo in [ten, *(ten / "repos" / r for r in TEN)]:
            assert builder_branches(repo) == (["builder/b"] if exists else []), (repo, new_err, remove_err)


def test_prune_during_new(ten: Path) -> None:
    procs = [start(ten, "new", "p", "--repos", "all"), start(ten, "prune"), start(ten, "prune")]
    results = finish(procs)
    assert [code for code, _ in results] == [0, 0, 0], results
    verify_clean(ten)
    assert sorted(p.name for p in (builders_dir(ten) / "p" / "repos").iterdir()) == sorted(TEN)
