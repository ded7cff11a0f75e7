"""Running sessions: the builder's environment and port blocks, run, exec, start, per-builder files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from runs import console, environment, start
from sample_workspace import make_workspace
from workspace_builders.gitlayer import git

PORTS = "builders:\n  ports: {first: 21000, size: 3}\n"


def configure(root: Path, text: str) -> None:
    (root / "workspaces.yaml").write_text(text, encoding="utf-8")
    commit(root, "config")


def state_of(root: Path, name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((root / f".git/builders/state/{name}.json").read_text())
    return loaded


# --- the environment and ports ---------------------------------------------------------------------


def test_setup_gets_the_port_block(root: Path, builders: Builders) -> None:
    configure(root, PORTS + "scripts:\n  setup: 'env | grep ^BUILDER_PORT | sort > ports.out'\n")
    assert builders("new", "a").code == 0
    assert builders("new", "b").code == 0
    seen = (builders_dir(root) / "b/ports.out").read_text().splitlines()
    assert seen == ["BUILDER_PORT=21003", "BUILDER_PORT_0=21003", "BUILDER_PORT_1=21004", "BUILDER_PORT_2=21005"]
    assert state_of(root, "a")["ports"] == [21000, 21001, 21002]


def test_no_ports_without_the_config(root: Path, builders: Builders) -> None:
    configure(root, "scripts:\n  setup: 'env | grep ^BUILDER_PORT > ports.out || true'\n")
    assert builders("new", "a").code == 0
    assert (builders_dir(root) / "a/ports.out").read_text() == ""
    assert state_of(root, "a")["ports"] == []


def test_a_state_file_without_ports_still_loads(root: Path, builders: Builders) -> None:
    assert builders("new", "a").code == 0
    path = root / ".git/builders/state/a.json"
    old = json.loads(path.read_text())
    del old["ports"]
    path.write_text(json.dumps(old))
    listed = builders("list", "--json", "--fast")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out)["builders"][0]["ports"] == []


@pytest.mark.slow
def test_twenty_parallel_news_get_disjoint_blocks_and_a_removed_block_is_reused(tmp_path: Path) -> None:
    top = make_workspace(tmp_path / "w", ("alpha",), files=1)
    configure(top, PORTS)
    procs = [start(top, "new", f"s{i}") for i in range(20)]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, errors
    blocks = {f"s{i}": state_of(top, f"s{i}")["ports"] for i in range(20)}
    ports = [port for block in blocks.values() for port in block]  # type: ignore[attr-defined]
    assert len(ports) == 60 and len(set(ports)) == 60
    assert sorted(ports) == list(range(21000, 21060))
    listed = json.loads(console(top, "list", "--json", "--fast").stdout)["builders"]
    assert {row["name"]: row["ports"] for row in listed} == blocks
    assert console(top, "remove", "s7").returncode == 0
    assert console(top, "new", "later").returncode == 0
    assert state_of(top, "later")["ports"] == blocks["s7"]


# --- run ---------------------------------------------------------------------------------------------


def test_run_passes_env_cwd_stdin_and_exit_code(root: Path, builders: Builders) -> None:
    configure(root, PORTS)
    assert builders("new", "s", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "s"
    script = 'echo "$BUILDER_NAME|$BUILDER_PATH|$WORKSPACE_ROOT|$BUILDER_REPOS|$BUILDER_PORT"; pwd; cat; exit 7'
    done = console(root, "run", "s", "--", "sh", "-c", script, stdin="typed in\n")
    assert done.returncode == 7, done.stderr
    assert done.stdout.splitlines() == [f"s|{builder}|{root}|alpha,beta|21000", str(builder), "typed in"]


@pytest.mark.quick
def test_run_without_a_name_inside_a_builder_and_switches_after_the_dashes(root: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    inside = builders_dir(root) / "s/repos/alpha"
    done = console(inside, "run", "--", "sh", "-c", 'pwd; echo "$BUILDER_NAME"; ls -1 .git')  # -1 is ls's
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(inside), "s", ".git"]  # where you stand, the builder's environment
    named = console(inside, "run", "s", "--", "pwd")  # naming the builder you are in changes nothing
    assert named.returncode == 0 and named.stdout == f"{inside}\n"
    assert console(root, "run", "s", "--", "pwd").stdout.strip() == str(builders_dir(root) / "s")  # from outside
    done = console(inside, "run", "--", "printf", "%s\\n", "--help", "$(touch PWNED)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["--help", "$(touch PWNED)"]
    assert not list(root.parent.rglob("PWNED"))


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (("run", "slakc", "--", "true"), "error: no builder named 'slakc'", "hint: did you mean 'slack'?"),
        (("run", "slack"), "error: no command given after --", "hint: for example: builders run slack -- git status"),
        (("exec", "slack"), "error: no command given", "hint: for example: builders exec slack -- git status\n"),
        (("run", "slack", "x", "--", "true"), "error: unexpected argument: x", "hint:"),
        (("run", "--", "true"), "error: not inside a builder: name one", "hint: builders run NAME"),
        (("exec", "slack", "--repos", "alpah", "--", "true"), "error: builder slack has no repo alpah", "'alpha'"),
        (("start", "slack"), "error: no start script: scripts.start is not set", "hint: set it in"),
        (("new", "t", "--start"), "error: no start script", "hint:"),
    ],
)
def test_bad_input(
    root: Path, builders: Builders, unchanged: Unchanged, args: tuple[str, ...], message: str, hint: str
) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    with unchanged():
        done = console(root, *args)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and hint in done.stderr


@pytest.mark.parametrize("command", ["run", "exec"])
def test_a_missing_command_exits_127(root: Path, builders: Builders, unchanged: Unchanged, command: str) -> None:
    assert builders("new", "slack", "--repos", "alpha").code == 0
    named = (root, command, "slack", "--", "no-such-program-x")
    inside = (builders_dir(root) / "slack", command, "--", "no-such-program-x")
    for where, *args in (named, inside):
        with unchanged():
            done = console(Path(where), *map(str, args))
        assert done.returncode == 127, done.stderr
        assert "error: command not found: 'no-such-program-x'" in done.stderr
        assert f"hint: check its name and PATH, then: builders {command} " in done.stderr
        assert done.stdout == ""


# --- exec --------------------------------------------------------------------------------------------


@pytest.fixture
def five(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "five", tuple(f"r{i}" for i in range(5)), files=1)


def test_exec_runs_in_every_repo(five: Path) -> None:
    assert console(five, "new", "s", "--repos", "all").returncode == 0
    done = console(five, "exec", "s", "--", "sh", "-c", 'echo "$BUILDER_NAME in $(basename "$PWD")"')
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for i in range(5):
        assert f"r{i} | s in r{i}" in lines
    summary = [line.split()[:2] for line in lines if not line.startswith("r") or " | " not in line]
    assert summary == [["repo", "exit"]] + [[f"r{i}", "0"] for i in range(5)]


def test_exec_one_failing_gives_exit_1_and_the_others_run(five: Path) -> None:
    assert console(five, "new", "s", "--repos", "all").returncode == 0
    script = '[ "$(basename "$PWD")" != r2 ] || { echo broken >&2; exit 5; }; git status --short -b'
    done = console(five, "exec", "s", "--json", "--root", "--", "sh", "-c", script)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["ok"] is False and document["builder"] == "s"
    assert document["command"] == ["sh", "-c", script]
    codes = {r["name"]: r["exit_code"] for r in document["repos"]}
    assert codes == {"root": 0, "r0": 0, "r1": 0, "r2": 5, "r3": 0, "r4": 0}
    outputs = {r["name"]: r["output"] for r in document["repos"]}
    assert outputs["r2"] == ["broken"]
    assert outputs["r4"] == ["## builder/s"]
    assert "failed in 1 of 6: r2" in done.stderr


def test_exec_only_the_named_repos(five: Path) -> None:
    assert console(five, "new", "s", "--repos", "all").returncode == 0
    done = console(five, "exec", "s", "--repos", "r1,r3", "--jobs", "1", "--", "pwd")
    assert done.returncode == 0, done.stderr
    prefixed = [line for line in done.stdout.splitlines() if " | " in line]
    assert [line.split(" | ")[0] for line in prefixed] == ["r1", "r3"]


# --- start -------------------------------------------------------------------------------------------


def test_start_runs_the_script_in_the_builder(root: Path, builders: Builders) -> None:
    configure(root, PORTS + "scripts:\n  start: 'echo \"$BUILDER_NAME $BUILDER_PORT_1\"; pwd; exit 3'\n")
    assert builders("new", "s").code == 0
    done = console(root, "start", "s")
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["s 21001", str(builders_dir(root) / "s")]
    assert f"in builder s: {builders_dir(root) / 's'}" in done.stderr


def test_new_then_start(root: Path) -> None:
    configure(root, "scripts:\n  start: 'echo started $BUILDER_NAME'\n")
    done = console(root, "new", "t", "--repos", "alpha", "--start")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "started t"
    assert state_of(root, "t")["status"] == "ready"


# --- per-builder files -------------------------------------------------------------------------------

FILES = """files:
  .opencode/orchestrator.local.json: '{"name": "{name}", "port": {port}, "path": "{path}", "root": "{root}"}'
  tracked.txt: 'x'
  ../outside.txt: 'x'
  /tmp/absolute.txt: 'x'
  .opencode/present.json: 'new'
"""


def test_files_written_only_where_ignored(root: Path, builders: Builders) -> None:
    configure(root, PORTS + FILES)
    with (root / ".gitignore").open("a") as ignore:
        ignore.write(".opencode/\n")
    (root / ".worktreeinclude").write_text(".opencode/\n")
    (root / ".opencode").mkdir()
    (root / ".opencode/present.json").write_text("copied in\n")
    commit(root, "ignore .opencode")
    result = builders("new", "s")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "s"
    written = json.loads((builder / ".opencode/orchestrator.local.json").read_text())
    assert written == {"name": "s", "port": 21000, "path": str(builder), "root": str(root)}
    assert (builder / ".opencode/present.json").read_text() == "copied in\n"  # never overwritten
    assert not (builder / "tracked.txt").exists()
    assert "not writing tracked.txt" in result.err and "add the line /tracked.txt to .gitignore" in result.err
    assert "not writing ../outside.txt" in result.err and not (builders_dir(root) / "outside.txt").exists()
    assert "not writing /tmp/absolute.txt" in result.err
    assert "not writing .opencode/present.json (files:): exists" in result.err
    assert git.run(builder, "status", "--porcelain") == ""


def test_files_never_through_a_symlinked_folder(root: Path, builders: Builders, tmp_path: Path) -> None:
    configure(root, "files:\n  link/x.txt: 'x'\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "link").symlink_to(elsewhere)  # tracked: every builder gets it, pointing out of the builder
    commit(root, "a tracked symlink")
    result = builders("new", "s")
    assert result.code == 0, result.err
    assert "not writing link/x.txt" in result.err
    assert not (elsewhere / "x.txt").exists()


def test_files_under_a_repo_are_checked_against_that_repos_gitignore(
    root: Path, builders: Builders, tmp_path: Path
) -> None:
    configure(
        root, PORTS + "files:\n  repos/alpha/.env: 'x {port}'\n  repos/beta/.env: 'y {port}'\n  repos/gamma/.env: 'z'\n"
    )
    upstream = tmp_path / "upstream/beta"
    (upstream / ".gitignore").write_text(".env\n")
    commit(upstream, "ignore .env")
    git.run(root / "repos/beta", "pull", "-q", "--ff-only")  # the base is the local branch
    result = builders("new", "e1", "--repos", "alpha,beta")
    assert result.code == 0, result.err
    builder = builders_dir(root) / "e1"
    assert not (builder / "repos/alpha/.env").exists()
    assert "warning: not writing repos/alpha/.env (files:): repo alpha's .gitignore does not ignore it" in result.err
    assert "add the line /.env to repos/alpha/.gitignore" in result.err
    assert (builder / "repos/beta/.env").read_text() == "y 21000"
    assert "warning: not writing repos/gamma/.env (files:): the builder has no repo gamma" in result.err
    assert not (builder / "repos/gamma").exists()
    assert git.run(builder / "repos/alpha", "status", "--porcelain") == ""
    assert git.run(builder / "repos/beta", "status", "--porcelain") == ""
    removed = builders("remove", "e1")
    assert removed.code == 0, removed.err
    assert not builder.exists()


def test_a_restored_builder_gets_a_free_port_block(root: Path, builders: Builders) -> None:
    configure(root, PORTS)
    for name in ("e1", "e2", "e3"):
        assert builders("new", name, "--repos", "alpha").code == 0
    (builders_dir(root) / "e2/work.txt").write_text("archived\n")
    assert builders("remove", "e2", "--force").code == 0
    assert builders("new", "e4", "--repos", "alpha").code == 0  # takes the block e2 freed
    restored = builders("restore", "e2")
    assert restored.code == 0, restored.err
    listed = builders("list", "--json", "--fast")
    assert listed.code == 0, listed.err
    blocks = {row["name"]: row["ports"] for row in json.loads(listed.out)["builders"]}
    assert blocks["e4"] == [21003, 21004, 21005]
    assert blocks["e2"] == [21009, 21010, 21011]
    assert set(blocks["e2"]).isdisjoint(port for other, block in blocks.items() if other != "e2" for port in block)
    assert state_of(root, "e2")["ports"] == blocks["e2"]
    done = console(root, "run", "e2", "--", "sh", "-c", 'echo "$BUILDER_PORT $BUILDER_PORT_2"')
    assert done.returncode == 0, done.stderr
    assert done.stdout == "21009 21011\n"


def test_exec_over_a_missing_worktree_names_it_and_points_at_verify(five: Path, tmp_path: Path) -> None:
    assert console(five, "new", "e3", "--repos", "r0,r1").returncode == 0
    moved = builders_dir(five) / "e3/repos/r1"
    moved.rename(tmp_path / "elsewhere")
    done = console(five, "exec", "e3", "--", "git", "status", "--short")
    assert done.returncode == 1, done.stderr
    assert f"r1 | no worktree at {moved}" in done.stdout.splitlines()
    assert "cannot run" not in done.stdout
    rows = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines() if " | " not in line}
    assert rows["r0"] == "0" and rows["r1"] == "1"
    assert "failed in 1 of 2: r1" in done.stderr
    assert "hint: a worktree folder is missing; see what is wrong: builders verify e3" in done.stderr
    document = json.loads(console(five, "exec", "e3", "--json", "--", "git", "status").stdout)
    assert document["ok"] is False
    assert [(r["name"], r["exit_code"], r["output"]) for r in document["repos"]][1] == (
        "r1",
        1,
        [f"no worktree at {moved}"],
    )


def test_files_never_through_a_folder_swapped_for_a_symlink_after_the_check(root: Path, tmp_path: Path) -> None:
    """A git on PATH that puts a symlink in the way while it answers the gitignore check: the write
    that follows never goes through it (the folders are opened without following symlinks)."""
    configure(root, "files:\n  sub/x.txt: 'secret {name}'\n")
    with (root / ".gitignore").open("a") as ignore:
        ignore.write("/sub/\n")
    commit(root, "ignore sub/")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wrappers = tmp_path / "wrappers"
    wrappers.mkdir()
    real_git = shutil.which("git")
    assert real_git is not None
    wrapper = wrappers / "git"
    # git is called as: git -c protocol.ext.allow=never -C <folder> check-ignore ... -- sub/x.txt
    wrapper.write_text(
        "#!/bin/sh\n"
        f'"{real_git}" "$@"; code=$?\n'
        f'if [ "$5" = check-ignore ] && [ ! -e "$4/sub" ]; then ln -s "{elsewhere}" "$4/sub"; fi\n'
        "exit $code\n"
    )
    wrapper.chmod(0o755)
    done = console(root, "new", "w", env=environment(path_first=wrappers))
    assert done.returncode == 0, done.stderr  # the builder is made all the same
    builder = builders_dir(root) / "w"
    assert (builder / "sub").is_symlink()  # the wrapper did swap it in, after the check
    assert "warning: not writing sub/x.txt (files:): sub on the way became a symlink or not a folder" in done.stderr
    assert list(elsewhere.iterdir()) == []  # nothing written outside the builder
