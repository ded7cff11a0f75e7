"""Our entries in the agent runtimes' JSON settings of a workspace root, merged in and taken out.

Claude Code: the WorktreeCreate/WorktreeRemove hooks in `.claude/settings.json` (so `claude --worktree
NAME` makes a whole builder) and the MCP server in `.mcp.json`. OpenCode: the MCP server in
`opencode.json`. Every other key, hook and server stays as it is; a file that is not a JSON object is
refused with its line, before any file is written; running twice changes nothing the second time.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workspace_builders.base import atomic_file, output
from workspace_builders.base.errors import bad_input
from workspace_builders.gitlayer import git

CLAUDE_SETTINGS = ".claude/settings.json"
CLAUDE_MCP = ".mcp.json"
OPENCODE_CONFIG = "opencode.json"
HOOKS = {
    "WorktreeCreate": "builders hook worktree-create",
    "WorktreeRemove": "builders hook worktree-remove",
}
SERVER = "builders"
CLAUDE_SERVER = {"command": "builders", "args": ["mcp"]}
OPENCODE_SERVER = {"type": "local", "command": ["builders", "mcp"]}

Document = dict[str, Any]


@dataclass
class Change:
    path: Path
    relative: str
    before: Document | None  # None: the file is not there
    after: Document
    indent: int
    notes: list[str]

    @property
    def changed(self) -> bool:
        return self.after != (self.before or {})


# --- reading and writing -------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> Document:
    keys = [key for key, _ in pairs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise ValueError(f"the key {twice[0]!r} is there twice; one would be lost")
    return dict(pairs)


def read(root: Path, relative: str, retry: str) -> tuple[Document | None, int]:
    """The JSON object in `root/relative` (None when there is none) and the indent it uses."""
    path = root / relative
    hint = f"fix {path} by hand (it must hold one JSON object), then run again: {retry}"
    if path.is_symlink() or (os.path.lexists(path) and not path.is_file()):
        raise bad_input(f"{path} is not a plain file: it is left as it is", f"add our entries to it by hand: {retry}")
    if not path.exists():
        return None, 2
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise bad_input(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); nothing was changed", hint
        ) from None
    except ValueError as exc:
        raise bad_input(f"{path}: {exc}; nothing was changed", hint) from None
    if not isinstance(document, dict):
        raise bad_input(f"{path}:1: holds JSON {type(document).__name__}, not an object; nothing was changed", hint)
    found = re.search(r"\n( +)\S", text)
    return document, len(found.group(1)) if found else 2


def write(change: Change) -> None:
    text = json.dumps(change.after, indent=change.indent, ensure_ascii=False) + "\n"
    mode = change.path.stat().st_mode & 0o777 if change.path.exists() else 0o644
    atomic_file.write(change.path, text.encode("utf-8", "surrogateescape"), mode=mode)


def _object_at(document: Document, key: str, path: Path) -> Document:
    """`document[key]`, made an empty object when missing; refused when it is something else."""
    value = document.setdefault(key, {})
    if not isinstance(value, dict):
        raise bad_input(f"{path}: {key!r} is not a JSON object; nothing was changed", f"fix {path} by hand")
    return value


def _list_at(document: Document, key: str, path: Path) -> list[Any]:
    value = document.setdefault(key, [])
    if not isinstance(value, list):
        raise bad_input(f"{path}: 'hooks.{key}' is not a JSON array; nothing was changed", f"fix {path} by hand")
    return value


# --- Claude Code's hooks -------------------------------------------------------------------------


def _ours(hook: Any, command: str) -> bool:
    return isinstance(hook, dict) and hook.get("type") == "command" and hook.get("command") == command


def _entry_has(entry: Any, command: str) -> bool:
    hooks = entry.get("hooks") if isinstance(entry, dict) else None
    return isinstance(hooks, list) and any(_ours(h, command) for h in hooks)


def add_hooks(document: Document, path: Path) -> Document:
    after = copy.deepcopy(document)
    hooks = _object_at(after, "hooks", path)
    for event, command in HOOKS.items():
        entries = _list_at(hooks, event, path)
        if not any(_entry_has(entry, command) for entry in entries):
            entries.append({"hooks": [{"type": "command", "command": command}]})
    return after


def take_hooks_out(document: Document) -> Document:
    after = copy.deepcopy(document)
    hooks = after.get("hooks")
    if not isinstance(hooks, dict):
        return after
    for event, command in HOOKS.items():
        entries = hooks.get(event)
        if not isinstance(entries, list) or not any(_entry_has(e, command) for e in entries):
            continue
        kept = []
        for entry in entries:
            if _entry_has(entry, command):
                entry["hooks"] = [h for h in entry["hooks"] if not _ours(h, command)]
                if not entry["hooks"]:
                    continue  # the entry held only ours
            kept.append(entry)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks and document.get("hooks"):
        del after["hooks"]
    return after


# --- MCP registrations ---------------------------------------------------------------------------


def _is_ours(found: Any, entry: Document) -> bool:
    """`found` registers our server as `entry` does, maybe in the longer form the runtime's own
    command writes (`claude mcp add` adds `"type": "stdio"` and an empty `env`)."""
    if not isinstance(found, dict):
        return False
    plain = {k: v for k, v in found.items() if not (k == "env" and v == {})}
    if plain.get("type") == "stdio" and "type" not in entry:
        del plain["type"]
    return plain == entry


def add_server(document: Document, key: str, entry: Document, path: Path, notes: list[str]) -> Document:
    after = copy.deepcopy(document)
    servers = _object_at(after, key, path)
    if SERVER in servers and not _is_ours(servers[SERVER], entry):
        notes.append(f"kept the server named {SERVER!r} already in {path} (not ours: left as it is)")
    elif SERVER not in servers:
        servers[SERVER] = copy.deepcopy(entry)
    return after


def take_server_out(document: Document, key: str, entry: Document) -> Document:
    after = copy.deepcopy(document)
    servers = after.get(key)
    if isinstance(servers, dict) and _is_ours(servers.get(SERVER), entry):
        del servers[SERVER]
        if not servers:
            del after[key]
    return after


# --- the whole runs ------------------------------------------------------------------------------


def plan(root: Path, claude: bool, opencode: bool, installing: bool) -> list[Change]:
    """Every file's change, read and checked before any is written."""
    retry = output.command(
        "builders",
        "hooks",
        "install" if installing else "uninstall",
        *["--claude"] * claude,
        *["--opencode"] * opencode,
    )
    wanted: list[tuple[str, str | None, Document | None]] = []  # file, MCP key (None: hooks), server entry
    if claude:
        wanted += [(CLAUDE_SETTINGS, None, None), (CLAUDE_MCP, "mcpServers", CLAUDE_SERVER)]
    if opencode:
        if (root / "opencode.jsonc").exists() and not (root / OPENCODE_CONFIG).exists():
            raise bad_input(
                f"{root}/opencode.jsonc is OpenCode's config here (JSON with comments, which this does not rewrite)",
                f'add to its "mcp" object by hand: "{SERVER}": {json.dumps(OPENCODE_SERVER)}',
            )
        wanted.append((OPENCODE_CONFIG, "mcp", OPENCODE_SERVER))
    changes = []
    for relative, key, entry in wanted:
        path = root / relative
        before, indent = read(root, relative, retry)
        notes: list[str] = []
        current = before or {}
        if key is None:
            after = add_hooks(current, path) if installing else take_hooks_out(current)
        elif entry is not None:
            after = add_server(current, key, entry, path, notes) if installing else take_server_out(current, key, entry)
        changes.append(Change(path, relative, before, after, indent, notes))
    return changes


def apply(root: Path, changes: list[Change], dry_run: bool, installing: bool) -> int:
    written = []
    for change in changes:
        for note in change.notes:
            output.say(note)
        if not change.changed or (change.before is None and not installing):
            output.say(f"{change.relative}: {'already has ours' if installing else 'none of ours in it'}")
            continue
        verb = (
            ("would add ours to" if dry_run else "added ours to")
            if installing
            else ("would take ours out of" if dry_run else "took ours out of")
        )
        if dry_run:
            pass
        elif change.after or installing:
            write(change)
        else:  # it held only ours: nothing of anyone else's goes with it
            change.path.unlink()
        written.append(change.relative)
        output.say(f"{change.relative}: {verb} {change.path}")
    # A file taken away that git never had is nothing to commit (and `git add` of it would fail).
    tracked = git.tracked_of(root, written) if written and not dry_run else set()
    to_commit = [f for f in written if (root / f).exists() or f in tracked]
    if to_commit and not dry_run:
        add = output.command("git", "-C", root, "add", "-A", "--", *to_commit)
        message = "workspace-builders for agent runtimes"
        commit = output.command("git", "-C", root, "commit", "-m", message, "--", *to_commit)
        them = "them" if len(to_commit) > 1 else "it"
        output.say(f"next: commit {them}, so every builder and clone of the root has {them}: {add} && {commit}")
    return 0
