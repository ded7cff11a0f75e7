"""Builder state files: `<root common dir>/builders/state/<name>.json`, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders import __version__
from workspace_builders.errors import BuildersError
from workspace_builders.workspace import Workspace

CREATING = "creating"
READY = "ready"
SETUP_FAILED = "setup-failed"
REMOVING = "removing"


@dataclass
class RepoState:
    name: str
    path: str
    branch: str
    base_ref: str
    base_commit: str


@dataclass
class BuilderState:
    name: str
    path: str
    branch: str
    base_ref: str
    base_commit: str
    status: str = CREATING
    created_at: str = field(default_factory=lambda: now())
    created_by: str = f"workspace-builders {__version__}"
    repos: list[RepoState] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)

    def repo(self, name: str) -> RepoState | None:
        return next((r for r in self.repos if r.name == name), None)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "state" / f"{name}.json"


def load(ws: Workspace, name: str) -> BuilderState | None:
    path = state_file(ws, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        repos = [RepoState(**r) for r in data.pop("repos", [])]
        return BuilderState(**data, repos=repos)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise BuildersError(
            f"state file {path} is unreadable: {exc}",
            f"move it aside (mv {path} {path}.bad), then run: builders verify",
        ) from None


def save(ws: Workspace, builder: BuilderState) -> None:
    """Write atomically: a temp file in the same folder, fsync, rename over, fsync the folder."""
    path = state_file(ws, builder.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{builder.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(builder.to_json(), out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def delete(ws: Workspace, name: str) -> None:
    state_file(ws, name).unlink(missing_ok=True)
