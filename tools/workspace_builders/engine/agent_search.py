"""What agents' search tools see in a worktree of the root: repos/ too, while git ignores it.

Search tools built on ripgrep (OpenCode's find and grep, Claude Code's Grep and Glob, editors)
read `.ignore` and `.rgignore` over `.gitignore`, in that order of strength. The scaffolded `.ignore`
re-includes `/repos/`, so the repo worktrees of a builder are found there; inside each repo its
own `.gitignore` still hides its `node_modules/` and build output.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from workspace_builders.model.workspace import REPOS

IGNORE = ".ignore"
SEARCH_IGNORE_FILES = (IGNORE, ".rgignore")  # weakest first: a later file's rule wins
RULE = f"!/{REPOS}/"


def shows_repos(texts: list[str | None]) -> bool:
    """Whether ignore files of these texts (weakest first; None: no such file) re-include repos/."""
    import pathspec  # only the checks that need it pay for the import

    lines = [line for text in texts if text for line in text.splitlines()]
    found = pathspec.GitIgnoreSpec.from_lines(lines).check_file(f"{REPOS}/")
    return found.include is False  # False: the last rule to match repos/ is a negation


def shows_repos_in(folder: Path) -> bool:
    """The same, for the files on disk at the top of a worktree (what ripgrep reads there)."""
    texts = []
    for name in SEARCH_IGNORE_FILES:
        path = folder / name
        texts.append(path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None)
    return shows_repos(texts)


def fix_command(root: Path) -> str:
    return (
        f"printf '%s\\n' '{RULE}' >> {shlex.quote(str(root / IGNORE))} && git -C {shlex.quote(str(root))} "
        f"add {IGNORE} && git -C {shlex.quote(str(root))} commit -m 'let search tools see {REPOS}/' {IGNORE}"
    )
