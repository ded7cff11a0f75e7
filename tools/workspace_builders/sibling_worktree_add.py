"""The sibling_worktree_add tool on its own: `python -m workspace_builders.sibling_worktree_add`."""

import sys

from workspace_builders.cli import run_tool
from workspace_builders.commands.sibling_worktree_add import Add

if __name__ == "__main__":
    sys.exit(run_tool(Add, "python -m workspace_builders.sibling_worktree_add"))
