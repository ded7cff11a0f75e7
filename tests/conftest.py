"""Fixtures: hermetic git, a real sample workspace in tmp_path, and `builders` run in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from plumbum.cli import Application
from plumbum.cli.application import Subcommand

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))

from sample_workspace import commit_all, make_workspace  # noqa: E402
from workspace_builders import cli  # noqa: E402
from workspace_builders.gitlayer import git  # noqa: E402

REPOS = ("alpha", "beta", "gamma")


def pytest_configure(config: pytest.Config) -> None:
    """The suite runs as from a terminal, whatever started it: a run started as a background job of a
    shell script begins with SIGINT ignored, and the Ctrl-C tests (and every child they start, which
    would inherit it) would find no Ctrl-C to take. The tests of that case ignore it themselves."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = Test\n\temail = test@example.com\n"
        '[advice]\n\tdetachedHead = false\n[protocol "file"]\n\tallow = always\n',
        encoding="utf-8",
    )
    templates = home / "git-templates"
    templates.mkdir()
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(templates))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A workspace root with three cloned repos (alpha, beta, gamma) of a few files each."""
    return make_workspace(tmp_path, REPOS, files=3)


@dataclass
class Result:
    code: int
    out: str
    err: str


Builders = Callable[..., Result]
Unchanged = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def builders(root: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Builders:
    """Run `builders ARGS...` in-process from `cwd` (default: the root); exit code and output."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        capfd.readouterr()
        monkeypatch.chdir(cwd or root)
        code = cli.main(list(args))
        out, err = capfd.readouterr()
        return Result(code, out, err)

    return run


def builders_dir(root: Path) -> Path:
    return root.parent / f"{root.name}.builders"


def snapshot(top: Path) -> dict[str, object]:
    """Everything a command could change under `top`: files, refs and worktree lists of every repo.

    Lock files are left out: they are kept on purpose (removing one would race another run).
    """
    files: list[tuple[str, bytes | None]] = []
    repos = []
    for folder, dirs, names in os.walk(top):
        here = Path(folder)
        if ".git" in dirs or ".git" in names:
            repos.append(here)
        if here.name == ".git":
            dirs[:] = [d for d in dirs if d in {"worktrees", "builders", "refs", "hooks"}]
        dirs[:] = [d for d in dirs if d != "locks"]
        for name in names + dirs:
            path = here / name
            if ".git" in path.parts and "builders" in path.parts and path.is_dir():
                continue  # admin folders for state and locks; the state files themselves count
            if path.is_file() and ".git" not in path.relative_to(top).parts:
                files.append((str(path.relative_to(top)), path.read_bytes()))
            else:
                files.append((str(path.relative_to(top)), None))
    refs = {str(r): git.attempt(r, "for-each-ref", "--format=%(refname) %(objectname)").stdout for r in repos}
    trees = {str(r): git.attempt(r, "worktree", "list", "--porcelain").stdout for r in repos if (r / ".git").is_dir()}
    return {"files": sorted(files, key=lambda f: f[0]), "refs": refs, "worktrees": trees}


@pytest.fixture
def unchanged(root: Path) -> Unchanged:
    """`with unchanged(): ...` asserts that nothing under the workspace's parent folder changed."""

    @contextmanager
    def watch() -> Iterator[None]:
        before = snapshot(root.parent)
        yield
        assert snapshot(root.parent) == before

    return watch


def copy_project(snapshot: Path) -> None:
    """This project's files as they are now (committed or not, ignored ones left out) into `snapshot`."""
    import shutil

    project = HERE.parent
    listed = git.run(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for relative in filter(None, listed.split("\0")):
        source = project / relative
        if source.is_file():
            (snapshot / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / relative)


def commit(path: Path, message: str = "change") -> str:
    commit_all(path, message)
    return git.run(path, "rev-parse", "HEAD").strip()


def edit(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def edit_behind_a_lagging_monitor(worktree: Path, path: str, text: str, tmp_path: Path) -> None:
    """`worktree` gets a `core.fsmonitor` hook that always says nothing changed (as watchman does
    while events settle), the user's own git runs that record its word, then an edit of `path` with
    its old time: `git status` does not see it."""
    monitor = tmp_path / "fsmonitor-lagging"
    monitor.write_text("#!/bin/sh\nexit 0\n")  # nothing changed, it says
    monitor.chmod(0o755)
    git.run(worktree, "config", "core.fsmonitor", str(monitor))
    git.run(worktree, "config", "core.fsmonitorHookVersion", "1")
    for _ in range(2):  # the user's own git runs, which record what the monitor vouches for
        subprocess.run(["git", "-C", str(worktree), "status"], capture_output=True, check=True)
    edit(worktree / path, text)
    os.utime(worktree / path, (1, 1))
    assert git.run(worktree, "status", "--porcelain") == ""  # the monitor's word


@pytest.fixture
def made(root: Path, builders: Builders) -> Path:
    """Builder `s` with alpha, beta, gamma; a commit in alpha and one in beta."""
    done = builders("new", "s", "--repos", "alpha,beta,gamma")
    assert done.code == 0, done.err
    path = builders_dir(root) / "s"
    edit(path / "repos/alpha/README.md", "alpha, changed\n")
    commit(path / "repos/alpha", "alpha work")
    edit(path / "repos/beta/new.txt", "beta new\n")
    commit(path / "repos/beta", "beta work")
    return path


def mounted(app: type[Application], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], str | type[Application]]:
    """Every command path under `app` (groups too), with what is mounted there: a dotted path, or the class
    once plumbum has imported it."""
    found: dict[tuple[str, ...], str | type[Application]] = {}
    for sub in vars(app).values():
        if isinstance(sub, Subcommand):
            path = (*prefix, sub.name)
            found[path] = sub.subapplication
            if not isinstance(sub.subapplication, str):
                found |= mounted(sub.subapplication, path)
    return found
