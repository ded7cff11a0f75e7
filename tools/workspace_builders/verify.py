"""The verify tool on its own: `python -m workspace_builders.verify`."""

import sys

from workspace_builders.cli import run_tool
from workspace_builders.commands.verify import Verify

if __name__ == "__main__":
    sys.exit(run_tool(Verify, "python -m workspace_builders.verify"))
