"""Finding builders: `builders path NAME`."""

from __future__ import annotations

from pathlib import Path

from workspace_builders import state
from workspace_builders.errors import BuildersError
from workspace_builders.names import check_builder_name
from workspace_builders.workspace import discover


def builder_path(start: Path, name: str) -> Path:
    ws = discover(start).workspace
    check_builder_name(name)
    recorded = state.load(ws, name)
    path = Path(recorded.path) if recorded else ws.builder_path(name)
    if not path.is_dir():
        raise BuildersError(f"no builder named {name!r} (looked in {path})", f"create it: builders new {name}")
    return path
