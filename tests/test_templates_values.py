"""The templates pass every value to `builders` byte for byte, from make and from task alike.

A fake `builders` (the templates honour BUILDERS) records the argv it gets as JSON, so each test
compares the exact strings received; the end-to-end tests run the real console script.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.slow  # make and task run per value: `make test` runs it, `make check` not

BIN = Path(sys.executable).parent
needs_task = pytest.mark.skipif(shutil.which("task", path=str(BIN)) is None, reason="task (go-task-bin) not installed")

FAKE = """#!{python}
import json, sys
from pathlib import Path
with open(Path(__file__).with_name("argv.jsonl"), "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
"""

# Values that a shell or make would re-read as code or split: each must arrive as typed.
HOSTILE = [
    {"NAME": "x$(shell touch PWNED)", "REPOS": "a$b,$$c,${HOME}", "BASE": "`touch PWNED`;$(touch PWNED)", "FORCE": "1"},
    {"NAME": "new\nline", "REPOS": "é 漢字 🙂 \t", "BASE": 'it\'s "quoted" \\', "FORCE": "$(shell touch PWNED)"},
    {"NAME": "#not a comment % * ~ ? bad\udcffbyte", "REPOS": "a\\\nb", "BASE": "$$ a=b c=d", "FORCE": ""},
]
SPARSE = ["big=$(shell touch PWNED),`touch PWNED`", "a b=it's \"x\";$$y", ""]  # a value each, in order
for values, sparse in zip(HOSTILE, SPARSE, strict=True):
    values["SPARSE"] = sparse
# task expands `{{...}}` in a value given on its command line before the Taskfile sees it (a value
# from the environment is left alone); make drops leading blanks of a command-line value.
TEMPLATE_LIKE = {"NAME": "{{.BUILDERS}}", "REPOS": "{{", "BASE": "}}", "FORCE": "", "SPARSE": "{{.NAME}}"}
LEADING_BLANKS = {"NAME": "  lead", "REPOS": " a", "BASE": "\tb", "FORCE": "", "SPARSE": " big=x"}

TARGETS = ["new", "add", "init", "list", "verify", "remove", "prune", "repos-sync"]
TARGETS += ["status", "sync", "land", "push", "restore"]
MAKE_TARGET = {t: "repos-sync" if t == "repos-sync" else f"builder-{t}" for t in TARGETS}
TASK_TARGET = {t: "repos:sync" if t == "repos-sync" else f"builder:{t}" for t in TARGETS}


def expected(target: str, values: dict[str, str]) -> list[str]:
    name, repos, base, force = values["NAME"], values["REPOS"], values["BASE"], values["FORCE"]
    with_repos = ["--repos", repos] if repos else []
    with_base = ["--base", base] if base else []
    with_sparse = ["--sparse", values["SPARSE"]] if values.get("SPARSE") else []
    return {
        "new": ["new", name, *with_repos, *with_base, *with_sparse],
        "add": ["add", name, *with_base],
        "init": ["init", *with_repos, *(["--builder", name] if name else [])],
        "list": ["list"],
        "verify": ["verify", *([name] if name else [])],
        "remove": ["remove", name, *(["--force"] if force else [])],
        "prune": ["prune"],
        "repos-sync": ["repos", "sync"],
        **{finish: [finish, *([name] if name else [])] for finish in ("status", "sync", "land", "push")},
        "restore": ["restore", name],
    }[target]


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any of the variables the templates read, nor an outer make's."""
    dropped = {"NAME", "REPOS", "BASE", "FORCE", "SPARSE", "CMD", "BUILDERS", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    dropped |= {"MAKEOVERRIDES"}
    dropped |= {"ARGS", "MSG", "BUILDERS_VIA"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env.update(extra)
    return env


def fake_builders(folder: Path) -> Path:
    fake = folder / "fake-builders"
    fake.write_text(FAKE.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    return fake


def run_tool(tool: str, target: str, values: dict[str, str], way: str, cwd: Path, fake: Path) -> list[str]:
    """Run one template target with `values` on the command line or in the environment; the argv received."""
    log = fake.with_name("argv.jsonl")
    log.unlink(missing_ok=True)
    given = {k: v for k, v in values.items() if v}
    command = ["make", "--no-print-directory", MAKE_TARGET[target]] if tool == "make" else ["task", TASK_TARGET[target]]
    if way == "command line":
        command += [f"{k}={v}" for k, v in given.items()]
        env = clean_env(BUILDERS=str(fake))
    else:
        env = clean_env(BUILDERS=str(fake), **given)
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    received: list[str] = json.loads(lines[0])
    return received


def cases(tool: str, target: str) -> list[tuple[dict[str, str], str]]:
    if target in {"list", "prune", "repos-sync"}:  # they take no value: none may leak in or run
        return [(HOSTILE[0], "command line"), (HOSTILE[0], "environment")]
    both = [(values, way) for values in HOSTILE for way in ("command line", "environment")]
    if tool == "make":
        return [*both, (TEMPLATE_LIKE, "command line"), (TEMPLATE_LIKE, "environment"), (LEADING_BLANKS, "environment")]
    return [*both, (TEMPLATE_LIKE, "environment"), (LEADING_BLANKS, "command line"), (LEADING_BLANKS, "environment")]


@pytest.mark.parametrize("target", TARGETS)
def test_make_passes_values_byte_for_byte(root: Path, tmp_path: Path, target: str) -> None:
    fake = fake_builders(tmp_path)
    for values, way in cases("make", target):
        assert run_tool("make", target, values, way, root, fake) == expected(target, values), (values, way)
    assert not list(root.parent.rglob("PWNED"))


@needs_task
@pytest.mark.parametrize("target", TARGETS)
def test_task_passes_values_byte_for_byte(root: Path, tmp_path: Path, target: str) -> None:
    fake = fake_builders(tmp_path)
    for values, way in cases("task", target):
        assert run_tool("task", target, values, way, root, fake) == expected(target, values), (values, way)
    assert not list(root.parent.rglob("PWNED"))


def test_a_make_run_by_builders_gets_no_overrides(root: Path, tmp_path: Path) -> None:
    # a setup script that runs make must not find NAME=... forced on it through MAKEFLAGS
    fake = tmp_path / "fake-builders"
    fake.write_text('#!/bin/sh\nprintf \'%s\' "$MAKEFLAGS" > "$0.flags"\n', encoding="utf-8")
    fake.chmod(0o755)
    command = ["make", "builder-list", "NAME=slack", "REPOS=alpha"]
    done = subprocess.run(command, cwd=root, env=clean_env(BUILDERS=str(fake)), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "NAME" not in tmp_path.joinpath("fake-builders.flags").read_text()


def shell(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False)


def test_make_end_to_end_dollar_in_a_name_is_refused(root: Path, unchanged: Unchanged) -> None:
    with unchanged():
        done = shell(root, "make", "builder-new", "NAME=a$b$(shell touch PWNED)")
        assert done.returncode != 0
        assert "error: invalid builder name 'a$b$(shell touch PWNED)'" in done.stderr
        assert "hint:" in done.stderr
    assert not builders_dir(root).exists()


@pytest.mark.parametrize("tool", ["make", "task"])
def test_end_to_end_a_base_with_a_dollar(root: Path, tool: str) -> None:
    if tool == "task" and shutil.which("task", path=str(BIN)) is None:
        pytest.skip("task (go-task-bin) not installed")
    # git allows `$` in a branch name; `feat` (what make used to make of it) is another commit
    git.run(root, "branch", "feat")
    (root / "new.txt").write_text("new\n")
    wanted = commit(root)
    git.run(root, "branch", "feat$x")
    git.run(root, "reset", "-q", "--hard", "HEAD~1")
    command = ["make", "builder-new"] if tool == "make" else ["task", "builder:new"]
    done = shell(root, *command, "NAME=slack", "BASE=feat$x", "REPOS=alpha")
    assert done.returncode == 0, done.stderr
    builder = builders_dir(root) / "slack"
    assert git.run(builder, "rev-parse", "HEAD").strip() == wanted
    assert (builder / "repos/alpha/.git").is_file()


# run, exec, start: NAME (and REPOS) as above; the command is task's words after `--`, each as typed,
# or make's CMD, one shell command line that reaches `sh -c` as typed.
# (task expands `{{...}}` in the words after `--` as a template, as in a value on its command line.)
HOSTILE_WORDS = ["$(touch PWNED)", "a b", "it's \"q\"", "`touch PWNED`;x", "new\nline", "${HOME}", "--json", ""]
SESSION_TARGETS = ["run", "exec", "start"]


def session_expected(target: str, values: dict[str, str], command: list[str]) -> list[str]:
    name = [values["NAME"]] if values["NAME"] else []
    if target == "start":
        return ["start", *name]
    repos = ["--repos", values["REPOS"]] if target == "exec" and values["REPOS"] else []
    return [target, *name, *repos, "--", *command]


def run_session(tool: str, target: str, values: dict[str, str], way: str, cwd: Path, fake: Path) -> list[str]:
    log = fake.with_name("argv.jsonl")
    log.unlink(missing_ok=True)
    given = {k: v for k, v in values.items() if v}
    command = ["make", "--no-print-directory", f"builder-{target}"] if tool == "make" else ["task", f"builder:{target}"]
    tail = ["--", *HOSTILE_WORDS] if tool == "task" and target != "start" else []
    if way == "command line":
        env = clean_env(BUILDERS=str(fake))
        command += [f"{k}={v}" for k, v in given.items()]
    else:
        env = clean_env(BUILDERS=str(fake), **given)
    done = subprocess.run([*command, *tail], cwd=cwd, env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    received: list[str] = json.loads(lines[0])
    return received


@pytest.mark.parametrize("target", SESSION_TARGETS)
def test_make_session_targets_pass_values_byte_for_byte(root: Path, tmp_path: Path, target: str) -> None:
    fake = fake_builders(tmp_path)
    for values, way in cases("make", "new"):
        values = {**values, "CMD": values["BASE"] or "git status"}  # a hostile command line
        received = run_session("make", target, values, way, root, fake)
        assert received == session_expected(target, values, ["sh", "-c", values["CMD"]]), (values, way)
    assert not list(root.parent.rglob("PWNED"))


@needs_task
@pytest.mark.parametrize("target", SESSION_TARGETS)
def test_task_session_targets_pass_words_byte_for_byte(root: Path, tmp_path: Path, target: str) -> None:
    fake = fake_builders(tmp_path)
    for values, way in cases("task", "new"):
        received = run_session("task", target, values, way, root, fake)
        assert received == session_expected(target, values, HOSTILE_WORDS), (values, way)
    assert not list(root.parent.rglob("PWNED"))


def test_make_session_target_requires_cmd(root: Path, tmp_path: Path) -> None:
    fake = fake_builders(tmp_path)
    env = clean_env(BUILDERS=str(fake))
    done = subprocess.run(["make", "builder-exec"], cwd=root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "error: CMD is required" in done.stderr and "hint: make builder-exec CMD=" in done.stderr
    assert not fake.with_name("argv.jsonl").exists()


# land's switches: ARGS, split into words at blanks only (space, tab, newline), each word as typed
# (no globbing: `*` stays `*`; no quotes; never code); a message with blanks is MSG, one word.
LAND_VALUES = [
    {"NAME": "slack", "ARGS": "--push $(shell touch PWNED) `touch PWNED`;x", "MSG": "it's \"done\" $(touch PWNED)"},
    {"NAME": "", "ARGS": "--squash\t--remove\n$$x ${HOME} * ~ ? 'a b'", "MSG": "line one\nline two ${HOME}"},
    {"NAME": "x$(shell touch PWNED)", "ARGS": "  --push   --remove ", "MSG": ""},
    {"NAME": "s", "ARGS": "", "MSG": "#not a comment % é 漢字 \\"},
]


def land_expected(values: dict[str, str]) -> list[str]:
    words = re.findall(r"[^ \t\n]+", values["ARGS"])
    message = ["-m", values["MSG"]] if values["MSG"] else []
    return ["land", *([values["NAME"]] if values["NAME"] else []), *words, *message]


@pytest.mark.parametrize("tool", ["make", pytest.param("task", marks=needs_task)])
def test_land_args_and_msg_reach_builders_word_for_word(root: Path, tmp_path: Path, tool: str) -> None:
    fake = fake_builders(tmp_path)
    for values in LAND_VALUES:
        for way in ("command line", "environment"):
            received = run_tool(tool, "land", values, way, root, fake)
            assert received == land_expected(values), (values, way)
    assert not list(root.parent.rglob("PWNED"))
