"""Removal records: `<admin>/removed/<name>.<UTC time>.json`, one per removal, never overwritten.

A record is written before a removal deletes anything (`complete: false`, with every archive ref it
made), so a removal killed half-way is found by `builders list --removed` and `builders restore`, and
the re-run that completes it finishes the same record.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders.base import atomic_file
from workspace_builders.model.workspace import Workspace


def begin(ws: Workspace, name: str, document: dict[str, object]) -> Path:
    """Write `document` as a new record file of its own, however many removals of `name` happen in
    the same second: complete content under a temporary name, then a hard link that fails rather
    than replace another record."""
    folder = removed_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S.%fZ")
    temp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.new"
    atomic_file.write(temp, _bytes(document))
    try:
        for attempt in range(1000):
            path = folder / f"{name}.{when}{f'-{attempt}' if attempt else ''}.json"
            try:
                os.link(temp, path)
                return path
            except FileExistsError:
                continue
        raise FileExistsError(f"no free removal record name for {name} in {folder}")
    finally:
        temp.unlink(missing_ok=True)


def _bytes(document: dict[str, object]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


def write(path: Path, document: dict[str, object]) -> None:
    atomic_file.write(path, _bytes(document))


def pending(ws: Workspace, name: str) -> tuple[Path, dict[str, object]] | None:
    """The record of an unfinished removal of `name` (its run was stopped), if any."""
    folder = removed_dir(ws)
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"{name}.*.json"), reverse=True):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and document.get("name") == name and document.get("complete") is False:
            return path, document
    return None


def removed_dir(ws: Workspace) -> Path:
    return ws.admin_dir / "removed"


def removals(ws: Workspace) -> list[dict[str, object]]:
    folder = removed_dir(ws)
    if not folder.is_dir():
        return []
    return [_removal(p) for p in sorted(folder.glob("*.json"))]


_REMOVAL_KEYS = ("name", "removed_at", "archive_refs", "kept_branches")


def _removal(path: Path) -> dict[str, object]:
    document: dict[str, object] = atomic_file.read_json(path, "removal record", then="builders list --removed")
    problem = "" if isinstance(document, dict) else "not a JSON object"
    if isinstance(document, dict) and not all(key in document for key in _REMOVAL_KEYS):
        problem = f"it lacks one of {', '.join(_REMOVAL_KEYS)}"
    if problem:
        raise atomic_file.unreadable(path, "removal record", problem, then="builders list --removed")
    return document
