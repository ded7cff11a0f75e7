"""`builders hooks install|uninstall`: the commands; what they do is in hooks_install, which scaffold uses too."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.cli import Command, start_dir
from workspace_builders.hooks_install import install, uninstall


class Install(Command):
    DESCRIPTION = "install the hooks; a hook already there is kept as HOOK.legacy and still runs"

    force = cli.Flag("--force", help="when core.hooksPath is set, install into the folder it names")
    dry_run = cli.Flag("--dry-run", help="print what would be done and change nothing")

    def main(self) -> int:
        return install(start_dir(), self.force, self.dry_run)


class Uninstall(Command):
    DESCRIPTION = "remove only our hooks and put back the ones they replaced"

    dry_run = cli.Flag("--dry-run", help="print what would be done and change nothing")

    def main(self) -> int:
        return uninstall(start_dir(), self.dry_run)
