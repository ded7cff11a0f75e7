"""`builders hook worktree-create|worktree-remove`: what Claude Code's WorktreeCreate and WorktreeRemove
hooks run, in place of its own single-repo `git worktree add` and `git worktree remove`.

Each reads one JSON object on stdin. worktree-create makes a whole builder (the root's worktree, the
default repos, copy-in files, setup, ports) in the sibling builders folder and prints only its absolute
path on stdout, which is all Claude Code reads there; every other line goes to stderr. worktree-remove
removes the builder at the path it is given, with every guarantee of `builders remove`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

from workspace_builders.base import output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_ref, name_problem
from workspace_builders.commands.base import Command, start_dir
from workspace_builders.engine.create import create_builder
from workspace_builders.engine.removal import remove
from workspace_builders.model import state
from workspace_builders.model.workspace import Location, Workspace, discover

# The payload named the worktree differently across Claude Code versions: newest first.
NAME_KEYS = ("name", "worktree_name")
BASE_KEYS = ("source_ref", "base_commit")
MAX_NAME = 63
NO_BASE = "no base was given"  # how creation refuses a source with uncommitted changes
PAYLOAD_HINT = 'Claude Code sends it; by hand: echo \'{"name": "slack"}\' | builders hook '


# --- the payload ---------------------------------------------------------------------------------


def read_payload(hook: str) -> dict[str, Any]:
    """The one JSON object on stdin. Read until it is whole, not until end of file: a caller that
    keeps the pipe open must not hang the hook."""
    hint = PAYLOAD_HINT + hook
    if sys.stdin is None or sys.stdin.isatty():
        raise bad_input("no JSON object on stdin (it is a terminal)", hint)
    decoder = json.JSONDecoder()
    data = b""
    while True:
        chunk = os.read(sys.stdin.fileno(), 65536)
        data += chunk
        text = data.decode("utf-8", errors="replace").strip()
        if text:
            try:
                document, _ = decoder.raw_decode(text)
                break
            except json.JSONDecodeError as exc:
                if not chunk:
                    raise bad_input(f"stdin is not valid JSON: {exc}", hint) from None
        elif not chunk:
            raise bad_input("no JSON object on stdin (it is empty)", hint)
    if not isinstance(document, dict):
        raise bad_input(f"stdin holds JSON {type(document).__name__}, not an object", hint)
    return document


def _text_field(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_input(f"{key!r} in the JSON on stdin is not a string: {value!r}", "send it as a string")
    return value


def requested_name(payload: dict[str, Any]) -> str:
    """The name as the runtime gave it: `name`, `worktree_name`, the last part of `worktree_path`,
    else `session_id`."""
    for key in NAME_KEYS:
        value = _text_field(payload, key)
        if value is not None:
            return value
    path = _text_field(payload, "worktree_path")
    if path is not None:
        return Path(path).name or path
    session = _text_field(payload, "session_id")
    if session is not None:
        return session
    raise bad_input(
        "the JSON on stdin names no worktree (no name, worktree_name, worktree_path or session_id)",
        'send one, e.g. {"name": "slack"}',
    )


def builder_name(raw: str) -> str:
    """A valid builder name for `raw`, as a user would write it: `agent-a1b2` stays, `feat/auth`
    becomes `feat-auth`. A name that reads as a way out of the folder (`../x`) is refused."""
    if any(part in (".", "..") for part in re.split(r"[/\\]", raw)) or raw.startswith(("/", "\\", "~")):
        raise bad_input(
            f"invalid worktree name {raw!r}: it reads as a path, not a name",
            "name the worktree with letters, digits, '.', '_', '-', e.g. claude --worktree fix-login",
        )
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw)
    name = re.sub(r"\.{2,}", ".", name)
    name = name.lstrip("._-").rstrip(".-")
    if name.endswith(".lock"):
        name = name[: -len(".lock")] + "-lock"
    if len(name) > MAX_NAME:  # a short digest of the whole keeps two long names apart
        digest = hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        name = name[: MAX_NAME - 9].rstrip(".-") + "-" + digest
    problem = name_problem(name)
    if problem:
        raise bad_input(
            f"invalid worktree name {raw!r}: no builder name can be made of it ({problem})",
            "name the worktree with letters, digits, '.', '_', '-', e.g. claude --worktree fix-login",
        )
    return name


def workspace_folder(payload: dict[str, Any]) -> Path:
    """Where the runtime stands (`cwd`): the root, a clone or a builder, anywhere inside."""
    cwd = _text_field(payload, "cwd")
    if cwd is None:
        return start_dir()
    folder = Path(cwd)
    if not folder.is_absolute() or not folder.is_dir():
        raise bad_input(
            f"'cwd' in the JSON on stdin is not an existing absolute folder: {cwd!r}",
            "send the folder the session runs in, inside the workspace root or one of its builders",
        )
    return folder


@contextmanager
def stdout_kept_for_the_result() -> Iterator[None]:
    """Send everything written to stdout meanwhile (ours, git's, scripts') to stderr: the caller
    reads stdout as the result alone."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# --- the hooks -----------------------------------------------------------------------------------


def worktree_create(payload: dict[str, Any]) -> int:
    name = builder_name(requested_name(payload))
    base = next((b for b in (_text_field(payload, k) for k in BASE_KEYS) if b is not None), None)
    if base is not None:
        check_ref(base, "base (source_ref)")
    ws = discover(workspace_folder(payload)).workspace
    with stdout_kept_for_the_result():
        record = state.load(ws, name)
        if record is not None and record.status == state.READY and Path(record.path).is_dir():
            output.say(f"builder {name} is there already: {record.path}")
        else:
            try:
                create_builder(ws, name, None, base, dry_run=False, as_json=False)
            except BuildersError as exc:
                if NO_BASE in exc.message:  # the runtime has no --base to pass: say what the user can do
                    exc.hint = "commit or stash them, then start the session again (they are never copied)"
                raise
            record = state.load(ws, name)
    if record is None or record.status != state.READY:  # create_builder raises before this can be
        raise BuildersError(f"builder {name} was not made ready", f"see what is there: builders verify {name}")
    output.result(str(Path(record.path).resolve()))
    return 0


def worktree_remove(payload: dict[str, Any]) -> int:
    given = _text_field(payload, "worktree_path") or _text_field(payload, "path")
    if given is None:
        raise bad_input("the JSON on stdin has no worktree_path", 'send it, e.g. {"worktree_path": "/path/to/builder"}')
    path = Path(given)
    if not path.is_absolute() or not path.is_dir():
        raise bad_input(
            f"no builder at {given!r}: not an existing absolute folder", "pass the path worktree-create printed"
        )
    location = discover(path)
    ws = location.workspace
    name = _builder_at(ws, location.worktree, path)
    with stdout_kept_for_the_result():
        return remove(Location(ws, ws.root), name, force=False, keep_branches=False, dry_run=False, as_json=False)


def _builder_at(ws: Workspace, worktree: Path, path: Path) -> str:
    """The name of the builder whose top folder is `path`; bad input for anything else."""
    if worktree == path.resolve() and worktree != ws.root:
        for record in state.load_all(ws):
            if Path(record.path).resolve() == worktree:
                return record.name
        if worktree.parent == ws.builders_dir:  # in the builders folder, without state: remove judges it
            return worktree.name
    raise bad_input(
        f"{path} is not a builder of {ws.root}", f"see the builders there are: builders list  (in {ws.root})"
    )


class WorktreeCreate(Command):
    DESCRIPTION = "what Claude Code's WorktreeCreate hook runs: JSON on stdin, a whole builder made, its path on stdout"

    def main(self) -> int:
        return worktree_create(read_payload("worktree-create"))


class WorktreeRemove(Command):
    DESCRIPTION = "what Claude Code's WorktreeRemove hook runs: removes the builder at worktree_path, as remove does"

    def main(self) -> int:
        return worktree_remove(read_payload("worktree-remove"))
