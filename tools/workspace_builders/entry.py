"""The `builders` console script: SIGINT and SIGTERM are handled from its first moment, before the
command line's imports (plumbum's take tens of milliseconds), then cli.main runs the command."""

from __future__ import annotations

from workspace_builders.base import interrupts


def main() -> int:
    interrupts.install()
    try:
        from workspace_builders.cli import main as run_command
    except (KeyboardInterrupt, interrupts.Terminated) as exc:
        from workspace_builders.base import output

        output.error("interrupted", "run the same command again: nothing was changed yet")
        return interrupts.exit_code(exc)
    return run_command()
