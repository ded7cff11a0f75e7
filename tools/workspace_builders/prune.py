"""The prune tool on its own: `python -m workspace_builders.prune`."""

import sys

from workspace_builders.cli import run_tool
from workspace_builders.commands.prune import Prune

if __name__ == "__main__":
    sys.exit(run_tool(Prune, "python -m workspace_builders.prune"))
