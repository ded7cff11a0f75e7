"""`builders mcp`, driven by the MCP SDK's own stdio client: a whole session on a real workspace, the
error cases, and nothing but the protocol on the server's stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from conftest import Unchanged, builders_dir, commit
from test_json_contract import valid_document
from workspace_builders.gitlayer import git

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
TIMEOUT = 60  # seconds for any one step: a hang fails the test instead of stalling the run
SERVER = [str(Path(sys.executable).parent / "builders"), "mcp"]  # as .mcp.json and opencode.json start it

Session = Callable[[ClientSession], Awaitable[None]]


def serve(where: Path, session: Session, server: Sequence[str] = SERVER) -> list[Exception]:
    """Run `session` against `builders mcp` started in `where`; what the client could not read as protocol
    on the server's stdout (it must stay empty)."""
    garbage: list[Exception] = []

    async def watch(message: object) -> None:
        if isinstance(message, Exception):
            garbage.append(message)

    async def main() -> None:
        started = StdioServerParameters(command=server[0], args=list(server[1:]), cwd=where, env=dict(os.environ))
        with anyio.fail_after(TIMEOUT * 5):
            async with (
                stdio_client(started) as (read, write),
                ClientSession(read, write, message_handler=watch) as client,
            ):
                with anyio.fail_after(TIMEOUT):
                    await client.initialize()
                await session(client)

    anyio.run(main)
    return garbage


async def call(
    client: ClientSession, tool: str, lines: list[str] | None = None, **arguments: Any
) -> types.CallToolResult:
    """Call `tool`; the messages of its progress notifications go to `lines`."""

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if lines is not None and message is not None:
            lines.append(message)

    with anyio.fail_after(TIMEOUT):
        return await client.call_tool(tool, arguments, progress_callback=on_progress)


def result(schema: str, done: types.CallToolResult) -> dict[str, Any]:
    """A tool's result: the command's --json document, as structured content and as the text."""
    assert not done.is_error, done.content
    (text,) = done.content
    assert isinstance(text, types.TextContent)
    assert json.loads(text.text) == done.structured_content
    return valid_document(schema, done.structured_content)


def failure(done: types.CallToolResult) -> dict[str, Any]:
    """A tool error: its text is a JSON object with `error` and `hint`."""
    assert done.is_error
    (text,) = done.content
    assert isinstance(text, types.TextContent)
    document = valid_document("error", json.loads(text.text))
    assert document["error"] and document["hint"]
    return document


def test_the_stdout_watch_catches_what_is_not_protocol(root: Path) -> None:
    """The check every other test makes is not vacuous: a line on the server's stdout that is not a
    protocol message is caught (here printed by a wrapper before the server starts)."""

    async def session(client: ClientSession) -> None:
        result("new", await call(client, "builders_new", name="x"))

    noisy = ["sh", "-c", 'echo "not a protocol message" && exec "$0" "$@"', *SERVER]
    assert len(serve(root, session, noisy)) == 1


def test_a_whole_session_new_commit_status_land_remove(root: Path) -> None:
    made = builders_dir(root) / "s"
    seen: dict[str, Any] = {}

    async def session(client: ClientSession) -> None:
        listed = await client.list_tools()
        seen["tools"] = sorted(t.name for t in listed.tools)
        progress: list[str] = []
        created = result("new", await call(client, "builders_new", progress, name="s", repos="alpha,beta"))
        seen["created"], seen["progress"] = created, progress
        (made / "repos/alpha/feature.txt").write_text("f\n")
        commit(made / "repos/alpha", "feature")
        seen["status"] = result("status", await call(client, "builders_status", name="s"))
        seen["list"] = result("list", await call(client, "builders_list"))
        seen["path"] = result("path", await call(client, "builders_path", name="s"))
        seen["exec"] = result(
            "exec",
            await call(client, "builders_exec", name="s", repos=["alpha"], command=["git", "log", "-1", "--format=%s"]),
        )
        seen["sync"] = result("sync", await call(client, "builders_sync", name="s"))
        seen["plan"] = result("land", await call(client, "builders_land", name="s", dry_run=True))
        seen["landed"] = result("land", await call(client, "builders_land", name="s"))
        seen["removed"] = result("remove", await call(client, "builders_remove", name="s"))
        seen["gone"] = result("list-removed", await call(client, "builders_list", removed=True))

    assert serve(root, session) == []  # nothing but protocol on the server's stdout
    assert seen["tools"] == sorted(
        f"builders_{c}" for c in ("new", "list", "status", "sync", "land", "remove", "path", "exec")
    )
    assert seen["created"]["status"] == "ready" and [r["name"] for r in seen["created"]["repos"]] == ["alpha", "beta"]
    # a progress line per repo, as the command prints them
    assert any(line.strip().startswith("alpha: repos/alpha") for line in seen["progress"])
    assert any(line.strip().startswith("beta: repos/beta") for line in seen["progress"])
    alpha = next(w for w in seen["status"]["worktrees"] if w["label"] == "alpha")
    assert alpha["ahead"] == 1 and alpha["head"] == seen["landed"]["landed"][0]["new"]
    assert [b["name"] for b in seen["list"]["builders"]] == ["s"]
    assert seen["path"]["path"] == str(made)
    assert seen["exec"]["repos"][0]["output"] == ["feature"]
    assert [w["synced"] for w in seen["sync"]["worktrees"]] == [False, False, False]
    assert [p["repo"] for p in seen["plan"]["plan"]] == ["alpha"] and seen["plan"]["dry_run"] is True
    assert [m["repo"] for m in seen["landed"]["landed"]] == ["alpha"]
    assert git.run(root / "repos/alpha", "log", "-1", "--format=%s").strip() == "feature"  # the base moved
    assert seen["removed"]["removed"] is True and not made.exists()
    assert [r["name"] for r in seen["gone"]["removed"]] == ["s"]
    # The very document the command prints with --json.
    printed = subprocess.run([*SERVER[:-1], "list", "--removed", "--json"], cwd=root, capture_output=True, text=True)
    assert printed.returncode == 0 and json.loads(printed.stdout) == seen["gone"]


def test_failures_are_tool_errors_with_error_and_hint_and_change_nothing(root: Path, unchanged: Unchanged) -> None:
    seen: dict[str, dict[str, Any]] = {}

    async def session(client: ClientSession) -> None:
        seen["bad name"] = failure(await call(client, "builders_new", name="../x"))
        seen["switch as name"] = failure(await call(client, "builders_remove", name="--force"))
        seen["unknown builder"] = failure(await call(client, "builders_status", name="nope"))
        seen["unknown repo"] = failure(await call(client, "builders_new", name="x", repos=["alpha", "nope"]))
        seen["repos not a list"] = failure(await call(client, "builders_new", name="x", repos=5))
        seen["missing name"] = failure(await call(client, "builders_path"))
        seen["unknown tool"] = failure(await call(client, "builders_nope"))

    with unchanged():
        assert serve(root, session) == []
    assert all(f["exit_code"] == 2 for f in seen.values()), seen
    assert "../x" in seen["bad name"]["error"]
    assert "--force" in seen["switch as name"]["error"]
    assert "nope" in seen["unknown builder"]["error"] and "builders new nope" in seen["unknown builder"]["hint"]
    assert "nope" in seen["unknown repo"]["error"]
    assert seen["repos not a list"]["error"] == "builders_new: bad value for repos"
    assert "name" in seen["missing name"]["error"] and "builders_path takes (name)" in seen["missing name"]["hint"]
    assert "builders_new" in seen["unknown tool"]["hint"]


def test_a_refusal_or_a_failed_command_is_a_tool_error_and_nothing_is_lost(root: Path) -> None:
    made = builders_dir(root) / "w"
    seen: dict[str, dict[str, Any]] = {}

    async def session(client: ClientSession) -> None:
        result("new", await call(client, "builders_new", name="w", repos=["alpha", "beta"]))
        (made / "repos/alpha/wip.txt").write_text("work in progress\n")
        seen["refused"] = failure(await call(client, "builders_remove", name="w"))
        no_ref = ["git", "rev-parse", "--verify", "--quiet", "no-such-ref"]
        seen["failed"] = failure(await call(client, "builders_exec", name="w", command=no_ref))

    assert serve(root, session) == []
    refused = seen["refused"]
    assert refused["exit_code"] == 1 and "wip.txt" in refused["error"] + " ".join(refused["output"])
    # the refusal carries remove's document too: not removed, and what each worktree holds at risk
    assert refused["document"]["removed"] is False
    assert any("wip.txt" in " ".join(w["problems"]) for w in refused["document"]["worktrees"])
    assert (made / "repos/alpha/wip.txt").read_text() == "work in progress\n"
    failed = seen["failed"]
    assert failed["exit_code"] == 1
    document = valid_document("exec", failed["document"])  # the command's own document comes with the error
    assert document["ok"] is False and [r["exit_code"] for r in document["repos"]] == [1, 1]


def test_started_in_a_builder_that_is_then_removed_it_goes_on_from_the_root(root: Path) -> None:
    made = builders_dir(root) / "here"
    subprocess.run([*SERVER[:-1], "new", "here"], cwd=root, check=True, capture_output=True)
    seen: dict[str, dict[str, Any]] = {}

    async def session(client: ClientSession) -> None:
        seen["status"] = result("status", await call(client, "builders_status"))  # the builder it runs in
        seen["removed"] = result("remove", await call(client, "builders_remove", name="here"))
        seen["list"] = result("list", await call(client, "builders_list"))

    assert serve(made, session) == []
    assert seen["status"]["name"] == "here" and seen["removed"]["removed"] is True
    assert seen["list"]["builders"] == []


def test_a_cancelled_call_stops_its_command_and_the_server_goes_on(root: Path, tmp_path: Path) -> None:
    """The client gives up on an `exec` whose command would run for ten minutes: the command's process
    group gets SIGINT, as from a terminal, and the server still answers."""
    subprocess.run([*SERVER[:-1], "new", "c", "--repos", "alpha"], cwd=root, check=True, capture_output=True)
    pid_file = tmp_path / "pid"
    long_run = ["sh", "-c", f'echo $$ > "{pid_file}.tmp" && mv "{pid_file}.tmp" "{pid_file}" && exec sleep 600']
    seen: dict[str, Any] = {}

    async def session(client: ClientSession) -> None:
        async with anyio.create_task_group() as group:

            async def give_up() -> None:
                with anyio.fail_after(TIMEOUT):
                    while not pid_file.exists():
                        await anyio.sleep(0.05)
                group.cancel_scope.cancel()

            group.start_soon(give_up)
            seen["finished"] = await call(client, "builders_exec", name="c", command=long_run)  # cancelled
        pid = int(pid_file.read_text())
        with anyio.fail_after(TIMEOUT):
            while alive(pid):
                await anyio.sleep(0.05)
        seen["list"] = result("list", await call(client, "builders_list"))

    assert serve(root, session) == []
    assert "finished" not in seen
    assert [b["name"] for b in seen["list"]["builders"]] == ["c"]


def alive(pid: int) -> bool:
    """Running (a zombie no parent has reaped yet has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_outside_a_workspace_it_does_not_start(tmp_path: Path) -> None:
    done = subprocess.run(
        SERVER, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and "\nhint: " in done.stderr


def test_without_the_mcp_extra_it_says_how_to_install_it(root: Path, tmp_path: Path) -> None:
    shadow = tmp_path / "no-mcp"  # a folder first on the path where `import mcp` fails as if it were not installed
    (shadow / "mcp").mkdir(parents=True)
    (shadow / "mcp/__init__.py").write_text('raise ModuleNotFoundError("No module named \'mcp\'", name="mcp")\n')
    env = {**os.environ, "PYTHONPATH": str(shadow)}
    done = subprocess.run(
        SERVER, cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "error: builders mcp needs the MCP SDK" in done.stderr
    assert "hint: pip install 'workspace-builders[mcp]'" in done.stderr


def test_the_readme_registrations_start_this_server() -> None:
    readme = (SCHEMAS.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### MCP server: `builders mcp`") : readme.index("## Configuration")]
    claude, opencode = (json.loads(block.split("```")[0]) for block in section.split("```json\n")[1:])
    server = claude["mcpServers"]["builders"]
    assert [server["command"], *server["args"]] == ["builders", "mcp"]
    assert opencode["mcp"]["builders"]["type"] == "local"
    assert opencode["mcp"]["builders"]["command"] == ["builders", "mcp"]
    assert Path(SERVER[0]).name == "builders" and SERVER[1:] == ["mcp"]  # what the other tests start
