"""`builders hooks install|uninstall`: the commands; the git hooks are in hooks_install (scaffold uses it
too), the agent runtimes' settings in agent_settings."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError
from workspace_builders.commands.base import Command
from workspace_builders.engine import agent_settings
from workspace_builders.engine.hooks_install import install, uninstall


class Install(Command):
    DESCRIPTION = "install the hooks; a hook already there is kept as HOOK.legacy and still runs"

    force = cli.Flag("--force", help="when core.hooksPath is set, install into the folder it names")
    dry_run = cli.Flag("--dry-run", help="print what would be done and change nothing")

    claude = cli.Flag("--claude", help="also Claude Code's worktree hooks (.claude/settings.json) and MCP (.mcp.json)")
    opencode = cli.Flag("--opencode", help="also the MCP server in OpenCode's opencode.json")

    def main(self) -> int:
        ws = self.location().workspace
        root = ws.root
        changes = agent_settings.plan(root, self.claude, self.opencode, installing=True)  # checked before any write
        try:
            code = install(ws, self.force, self.dry_run)
        except BuildersError as exc:
            if not changes:
                raise
            # The agent settings do not depend on the git hooks: they are still written, as scaffold does.
            output.error(f"git hooks not installed: {exc.message}", exc.hint)
            code = 1
        return agent_settings.apply(root, changes, self.dry_run, installing=True) or code


class Uninstall(Command):
    DESCRIPTION = "remove only our hooks and put back the ones they replaced"

    dry_run = cli.Flag("--dry-run", help="print what would be done and change nothing")

    claude = cli.Flag("--claude", help="also take ours out of .claude/settings.json and .mcp.json")
    opencode = cli.Flag("--opencode", help="also take ours out of opencode.json")

    def main(self) -> int:
        ws = self.location().workspace
        changes = agent_settings.plan(ws.root, self.claude, self.opencode, installing=False)
        code = uninstall(ws, self.dry_run)
        return agent_settings.apply(ws.root, changes, self.dry_run, installing=False) or code
