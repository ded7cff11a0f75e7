"""Per-session sibling worktrees of a multi-repo workspace."""

__version__ = "0.1.0"
