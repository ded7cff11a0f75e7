"""`builders hook worktree-create|worktree-remove`, as Claude Code's worktree hooks call them: one JSON
object on stdin, the real console script, a real workspace with default repos."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import Unchanged, builders_dir, commit
from runs import console, environment
from workspace_builders.base.errors import BuildersError
from workspace_builders.commands.hook_worktree import builder_name
from workspace_builders.gitlayer import git


def hook(kind: str, payload: object, cwd: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return console(cwd, "hook", kind, fault=fault, stdin=text)


@pytest.fixture
def defaults(root: Path) -> Path:
    """The root, with alpha and beta as the repos every builder gets when none are named."""
    config = root / "workspaces.yaml"
    config.write_text(config.read_text().replace("default_repos: []", "default_repos: [alpha, beta]"))
    commit(root, "default repos")
    return root


def assert_whole(root: Path, name: str, printed: str) -> Path:
    builder = builders_dir(root) / name
    assert printed == f"{builder}\n"  # the path alone: all Claude Code reads
    assert sorted(p.name for p in (builder / "repos").iterdir()) == ["alpha", "beta"]
    for repo in ("alpha", "beta"):
        assert git.run(builder / "repos" / repo, "branch", "--show-current").strip() == f"builder/{name}"
    checked = console(root, "verify", name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return builder


def test_the_three_payload_generations_make_whole_builders(defaults: Path, tmp_path: Path) -> None:
    root = defaults
    today = {
        "session_id": "9b1f",
        "transcript_path": str(tmp_path / "t.jsonl"),
        "cwd": str(root),
        "hook_event_name": "WorktreeCreate",
        "name": "t1",
    }
    done = hook("worktree-create", today, root)
    assert done.returncode == 0, done.stderr
    first = assert_whole(root, "t1", done.stdout)
    assert "builder t1: creating" in done.stderr  # progress goes to stderr
    elsewhere = tmp_path / "claude-wants-it-here"
    documented = {
        "worktree_name": "t2",
        "base_path": str(elsewhere),
        "source_ref": "HEAD",
        "cwd": str(root / "repos/alpha"),
    }
    done = hook("worktree-create", documented, root)
    assert done.returncode == 0, done.stderr
    assert_whole(root, "t2", done.stdout)
    assert not elsewhere.exists()  # always the sibling builders folder
    older = {"worktree_path": str(root / ".claude/worktrees/t3"), "cwd": str(first / "repos/beta")}
    done = hook("worktree-create", older, first)
    assert done.returncode == 0, done.stderr
    assert_whole(root, "t3", done.stdout)
    done = hook("worktree-create", {"session_id": "5e55-10n", "cwd": str(root)}, root)
    assert done.returncode == 0, done.stderr
    assert_whole(root, "5e55-10n", done.stdout)
    assert console(root, "verify").returncode == 0


def test_a_name_is_made_valid_and_the_builder_branch_follows(defaults: Path) -> None:
    done = hook("worktree-create", {"name": "feat/auth", "cwd": str(defaults)}, defaults)
    assert done.returncode == 0, done.stderr
    builder = assert_whole(defaults, "feat-auth", done.stdout)
    assert git.run(builder, "branch", "--show-current").strip() == "builder/feat-auth"


@pytest.mark.parametrize(
    "raw, name",
    [
        ("agent-a1b2", "agent-a1b2"),
        ("feat/auth", "feat-auth"),
        ("Fix login!", "Fix-login"),
        ("_x.lock", "x-lock"),
        ("a..b", "a.b"),
        ("ünïcode-ok", "n-code-ok"),
    ],
)
def test_builder_names_as_a_user_expects(raw: str, name: str) -> None:
    assert builder_name(raw) == name


def test_a_long_name_keeps_apart_from_another() -> None:
    one, two = builder_name("x" * 80 + "a"), builder_name("x" * 80 + "b")
    assert len(one) == 63 and len(two) == 63 and one != two
    assert builder_name("x" * 80 + "a") == one  # the same name again: the same builder


@pytest.mark.parametrize("raw", ["../x", "..", "a/../b", "/etc", "~root", "", "!!!", "./x"])
def test_names_that_cannot_be_made_valid(raw: str) -> None:
    with pytest.raises(BuildersError) as refused:
        builder_name(raw)
    assert refused.value.exit_code == 2


@pytest.mark.parametrize(
    "payload, message",
    [
        ('{"name": ', "stdin is not valid JSON"),
        ("", "no JSON object on stdin"),
        ("[1, 2]", "not an object"),
        ("{}", "names no worktree"),
        ('{"name": 5}', "is not a string"),
        ('{"name": "../x"}', "reads as a path"),
        ('{"name": ""}', "names no worktree"),
        ('{"name": "!!!"}', "no builder name can be made of it"),
        ('{"name": "ok", "cwd": "relative/dir"}', "not an existing absolute folder"),
        ('{"name": "ok", "cwd": "/"}', "not inside a workspace"),
        ('{"name": "ok", "source_ref": "-x"}', "invalid base"),
    ],
)
def test_bad_input_changes_nothing(defaults: Path, unchanged: Unchanged, payload: str, message: str) -> None:
    with unchanged():
        done = hook("worktree-create", payload, defaults)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr and "error: " in done.stderr and "\nhint: " in done.stderr


def test_a_second_call_prints_the_same_builder_and_changes_nothing(defaults: Path, unchanged: Unchanged) -> None:
    first = hook("worktree-create", {"name": "again", "cwd": str(defaults)}, defaults)
    assert first.returncode == 0, first.stderr
    with unchanged():
        second = hook("worktree-create", {"name": "again", "cwd": str(defaults)}, defaults)
    assert second.returncode == 0 and second.stdout == first.stdout


@pytest.mark.parametrize("point", ["create:root", "create:repo:beta", "create:copied"])
def test_killed_then_called_again_completes(defaults: Path, point: str) -> None:
    payload = {"name": "crash", "cwd": str(defaults)}
    killed = hook("worktree-create", payload, defaults, fault=point)
    assert killed.returncode == -signal.SIGKILL and killed.stdout == ""
    assert console(defaults, "verify").returncode == 1  # the partial builder is named
    again = hook("worktree-create", payload, defaults)
    assert again.returncode == 0, again.stderr
    assert_whole(defaults, "crash", again.stdout)


def test_source_ref_is_the_base_even_on_a_dirty_root(defaults: Path) -> None:
    first = git.run(defaults, "rev-parse", "HEAD").strip()
    (defaults / "README.md").write_text("edited, not committed\n")
    # The root's base is its branch: uncommitted changes cannot reach the builder, so it goes ahead
    # with a note naming them (only the path on stdout).
    noted = hook("worktree-create", {"name": "noted", "cwd": str(defaults)}, defaults)
    assert noted.returncode == 0 and "README.md" in noted.stderr, noted.stderr
    assert_whole(defaults, "noted", noted.stdout)
    (defaults / "extra.txt").write_text("x\n")
    git.run(defaults, "add", "extra.txt")
    git.run(defaults, "commit", "-q", "-m", "extra")
    done = hook("worktree-create", {"name": "dirty", "cwd": str(defaults), "source_ref": first}, defaults)
    assert done.returncode == 0, done.stderr
    builder = assert_whole(defaults, "dirty", done.stdout)
    assert git.run(builder, "rev-parse", "HEAD").strip() == first and not (builder / "extra.txt").exists()
    older = {"name": "older", "cwd": str(defaults), "base_commit": first}  # the key some builds send
    done = hook("worktree-create", older, defaults)
    assert done.returncode == 0, done.stderr
    builder = assert_whole(defaults, "older", done.stdout)
    assert git.run(builder, "rev-parse", "HEAD").strip() == first


def test_remove_takes_a_clean_builder_away(defaults: Path) -> None:
    made = hook("worktree-create", {"name": "done", "cwd": str(defaults)}, defaults)
    builder = Path(made.stdout.strip())
    removed = hook("worktree-remove", {"worktree_path": str(builder), "hook_event_name": "WorktreeRemove"}, defaults)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == ""
    assert not builder.exists()
    assert git.run(defaults / "repos/alpha", "branch", "--list", "builder/done") == ""
    assert console(defaults, "verify").returncode == 0


def test_remove_refuses_work_it_would_lose_and_changes_nothing(defaults: Path, unchanged: Unchanged) -> None:
    made = hook("worktree-create", {"name": "busy", "cwd": str(defaults)}, defaults)
    builder = Path(made.stdout.strip())
    (builder / "repos/beta/wip.txt").write_text("not committed anywhere\n")
    with unchanged():
        refused = hook("worktree-remove", {"path": str(builder)}, builder)
    assert refused.returncode == 1
    assert "wip.txt" in refused.stderr and "would lose" in refused.stderr
    assert (builder / "repos/beta/wip.txt").read_text() == "not committed anywhere\n"


def test_remove_of_what_is_not_a_builder_is_bad_input(defaults: Path, tmp_path: Path, unchanged: Unchanged) -> None:
    made = hook("worktree-create", {"name": "kept", "cwd": str(defaults)}, defaults)
    builder = Path(made.stdout.strip())
    outside = tmp_path / "plain"
    outside.mkdir()
    for payload in (
        {"worktree_path": str(defaults)},
        {"worktree_path": str(defaults / "repos/alpha")},
        {"worktree_path": str(builder / "repos/alpha")},
        {"worktree_path": str(outside)},
        {"worktree_path": str(tmp_path / "gone")},
        {"worktree_path": "relative"},
        {"name": "kept"},
        "not json",
    ):
        with unchanged():
            done = hook("worktree-remove", payload, defaults)
        assert done.returncode == 2, (payload, done.stderr)
        assert "error: " in done.stderr and "hint: " in done.stderr
    assert builder.is_dir()


def test_setup_copy_in_and_ports_and_nothing_but_the_path_on_stdout(defaults: Path) -> None:
    root = defaults
    (root / ".env.local").write_text("KEY=1\n")
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + ".env.local\n")
    config = root / "workspaces.yaml"
    text = config.read_text().replace("builders:\n", "builders:\n  ports: {first: 23000, size: 2}\n", 1)
    setup = "echo setup says hello; echo $BUILDER_PORT > port.txt; git --version"
    config.write_text(text + f'copy: [".env.local"]\nscripts:\n  setup: "{setup}"\n')
    commit(root, "copy-in, ports and a setup that prints")
    done = hook("worktree-create", {"name": "full", "cwd": str(root)}, root)
    assert done.returncode == 0, done.stderr
    builder = assert_whole(root, "full", done.stdout)  # the setup's lines went to stderr
    assert "setup says hello" in done.stderr
    assert (builder / ".env.local").read_text() == "KEY=1\n"
    assert (builder / "port.txt").read_text() == "23000\n"
    assert json.loads((root / ".git/builders/state/full.json").read_text())["ports"] == [23000, 23001]


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopped_during_git_rolls_back_then_completes(defaults: Path, tmp_path: Path, sig: int, code: int) -> None:
    """Stopped while git makes beta's worktree (held there by a post-checkout hook of the clone that
    waits on a fifo): nothing is printed, nothing is left, and the same call then makes the builder."""
    paused, fifo = tmp_path / "paused", tmp_path / "fifo"
    os.mkfifo(fifo)
    pause = defaults / "repos/beta/.git/hooks/post-checkout"
    pause.parent.mkdir(exist_ok=True)
    pause.write_text(f"#!/bin/sh\n: > '{paused}'\ncat '{fifo}' > /dev/null\n")
    pause.chmod(0o755)
    env = environment()
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"name": "stopped", "cwd": str(defaults)}))
    stdin = payload.open("rb")
    proc = subprocess.Popen(
        ["builders", "hook", "worktree-create"],
        cwd=defaults,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for _ in range(600):
            if paused.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert paused.exists(), "git never reached the clone's post-checkout hook"
        proc.send_signal(sig)
        with fifo.open("w") as release:  # git is let finish; then the run undoes what it made
            release.write("go\n")
        out, err = proc.communicate(timeout=120)
    finally:
        stdin.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert out == ""
    assert "rolled back" in err
    assert not (builders_dir(defaults) / "stopped").exists()
    for repo in (defaults, defaults / "repos/alpha", defaults / "repos/beta"):
        assert git.run(repo, "branch", "--list", "builder/stopped") == ""
    pause.unlink()
    again = hook("worktree-create", {"name": "stopped", "cwd": str(defaults)}, defaults)
    assert again.returncode == 0, again.stderr
    assert_whole(defaults, "stopped", again.stdout)
