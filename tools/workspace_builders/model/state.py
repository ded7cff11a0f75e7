"""Builder state files: `<root common dir>/builders/state/<name>.json`, written atomically."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from workspace_builders import __version__
from workspace_builders.base import atomic_file, interface, output
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_builder_name, closest
from workspace_builders.model.workspace import Location, Workspace

CREATING = "creating"
READY = "ready"
SETUP_FAILED = "setup-failed"
REMOVING = "removing"
MIGRATING = "migrating"  # moved, or being moved, out of the deprecated nested layout


@dataclass
class RepoState:
    name: str
    path: str
    branch: str
    base_ref: str
    base_commit: str
    sparse: list[str] | None = None  # the folders of a sparse worktree (cone mode); None: all of it


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
    ports: list[int] = field(default_factory=list)  # its block of builders.ports; empty when not set

    def repo(self, name: str) -> RepoState | None:
        return next((r for r in self.repos if r.name == name), None)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "state" / f"{name}.json"


def restoring_mark(ws: Workspace, name: str) -> Path:
    """Written by `restore` before it makes the first worktree, gone once the builder is whole: while
    it is there the name is the restore's, which `restore NAME` completes."""
    return ws.admin_dir / "restoring" / f"{name}.json"


def refuse_pending_restore(ws: Workspace, name: str) -> None:
    """A builder made under a name whose restore was stopped would be written over by that restore's
    completion: its archived files over the new session's own."""
    mark = restoring_mark(ws, name)
    if mark.exists():
        raise BuildersError(
            f"builder {name!r} has a restore that was stopped half-way ({mark}); nothing was changed",
            f"complete it first: {output.command('builders', 'restore', name)}",
        )


def refuse_stopped_removal(record: BuilderState | None) -> None:
    """A builder whose removal was stopped is no creation to take up: its record names the archives
    of its work, which `remove` completes or `restore` brings back."""
    if record is not None and record.status == REMOVING:
        raise BuildersError(
            f"builder {record.name!r} has a removal that was stopped half-way; nothing was changed",
            f"complete it ({output.command('builders', 'remove', record.name)}) or bring it back as it was "
            f"({output.command('builders', 'restore', record.name)})",
        )


def completing_command(record: BuilderState) -> str | None:
    """The command that completes a run of this builder that was stopped (creating, migrating,
    removing), with what it does; None for a builder no run left half-way."""
    return {
        CREATING: f"builders new {record.name} (completes it; builders remove {record.name} ends it)",
        MIGRATING: "builders migrate (completes it)",
        REMOVING: f"builders remove {record.name} (completes the removal; add --force if it asks)",
    }.get(record.status)


def load(ws: Workspace, name: str) -> BuilderState | None:
    path = state_file(ws, name)
    data = atomic_file.read_json(path, "state file", then="builders verify")
    if data is None:
        return None
    try:
        assert isinstance(data, dict), "not a JSON object"
        repos = [RepoState(**r) for r in data.pop("repos", [])]
        return BuilderState(**data, repos=repos)
    except (AssertionError, ValueError, TypeError) as exc:
        raise atomic_file.unreadable(path, "state file", exc, then="builders verify") from None


def path_of(ws: Workspace, name: str, record: BuilderState | None) -> Path:
    """Where builder `name` is: where its state says, else where a new one would be made."""
    return Path(record.path) if record is not None else ws.builder_path(name)


def load_all(ws: Workspace) -> list[BuilderState]:
    """Every builder's state, by name."""
    folder = ws.admin_dir / "state"
    found = [load(ws, p.stem) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return [r for r in found if r is not None]


def builder_names(ws: Workspace) -> list[str]:
    """Names of the builders there are: a state file, or a folder in the builders folder."""
    found = {r.stem for r in (ws.admin_dir / "state").glob("*.json")}
    if ws.builders_dir.is_dir():
        found |= {p.name for p in ws.builders_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return sorted(found)


def _json_bytes(document: object) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


def save(ws: Workspace, builder: BuilderState) -> None:
    atomic_file.write(state_file(ws, builder.name), _json_bytes(builder.to_json()))


def delete(ws: Workspace, name: str) -> None:
    state_file(ws, name).unlink(missing_ok=True)


def named_or_here(location: Location, name: str | None, usage: str) -> BuilderState:
    """The state of builder NAME, or of the builder the command was started in; `usage` is the
    command as its help shows it (`builders run [NAME] -- CMD ARGS...`), for the hints."""
    ws = location.workspace
    if name is None:
        if not location.in_builder:
            raise bad_input(
                "not inside a builder: name one",
                f"{usage.replace('[NAME]', 'NAME')}, or cd into a builder first",
            )
        here = location.worktree.resolve()
        record = next((r for r in load_all(ws) if Path(r.path).resolve() == here), None)
        if record is None:
            raise BuildersError(
                f"{here} has no builder state (made with plain git, and not initialised)",
                f"initialise it: builders init --builder {here.name}",
            )
        return record
    check_builder_name(name)
    record = load(ws, name)
    if record is not None and not Path(record.path).is_dir():
        # Its state is there and its folder is not (deleted by hand): "did you mean" would name it again.
        raise bad_input(
            f"builder {name!r} has no folder: {record.path} is gone",
            "close it (its branches are kept, for builders restore or builders remove): builders prune",
        )
    if record is None:
        match = closest(name, builder_names(ws))
        hint = f"create it: builders new {name}"
        if match:
            hint = interface.meant(name, match, usage.replace("[NAME]", match))
        raise bad_input(f"no builder named {name!r}", hint)
    return record
