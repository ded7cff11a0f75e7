"""Sparse presets: the folders of a repo that its worktrees check out (git's cone mode).

A repo's preset comes from `repos.<name>.sparse` in workspaces.yaml, or from `new --sparse
NAME=DIR,DIR` for one builder. In cone mode the files at the top of the repo are always there; each
folder named brings everything under it. The folders reach git through stdin, one a line, so no
folder is ever read as an option.
"""

from __future__ import annotations

from collections.abc import Sequence

from workspace_builders.base import interface
from workspace_builders.base.errors import bad_input

Dirs = tuple[str, ...]


def folder_problem(folder: str) -> str | None:
    """Why `folder` cannot be a folder of a cone-mode sparse checkout; None when it can."""
    if not folder.strip("/"):
        return "is empty"
    if folder.startswith("/"):
        return "is absolute: name a folder relative to the top of the repo"
    if any(c in folder for c in "\n\r\0\\*?[]!"):
        return "holds a character a cone-mode folder cannot (newline, backslash, *, ?, [, ], !)"
    parts = folder.strip("/").split("/")
    if any(part in ("", ".", "..", ".git") for part in parts):
        return "has an empty, '.', '..' or '.git' part"
    return None


def folders(values: Sequence[str], where: str) -> Dirs:
    """The folders, checked and without trailing slashes; `where` names them in an error."""
    checked: list[str] = []
    for value in values:
        problem = folder_problem(value)
        if problem:
            raise bad_input(
                f"{where}: sparse folder {value!r} {problem}",
                "list folders of the repo, relative to its top, e.g. sparse: [services/api, libs/core]",
            )
        checked.append(value.strip("/"))
    return tuple(dict.fromkeys(checked))


def parse_overrides(values: Sequence[str]) -> dict[str, Dirs]:
    """`--sparse big=dir1,dir2` (the switch may be given once per repo) -> {"big": ("dir1", "dir2")}."""
    found: dict[str, Dirs] = {}
    for value in values:
        repo, equals, listed = value.partition("=")
        repo = repo.strip()
        switch = interface.called("--sparse", "SPARSE")  # through make or task, the variable was typed
        if not equals or not repo:
            raise bad_input(
                f"{switch} {value!r} names no repo",
                f"write it as {interface.option('--sparse', 'SPARSE', 'REPO=DIR[,DIR...]')}, "
                f"e.g. {interface.option('--sparse', 'SPARSE', 'big=services/api,libs/core')}",
            )
        if repo in found:
            raise bad_input(
                f"{switch} names {repo!r} twice",
                f"give all its folders at once: {interface.option('--sparse', 'SPARSE', f'{repo}=A,B')}",
            )
        found[repo] = folders([f for f in listed.split(",") if f.strip()] or [""], f"{switch} {repo}")
    return found


def shown(dirs: Sequence[str] | None) -> str:
    """How a repo's preset reads in a table: `sparse: a, b`, or the empty string for a full checkout."""
    if dirs is None:
        return ""
    return "sparse: " + (", ".join(dirs) if dirs else "top-level files only")
