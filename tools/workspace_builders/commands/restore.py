"""`builders restore NAME`: a removed builder back, from its kept branches and its archive refs."""

from __future__ import annotations

from plumbum import cli

from workspace_builders.commands.base import WithDryRunAndJson
from workspace_builders.engine import restore


class Restore(WithDryRunAndJson):
    DESCRIPTION = "bring a removed builder back: its branches, and its archived work as uncommitted changes"

    at = cli.SwitchAttr("--at", str, help="which removal: its time (list --removed) or its archive stamp")

    def main(self, name: str) -> int:
        return restore.restore(self.location().workspace, name, self.at, self.dry_run, self.as_json)
