"""`builders mcp`: the commands an agent runtime needs, as the tools of an MCP server over stdio.

Each tool call runs the command itself (`python -m workspace_builders CMD ... --json`) as a child
process, in the folder the server started in: the child's stdout is a pipe of its own, so nothing a
command or a script it runs prints can reach the protocol stream; its stderr lines (the progress
lines, one per repo) become MCP progress notifications; the result is the JSON document the command
printed, and a failure is a tool error whose text is a JSON object with `error` and `hint`
(schemas/error.schema.json). A call the client cancels sends SIGINT to its command's process group,
as Ctrl-C in a terminal would (the command's guarantees on an interruption hold), and SIGKILL if it
is still running a minute later.

The MCP SDK is an optional extra, imported only when the server starts; this module keeps
`from __future__ import annotations` out, so that the SDK reads the tools' signatures (made where
its names are bound) as the JSON schemas of their arguments.
"""

import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workspace_builders import __version__
from workspace_builders.base import output
from workspace_builders.base.errors import bad_input
from workspace_builders.commands.base import Command, start_dir
from workspace_builders.gitlayer import processes
from workspace_builders.model.workspace import Location

INSTALL_HINT = "pip install 'workspace-builders[mcp]'"
STOP_WAIT = 60.0  # seconds a cancelled command gets to roll back before it is killed
OUTPUT_TAIL = 40  # stderr lines a tool error carries


def serve(location: Location, start: Path) -> int:
    try:
        import mcp.server.mcpserver  # noqa: F401  (present, or the hint to install it)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in {"mcp", "mcp_types"}:
            raise
        message = "builders mcp needs the MCP SDK (the mcp package), which is not installed"
        raise bad_input(message, INSTALL_HINT) from None
    root = location.workspace.root
    _server(start, root).run("stdio")
    return 0


def _arguments(**values: Any) -> list[str]:
    """Switches as the CLI takes them: `--key=value` (a value can never be read as a switch), a flag
    when true, nothing when unset; `repos` a list or a comma-separated string."""
    argv: list[str] = []
    for key, value in values.items():
        switch = "--" + key.replace("_", "-")
        if value is True:
            argv.append(switch)
        elif isinstance(value, list):
            if value:
                argv.append(f"{switch}={','.join(str(v) for v in value)}")
        elif value not in (None, False, ""):
            argv.append(f"{switch}={value}")
    return argv


def _failure(message: str, hint: str, exit_code: int, **more: Any) -> str:
    """A tool error's text (schemas/error.schema.json)."""
    document = {"version": output.JSON_VERSION, "error": message, "hint": hint, "exit_code": exit_code, **more}
    return json.dumps(document, indent=2)


def _error_of(lines: Sequence[str], argv: Sequence[str], code: int) -> tuple[str, str]:
    """The command's own `error:` and `hint:` lines (the first error, and the hint after it)."""
    for at, line in enumerate(lines):
        if line.startswith("error: "):
            hint = next((h[6:] for h in lines[at + 1 :] if h.startswith("hint: ")), "")
            return line[7:], hint or f"see the output lines; try by hand: {output.command('builders', *argv)}"
    return (
        f"{output.command('builders', *argv)} exited with {code}",
        "see the output lines and the document, when there is one",
    )


def _server(start: Path, root: Path) -> Any:
    import anyio
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
    from mcp.types import CallToolResult, TextContent, ToolAnnotations

    def folder() -> Path:
        """Where commands start: the server's folder, or the root once that was removed (a builder)."""
        return start if start.is_dir() else root

    Ctx = Context[Any, Any]

    def tool_error(text: str) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

    async def run(ctx: Ctx, words: list[str], name: str | None = None, tail: Sequence[str] = ()) -> CallToolResult:
        """`builders WORDS [NAME] [TAIL]`; a NAME that starts with `-` would be read as a switch (and no
        builder name does)."""
        if name is not None and name.startswith("-"):
            return tool_error(
                _failure(f"not a builder name: {name!r}", "a builder name starts with a letter or a digit", 2)
            )
        argv = [*words, *([] if name is None else [name]), *tail]
        command = [sys.executable, "-m", "workspace_builders", *argv]
        child = processes.start(
            command,
            str(folder()),
            dict(os.environ),
            stdin=processes.DEVNULL,
            stdout=processes.PIPE,
            stderr=processes.PIPE,
        )
        assert child.stdout is not None and child.stderr is not None
        stdout, stderr = child.stdout, child.stderr
        lines: list[str] = []
        out = bytearray()

        async def progress() -> None:
            while raw := await anyio.to_thread.run_sync(stderr.readline, abandon_on_cancel=True):
                lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                # Best effort: a client that is gone gets no progress, and the command still finishes.
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await ctx.report_progress(len(lines), None, lines[-1])

        async def document() -> None:
            out.extend(await anyio.to_thread.run_sync(stdout.read, abandon_on_cancel=True))

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(progress)
                group.start_soon(document)
            code = await anyio.to_thread.run_sync(child.wait, abandon_on_cancel=True)
        except BaseException:  # cancelled (or the server is stopping): the command stops as on Ctrl-C
            with anyio.CancelScope(shield=True):
                await _stop(child)
            raise  # the pipes are left to the threads still reading them: closing one would wait on them
        stdout.close()
        stderr.close()
        text = out.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        if code == 0 and isinstance(parsed, dict):
            return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=parsed)
        if code == 0:
            message = f"builders {' '.join(argv)} printed no JSON document"
            return tool_error(
                _failure(message, "report it: a bug in workspace-builders", 3, output=lines[-OUTPUT_TAIL:])
            )
        error, hint = _error_of(lines, argv, code)
        more: dict[str, Any] = {"output": lines[-OUTPUT_TAIL:]}
        if isinstance(parsed, dict):
            more["document"] = parsed
        return tool_error(_failure(error, hint, code, **more))

    async def _stop(child: Any) -> None:
        """SIGINT to the command's process group, as a terminal's Ctrl-C; SIGKILL if it outlives STOP_WAIT."""
        for sig in (signal.SIGINT, signal.SIGKILL):
            if child.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)
            with anyio.move_on_after(STOP_WAIT):
                while child.poll() is None:
                    await anyio.sleep(0.05)

    class Server(MCPServer[Any]):
        """Every failure a tool error whose text carries `error` and `hint`: also the SDK's own (an
        unknown tool, arguments that do not match a tool's schema)."""

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            try:
                return await super().call_tool(name, arguments, context)
            except UnexpectedToolError as exc:  # the SDK logged the traceback on stderr
                return tool_error(
                    _failure(f"{exc} (a bug in workspace-builders)", "report it, with the server's stderr", 3)
                )
            except ToolError as exc:  # an unknown tool, or arguments that do not match its schema
                tools = {t.name: t for t in await self.list_tools()}
                if name not in tools:
                    return tool_error(_failure(f"no tool {name!r}", f"the tools: {', '.join(tools)}", 2))
                fields: list[dict[str, Any]] = getattr(exc.__cause__, "errors", lambda: [])()
                wrong = sorted({str(e["loc"][0]) for e in fields if e.get("loc")}) or ["?"]
                schema = tools[name].input_schema
                takes = ", ".join(
                    f"{key}{'' if key in schema.get('required', []) else '?'}" for key in schema.get("properties", {})
                )
                message = f"{name}: bad value for {', '.join(wrong)}"
                return tool_error(_failure(message, f"{name} takes ({takes}); see its input schema", 2))

    server = Server(
        "builders",
        version=__version__,
        instructions=(
            "Tools over the workspace-builders commands of the workspace this server runs in: each result "
            "is the command's --json document (schemas/ in workspace-builders); a failure is a tool error "
            "whose text is JSON with error and hint (the command that fixes it)."
        ),
    )
    reading = ToolAnnotations(read_only_hint=True)

    @server.tool(annotations=ToolAnnotations(destructive_hint=False))
    async def builders_new(
        name: str, ctx: Ctx, repos: list[str] | str | None = None, base: str | None = None, dry_run: bool = False
    ) -> CallToolResult:
        """Make a builder NAME: a worktree of the workspace root in the sibling builders folder, on its own
        branch, with a worktree of each repo in `repos` (names, or name:base; a list or a comma string).
        Re-running after a crash completes it. Result: the `builders new --json` document."""
        return await run(ctx, ["new", "--json", *_arguments(repos=repos, base=base, dry_run=dry_run)], name)

    @server.tool(annotations=reading)
    async def builders_list(ctx: Ctx, fast: bool = False, removed: bool = False) -> CallToolResult:
        """Every builder: branch, repos, dirty, ahead/behind its base, status (`fast` skips the per-worktree
        status); `removed` lists removed builders instead. Result: the `builders list --json` document."""
        return await run(ctx, ["list", "--json", *_arguments(fast=fast, removed=removed)])

    @server.tool(annotations=reading)
    async def builders_status(ctx: Ctx, name: str | None = None) -> CallToolResult:
        """Each worktree of builder NAME (default: the one the server runs in) against its base as it is now:
        ahead/behind, changed and untracked files, last commit, diffstat. Result: `builders status --json`."""
        return await run(ctx, ["status", "--json"], name)

    @server.tool()
    async def builders_sync(
        ctx: Ctx, name: str | None = None, fetch: bool = False, merge: bool = False, dry_run: bool = False
    ) -> CallToolResult:
        """Rebase (or `merge`) every worktree of builder NAME onto its base's tip: all repos or none.
        Result: the `builders sync --json` document."""
        return await run(ctx, ["sync", "--json", *_arguments(fetch=fetch, merge=merge, dry_run=dry_run)], name)

    @server.tool()
    async def builders_land(
        ctx: Ctx,
        name: str | None = None,
        squash: bool = False,
        message: str | None = None,
        push: bool = False,
        remove: bool = False,
        dry_run: bool = False,
    ) -> CallToolResult:
        """Land builder NAME: rebase each worktree with commits onto its base, run scripts.pre_land, then
        fast-forward every base: all repos or none (`squash` needs `message`; then `push`, `remove`).
        Result: the `builders land --json` document."""
        switches = _arguments(squash=squash, message=message, push=push, remove=remove, dry_run=dry_run)
        return await run(ctx, ["land", "--json", *switches], name)

    @server.tool(annotations=ToolAnnotations(destructive_hint=True))
    async def builders_remove(
        name: str, ctx: Ctx, force: bool = False, keep_branches: bool = False, dry_run: bool = False
    ) -> CallToolResult:
        """Remove builder NAME and its repo worktrees; refuses (and changes nothing) when work would be lost,
        unless `force`, which archives that work first (`builders restore` brings it back).
        Result: the `builders remove --json` document."""
        switches = _arguments(force=force, keep_branches=keep_branches, dry_run=dry_run)
        return await run(ctx, ["remove", "--json", *switches], name)

    @server.tool(annotations=reading)
    async def builders_path(name: str, ctx: Ctx) -> CallToolResult:
        """Where builder NAME is. Result: the `builders path --json` document."""
        return await run(ctx, ["path", "--json"], name)

    @server.tool()
    async def builders_exec(
        command: list[str],
        ctx: Ctx,
        name: str | None = None,
        repos: list[str] | str | None = None,
        root: bool = False,
        jobs: int | None = None,
    ) -> CallToolResult:
        """Run `command` (an argv, never a shell string) in each repo worktree of builder NAME (`repos`: some;
        `root`: the builder itself too), with the builder's environment. Result: `builders exec --json`."""
        switches = _arguments(repos=repos, root=root, jobs=jobs)
        return await run(ctx, ["exec", "--json", *switches], name, ["--", *command])

    return server


class Mcp(Command):
    DESCRIPTION = "serve the builders commands as MCP tools over stdio (needs the [mcp] extra)"

    def main(self) -> int:
        return serve(self.location(), start_dir())  # refuses to start outside a workspace, as every command does
