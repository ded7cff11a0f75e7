"""The builder_init tool on its own: `python -m workspace_builders.builder_init`."""

import sys

from workspace_builders.cli import run_tool
from workspace_builders.commands.builder_init import Init

if __name__ == "__main__":
    sys.exit(run_tool(Init, "python -m workspace_builders.builder_init"))
