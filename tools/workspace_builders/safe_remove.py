"""The safe_remove tool on its own: `python -m workspace_builders.safe_remove`."""

import sys

from workspace_builders.cli import run_tool
from workspace_builders.commands.safe_remove import Remove

if __name__ == "__main__":
    sys.exit(run_tool(Remove, "python -m workspace_builders.safe_remove"))
