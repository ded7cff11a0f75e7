"""The real agent clients against real builders: OpenCode's server started in a builder by `builders start`
finds the files of its repos; `claude --worktree NAME` in a root set up with `builders hooks install
--claude` makes a whole builder through our hook.

npm installs both clients once into .npm-clients/ of this checkout (gitignored). They run with a private
HOME, a fake key, proxies and the model API pointed at a closed local port (claude, where the machine
allows, also in a network namespace of its own; OpenCode's server must stay reachable on 127.0.0.1):
nothing leaves the machine. Every run is bounded by a timeout and its whole process group is killed in
the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import builders_dir, commit
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
CLIENTS = PROJECT / ".npm-clients"
PACKAGES = {"opencode": "opencode-ai@1.18.33", "claude": "@anthropic-ai/claude-code@2.1.197"}
BIN = Path(sys.executable).parent
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, every connection is refused
INSTALL_TIMEOUT = 900
WAIT = 90  # seconds for a client to come up or give up


@pytest.fixture(scope="session")
def clients() -> Path:
    """The folder of the clients' executables, installed by npm on first use."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the real-client tests need it (apt-get install nodejs npm)")
    CLIENTS.mkdir(exist_ok=True)
    wanted = " ".join(sorted(PACKAGES.values()))
    stamp = CLIENTS / "installed"
    with (CLIENTS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs of one checkout install once
        if not stamp.is_file() or stamp.read_text() != wanted:
            env = {**os.environ, "npm_config_cache": str(CLIENTS / ".cache"), "npm_config_update_notifier": "false"}
            command = [npm, "install", "--prefix", str(CLIENTS), "--no-audit", "--no-fund", *PACKAGES.values()]
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
            )
            assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
            stamp.write_text(wanted)
    found = CLIENTS / "node_modules" / ".bin"
    for name in PACKAGES:
        assert (found / name).exists(), f"npm installed no {name} in {found}"
    return found


def offline_env(clients: Path, home: Path, **extra: str) -> dict[str, str]:
    """The environment a client runs in: ours (hermetic git), a private HOME, no way out."""
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN), str(clients), os.environ["PATH"]]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "NO_PROXY": "",
        "no_proxy": "",
        "ANTHROPIC_API_KEY": "sk-ant-test-fake-key",
        "ANTHROPIC_BASE_URL": CLOSED,
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        **extra,
    }
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[proxy] = CLOSED
    return env


def without_network() -> list[str]:
    """A prefix that runs a command in a network namespace of its own, where the machine allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


@contextlib.contextmanager
def process_group(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start `command` as the leader of a new process group; in the end the whole group is killed."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # what the leader left behind
        assert _group_gone(proc.pid), f"processes of group {proc.pid} outlived the test"


def _group_gone(pgid: int) -> bool:
    for _ in range(50):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def two_free_ports() -> int:
    """A port that is free, and the one after it: the blocks two builders of size 1 get."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            with socket.socket() as after:
                try:
                    after.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise AssertionError("no two free ports in a row")


def get_json(port: int, route: str, **query: str) -> object:
    url = f"http://127.0.0.1:{port}{route}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as answer:
        return json.loads(answer.read())


def builders_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = env or {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["builders", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def readme_blocks(kind: str) -> list[str]:
    """The fenced blocks of one kind in the README's "Use with agent runtimes" section."""
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use with agent runtimes") : readme.index("## Configuration")]
    return [block.split("```")[0] for block in section.split(f"```{kind}\n")[1:]]


def readme_opencode_config(port: int) -> tuple[str, str]:
    """The README's OpenCode configuration, as the lines under `builders:` and the rest, at `port`."""
    (block,) = readme_blocks("yaml")
    lines = block.splitlines()
    assert lines[0] == "builders:" and "first: 20000" in lines[1], block
    return lines[1].replace("first: 20000", f"first: {port}") + "\n", "\n".join(lines[2:]) + "\n"


def configure(root: Path, replace: str, by: str, append: str = "") -> None:
    config = root / "workspaces.yaml"
    text = config.read_text()
    assert replace in text
    config.write_text(text.replace(replace, by, 1) + append)
    commit(root, "configure workspace-builders")


def wait_for_server(port: int, server: subprocess.Popen[bytes], log: Path) -> dict[str, str]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        with contextlib.suppress(OSError):
            where = get_json(port, "/path")
            assert isinstance(where, dict)
            return where
        time.sleep(0.3)
    raise AssertionError(f"no answer on port {port}: {log.read_text(errors='replace')}")


def list_rows(root: Path) -> dict[str, dict[str, object]]:
    listed = builders_cli(root, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    rows = document if isinstance(document, list) else next(v for v in document.values() if isinstance(v, list))
    return {str(row["name"]): row for row in rows}


def test_opencode_serve_started_in_builders_finds_their_repos_files(root: Path, clients: Path, tmp_path: Path) -> None:
    """Two sessions at once, each its own OpenCode server on its own port: one by `new --start`, one by `start`."""
    if shutil.which("rg") is None:
        pytest.skip("ripgrep (rg) is not installed: OpenCode's file search runs it (apt-get install ripgrep)")
    port = two_free_ports()
    ports, scripts = readme_opencode_config(port)  # as the README shows it
    assert 'start: "opencode serve --port $BUILDER_PORT --hostname 127.0.0.1"' in scripts
    configure(root, "builders:\n", "builders:\n" + ports, append=scripts)
    env = offline_env(clients, tmp_path / "home")
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with process_group(["builders", "new", "oc1", "--repos", "alpha", "--start"], root, env, first_log) as first:
        wait_for_server(port, first, first_log)
        assert builders_cli(root, "new", "oc2", "--repos", "beta").returncode == 0
        beta = builders_dir(root) / "oc2/repos/beta"  # a repo's own ignores still hide its dependencies
        (beta / ".gitignore").write_text("node_modules/\n")
        commit(beta, "ignore node_modules")
        (beta / "node_modules/dep").mkdir(parents=True)
        (beta / "node_modules/dep/module00000.js").write_text("x\n")
        with process_group(["builders", "start", "oc2"], root, env, second_log) as second:
            wait_for_server(port + 1, second, second_log)
            rows = list_rows(root)
            assert rows["oc1"]["ports"] == [port] and rows["oc2"]["ports"] == [port + 1]
            for name, repo, at in (("oc1", "alpha", port), ("oc2", "beta", port + 1)):
                builder = builders_dir(root) / name
                where = get_json(at, "/path")
                assert isinstance(where, dict)
                assert Path(where["worktree"]) == builder and Path(where["directory"]) == builder
                # The file is in the repo worktree only: the root has none of that name.
                found = get_json(at, "/find/file", query="module00000")
                assert isinstance(found, list) and found[:1] == [f"repos/{repo}/src/pkg00/module00000.py"], found
                assert all(f.startswith(f"repos/{repo}/") for f in found), found
                assert not any("node_modules" in f for f in found), found
                # Its grep too: the text is in the repo's README alone (the root's says "A sample workspace").
                grepped = get_json(at, "/find", pattern=f"# {repo}$")
                assert isinstance(grepped, list), grepped
                assert [g["path"]["text"] for g in grepped] == [f"repos/{repo}/README.md"], grepped
                listed = get_json(at, "/file", path="repos")
                assert isinstance(listed, list)
                assert [(e["name"], e["ignored"]) for e in listed] == [(repo, False)]
    for name in ("oc1", "oc2"):
        assert git.run(builders_dir(root) / name, "status", "--porcelain") == ""  # nothing git sees was left


def test_both_clients_connect_to_the_server_hooks_install_registers(root: Path, clients: Path, tmp_path: Path) -> None:
    """Registered by `hooks install --claude --opencode` and committed, the server reaches every builder:
    each real client, started in a builder, starts `builders mcp` and finishes the MCP handshake."""
    installed = builders_cli(root, "hooks", "install", "--claude", "--opencode")
    assert installed.returncode == 0, installed.stderr
    git.run(root, "add", ".claude/settings.json", ".mcp.json", "opencode.json")
    git.run(root, "commit", "-q", "-m", "workspace-builders for agent runtimes")
    assert builders_cli(root, "new", "m1").returncode == 0
    builder = builders_dir(root) / "m1"
    env = offline_env(clients, tmp_path / "home")
    settings = tmp_path / "home/.claude/settings.json"  # the user's consent to the project's servers
    settings.parent.mkdir(parents=True)
    settings.write_text('{"enableAllProjectMcpServers": true}\n')

    def listed(*command: str) -> str:
        done = subprocess.run(command, cwd=builder, env=env, capture_output=True, text=True, timeout=WAIT, check=False)
        return done.stdout + done.stderr

    opencode = listed("opencode", "mcp", "list")
    assert "builders" in opencode and "builders mcp" in opencode and "connected" in opencode, opencode
    assert "failed" not in opencode.lower(), opencode
    claude = listed(*without_network(), "claude", "mcp", "list")
    assert "builders: builders mcp - ✔ Connected" in claude, claude


def test_claude_mcp_add_writes_the_registration_hooks_install_takes_as_ours(
    root: Path, clients: Path, tmp_path: Path
) -> None:
    """The README's other way to register the server in Claude Code, with the real `claude mcp add`."""
    env = offline_env(clients, tmp_path / "home")
    command = [*without_network(), "claude", "mcp", "add", "--scope", "project", "builders", "--", "builders", "mcp"]
    added = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=WAIT, check=False)
    assert added.returncode == 0, added.stdout + added.stderr
    written = (root / ".mcp.json").read_text()
    server = json.loads(written)["mcpServers"]["builders"]
    assert (server["command"], server["args"]) == ("builders", ["mcp"])
    installed = builders_cli(root, "hooks", "install", "--claude")
    assert installed.returncode == 0 and ".mcp.json: already has ours" in installed.stderr, installed.stderr
    assert (root / ".mcp.json").read_text() == written
    assert builders_cli(root, "hooks", "uninstall", "--claude").returncode == 0
    assert not (root / ".mcp.json").exists()


def test_claude_worktree_makes_a_whole_builder_through_the_hook(root: Path, clients: Path, tmp_path: Path) -> None:
    configure(root, "default_repos: []", "default_repos: [alpha, beta]")
    installed = builders_cli(root, "hooks", "install", "--claude")
    assert installed.returncode == 0, installed.stderr
    git.run(root, "add", ".claude/settings.json", ".mcp.json")
    git.run(root, "commit", "-q", "-m", "workspace-builders for agent runtimes")
    env = offline_env(clients, tmp_path / "home")
    command = [*without_network(), "claude", "--worktree", "fix-login", "-p", "say hi"]
    with (
        process_group(command, root, env, tmp_path / "claude.log") as claude,
        contextlib.suppress(subprocess.TimeoutExpired),
    ):
        claude.wait(timeout=WAIT)  # it gives up on the model it cannot reach, or is stopped here
    builder = builders_dir(root) / "fix-login"
    log = (tmp_path / "claude.log").read_text(errors="replace")
    assert builder.is_dir(), log
    assert sorted(p.name for p in (builder / "repos").iterdir()) == ["alpha", "beta"]
    for repo in ("alpha", "beta"):
        assert git.run(builder / "repos" / repo, "branch", "--show-current").strip() == "builder/fix-login"
    state = json.loads((root / ".git/builders/state/fix-login.json").read_text())
    assert state["status"] == "ready"
    checked = builders_cli(root, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not (root / ".claude/worktrees").exists()  # not Claude Code's own worktree
    # Claude Code took the path the hook printed as its worktree and ran the session there.
    (session,) = (tmp_path / "home/.claude/projects").glob("*/*.jsonl")
    entries = [json.loads(line) for line in session.read_text().splitlines() if line.strip()]
    (worktree,) = [e["worktreeSession"] for e in entries if e.get("type") == "worktree-state"]
    assert worktree["worktreePath"] == str(builder) and worktree["hookBased"] is True, worktree
    assert {e["cwd"] for e in entries if e.get("type") == "user"} == {str(builder)}, log
