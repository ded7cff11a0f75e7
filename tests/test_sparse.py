"""Sparse presets: `repos.<name>.sparse` and `new --sparse` make cone-mode sparse worktrees with no
full checkout first, through `new`, `init` and the post-checkout hook; status, list, land, remove and
restore work on them; a killed sparse creation is completed by a re-run; bad values change nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from sample_workspace import commit_all
from test_json_contract import valid
from workspace_builders.gitlayer import git, links

BIN = Path(sys.executable).parent
PRESET = "version: 1\nrepos:\n  alpha:\n    sparse: [src/pkg01]\n  beta:\n  gamma:\n"


def configure(root: Path, text: str) -> None:
    (root / "workspaces.yaml").write_text(text, encoding="utf-8")
    commit_all(root, "configure repos")


def files_of(worktree: Path) -> list[str]:
    """Every file on disk in the worktree, .git left out."""
    found = []
    for folder, dirs, names in os.walk(worktree):
        dirs[:] = [d for d in dirs if d != ".git"]
        found += [str(Path(folder, n).relative_to(worktree)) for n in names if n != ".git"]
    return sorted(found)


def cone_of(worktree: Path) -> list[str]:
    return git.run(worktree, "sparse-checkout", "list").splitlines()


def spy_on_checkouts(clone: Path, log: Path, gate: Path | None = None) -> None:
    """A smudge filter on every file of `clone`'s worktrees that notes the path it writes in `log`,
    and, given a `gate`, waits until that file exists before it writes anything."""
    wait = f'while [ ! -e "{gate}" ]; do sleep 0.02; done; ' if gate else ""
    git.run(clone, "config", "filter.spy.smudge", f"sh -c 'echo \"$1\" >> \"{log}\"; {wait}cat' spy %f")
    git.run(clone, "config", "filter.spy.clean", "cat")
    (clone / ".git/info").mkdir(exist_ok=True)
    (clone / ".git/info/attributes").write_text("* filter=spy\n", encoding="utf-8")


@pytest.fixture
def preset(root: Path) -> Path:
    configure(root, PRESET)
    return root


def test_preset_checks_out_only_the_cone_and_never_the_rest(preset: Path, builders: Builders, tmp_path: Path) -> None:
    log = tmp_path / "written.log"
    spy_on_checkouts(preset / "repos/alpha", log)
    done = builders("new", "s", "--repos", "alpha,beta")
    assert done.code == 0, done.err
    alpha, beta = builders_dir(preset) / "s/repos/alpha", builders_dir(preset) / "s/repos/beta"
    assert files_of(alpha) == ["README.md", "src/pkg01/module00001.py"]
    assert sorted(log.read_text().split()) == ["README.md", "src/pkg01/module00001.py"]  # nothing else, ever
    assert cone_of(alpha) == ["src/pkg01"]
    assert len(files_of(beta)) == 4 and git.config_value(beta, "core.sparseCheckout") is None
    assert git.run(alpha, "status", "--porcelain") == ""
    assert git.run(alpha, "ls-files").split() == git.run(preset / "repos/alpha", "ls-files").split()
    record = json.loads((preset / ".git/builders/state/s.json").read_text())
    assert {r["name"]: r["sparse"] for r in record["repos"]} == {"alpha": ["src/pkg01"], "beta": None}
    assert not (links.link_of(alpha, preset / "repos/alpha/.git").admin / "locked").exists()  # type: ignore[operator]
    assert builders("verify", "s").code == 0


def test_list_and_status_show_which_repos_are_sparse(preset: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha,beta").code == 0
    listed = builders("list", "--fast")
    assert "alpha(sparse),beta" in listed.out
    assert valid("list", builders("list", "--json").out)["builders"][0]["sparse"] == {"alpha": ["src/pkg01"]}
    status = builders("status", "s")
    assert "alpha (sparse)" in status.out and "beta (sparse)" not in status.out
    rows = valid("status", builders("status", "s", "--json").out)["worktrees"]
    assert {w["label"]: w["sparse"] for w in rows} == {"root": None, "alpha": ["src/pkg01"], "beta": None}


def test_sparse_switch_overrides_the_preset_for_one_builder(preset: Path, builders: Builders) -> None:
    sparse = ("--sparse", "alpha=src/pkg02/,src/pkg00", "--sparse", "beta=src/pkg00")
    done = builders("new", "s", "--repos", "alpha,beta", *sparse)
    assert done.code == 0, done.err
    made = builders_dir(preset) / "s/repos"
    assert files_of(made / "alpha") == ["README.md", "src/pkg00/module00000.py", "src/pkg02/module00002.py"]
    assert files_of(made / "beta") == ["README.md", "src/pkg00/module00000.py"]
    assert builders("new", "t", "--repos", "alpha").code == 0  # the next builder has the preset again
    assert cone_of(builders_dir(preset) / "t/repos/alpha") == ["src/pkg01"]
    assert git.config_value(preset / "repos/alpha", "core.sparseCheckout") is None  # the clone stays full
    assert len(files_of(preset / "repos/alpha")) == 4


def test_a_folder_missing_at_the_base_is_named_in_a_warning(root: Path, builders: Builders) -> None:
    configure(root, PRESET.replace("[src/pkg01]", "[src/pkg01, docs/later]"))
    done = builders("new", "s", "--repos", "alpha")
    assert done.code == 0, done.err
    assert "warning: alpha: sparse folder(s) not at its base: docs/later" in done.err
    assert cone_of(builders_dir(root) / "s/repos/alpha") == ["docs/later", "src/pkg01"]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("src/pkg01", "workspaces.yaml:4: key 'repos.alpha.sparse' must be a list"),
        ("", "workspaces.yaml:4: key 'repos.alpha.sparse' must be a list"),
        ("[1]", "workspaces.yaml:4: key 'repos.alpha.sparse.0' must be a string"),
        ("[../up]", "repos.alpha.sparse: sparse folder '../up' has an empty, '.', '..' or '.git' part"),
        ("[/abs]", "sparse folder '/abs' is absolute"),
        ("['src/*']", "sparse folder 'src/*' holds a character a cone-mode folder cannot"),
    ],
)
def test_bad_sparse_values_change_nothing(
    root: Path, builders: Builders, unchanged: Unchanged, value: str, said: str
) -> None:
    configure(root, PRESET.replace("[src/pkg01]", value))
    with unchanged():
        done = builders("new", "s", "--repos", "alpha")
    assert done.code == 2
    assert said in done.err and "hint:" in done.err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--sparse", "src/pkg01"), "--sparse 'src/pkg01' names no repo"),
        (("--sparse", "gamma=src"), "--sparse names gamma, not among the repos of this builder (alpha)"),
        (("--sparse", "alpha=a", "--sparse", "alpha=b"), "--sparse names 'alpha' twice"),
        (("--sparse", "alpha=.git"), "sparse folder '.git' has an empty"),
        (("--sparse", "alpha="), "sparse folder '' is empty"),
    ],
)
def test_bad_sparse_switches_change_nothing(
    root: Path, builders: Builders, unchanged: Unchanged, args: tuple[str, ...], said: str
) -> None:
    with unchanged():
        done = builders("new", "s", "--repos", "alpha", *args)
    assert done.code == 2
    assert said in done.err and "hint:" in done.err


@pytest.mark.parametrize("tool", ["make", "task"])
def test_the_make_and_task_twins_take_sparse_and_speak_it_in_their_hints(
    root: Path, unchanged: Unchanged, tool: str
) -> None:
    if tool == "task" and not (BIN / "task").exists():
        pytest.skip("task (go-task-bin) not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "NAME", "REPOS", "SPARSE")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    target = ["make", "--no-print-directory", "builder-new"] if tool == "make" else ["task", "builder:new"]

    def twin(*values: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*target, *values], cwd=root, env=env, capture_output=True, text=True, check=False)

    with unchanged():
        refused = twin("NAME=s", "REPOS=alpha", "SPARSE=src/pkg00")
    assert refused.returncode != 0
    assert "error: SPARSE 'src/pkg00' names no repo" in refused.stderr
    assert "hint: write it as SPARSE=REPO=DIR[,DIR...], e.g. SPARSE=big=services/api,libs/core" in refused.stderr
    done = twin("NAME=s", "REPOS=alpha", "SPARSE=alpha=src/pkg00")
    assert done.returncode == 0, done.stderr
    assert files_of(builders_dir(root) / "s/repos/alpha") == ["README.md", "src/pkg00/module00000.py"]


def test_init_and_the_post_checkout_hook_honour_the_preset(preset: Path, builders: Builders) -> None:
    assert builders("add", "plain").code == 0
    assert builders("init", "--builder", "plain", "--repos", "alpha").code == 0
    assert cone_of(builders_dir(preset) / "plain/repos/alpha") == ["src/pkg01"]
    assert builders("hooks", "install").code == 0
    target = builders_dir(preset) / "hooked"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WORKSPACE_BUILDERS")}
    done = subprocess.run(
        ["git", "worktree", "add", "-b", "builder/hooked", str(target)],
        cwd=preset,
        env={**environment, "BUILDER_REPOS": "alpha"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert files_of(target / "repos/alpha") == ["README.md", "src/pkg01/module00001.py"]
    assert builders("verify", "hooked").code == 0


def test_land_rebases_and_fast_forwards_a_sparse_worktree(preset: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    alpha, clone = builders_dir(preset) / "s/repos/alpha", preset / "repos/alpha"
    (alpha / "src/pkg01/added.py").write_text("ADDED = 1\n", encoding="utf-8")
    commit(alpha, "work inside the cone")
    (clone / "src/pkg00/module00000.py").write_text("VALUE = 'moved on'\n", encoding="utf-8")
    moved = commit(clone, "the base moves on, outside the cone")
    done = builders("land", "s")
    assert done.code == 0, done.err + done.out
    tip = git.run(clone, "rev-parse", "main").strip()
    assert git.is_ancestor(clone, moved, tip) and tip == git.run(alpha, "rev-parse", "HEAD").strip()
    assert (clone / "src/pkg01/added.py").read_text() == "ADDED = 1\n"
    assert files_of(alpha) == ["README.md", "src/pkg01/added.py", "src/pkg01/module00001.py"]  # still sparse
    assert git.run(alpha, "status", "--porcelain") == "" and git.run(clone, "status", "--porcelain") == ""


def test_sync_and_exec_work_in_a_sparse_worktree(preset: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha,beta").code == 0
    alpha, clone = builders_dir(preset) / "s/repos/alpha", preset / "repos/alpha"
    (clone / "src/pkg00/module00000.py").write_text("VALUE = 'moved on'\n", encoding="utf-8")
    moved = commit(clone, "the base moves on, outside the cone")
    done = builders("sync", "s")
    assert done.code == 0, done.err + done.out
    assert git.run(alpha, "rev-parse", "HEAD").strip() == moved
    assert files_of(alpha) == ["README.md", "src/pkg01/module00001.py"]  # still only the cone
    assert git.run(alpha, "status", "--porcelain") == ""
    ran = builders("exec", "s", "--repos", "alpha", "--", "git", "sparse-checkout", "list")
    assert ran.code == 0, ran.err
    assert "src/pkg01" in ran.out


def test_remove_and_restore_of_a_sparse_builder(preset: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    alpha = builders_dir(preset) / "s/repos/alpha"
    (alpha / "src/pkg01/module00001.py").write_text("VALUE = 'edited'\n", encoding="utf-8")
    head = git.run(alpha, "rev-parse", "HEAD").strip()
    assert builders("remove", "s").code != 0 and alpha.is_dir()  # an edit is work: refused
    assert builders("remove", "s", "--force").code == 0 and not alpha.exists()
    done = builders("restore", "s")
    assert done.code == 0, done.err
    assert (alpha / "src/pkg01/module00001.py").read_text() == "VALUE = 'edited'\n"
    assert git.run(alpha, "rev-parse", "HEAD").strip() == head
    # sparse again, with its folders, and shown so: not a full checkout of the 40 folders
    assert git.run(alpha, "sparse-checkout", "list").split() == ["src/pkg01"]
    assert not (alpha / "src/pkg02").exists()
    assert git.run(alpha, "status", "--porcelain") == " M src/pkg01/module00001.py\n"
    listed = builders("list", "--json")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out)["builders"][0]["sparse"] == {"alpha": ["src/pkg01"]}


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["builders", *args],
        cwd=root,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize("group", [False, True], ids=["the run", "its process group"])
def test_a_sparse_creation_killed_during_its_checkout_is_completed_by_a_re_run(
    preset: Path, builders: Builders, tmp_path: Path, group: bool
) -> None:
    log, gate = tmp_path / "written.log", tmp_path / "go"
    clone = preset / "repos/alpha"
    spy_on_checkouts(clone, log, gate)
    run = _start(preset, "new", "s", "--repos", "alpha,beta")
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text()) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # the checkout of the cone has begun: git is paused in the filter
    assert run.poll() is None, run.communicate()
    alpha = builders_dir(preset) / "s/repos/alpha"
    admin = links.link_of(alpha, clone / ".git").admin
    assert admin is not None and links.read(admin / "locked") == git.CREATING_MARK
    (os.killpg if group else os.kill)(run.pid, signal.SIGKILL)
    run.communicate()
    gate.touch()  # a git the kill left running goes on; let it finish, under the repository lock
    checked = json.loads(builders("verify", "--json", "s").out)
    assert not checked["ok"]
    assert any(c["check"] == "state: status" and not c["ok"] for c in checked["checks"])
    done = builders("new", "s", "--repos", "alpha,beta")
    assert done.code == 0, done.err
    assert files_of(alpha) == ["README.md", "src/pkg01/module00001.py"]
    assert cone_of(alpha) == ["src/pkg01"] and git.run(alpha, "status", "--porcelain") == ""
    assert builders("verify", "s").code == 0
    record = json.loads((preset / ".git/builders/state/s.json").read_text())
    assert record["status"] == "ready" and record["repos"][0]["sparse"] == ["src/pkg01"]
