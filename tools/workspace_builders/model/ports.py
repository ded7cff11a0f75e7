"""Port blocks (`builders.ports`): each builder gets `size` ports of its own, recorded in its state.

A block is free when no state file holds any of its ports: a builder's state lives until it is
removed, so a block is reused only after its builder is gone. Allocation reads every state and
writes the new one under one workspace-wide lock, so parallel runs never get the same block.
"""

from __future__ import annotations

from workspace_builders.base.errors import BuildersError
from workspace_builders.gitlayer.locks import ports_lock
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import Workspace

LAST_PORT = 65535


def assign(ws: Workspace, record: BuilderState) -> None:
    """Give `record` the lowest free block and save its state, when the config asks for ports and it
    has none yet (a re-run keeps the block its crashed run got)."""
    wanted = ws.config.ports
    if wanted is None or record.ports:
        return
    first, size = wanted
    with ports_lock(ws):
        taken = {port for other in state.load_all(ws) if other.name != record.name for port in other.ports}
        start = first
        while start + size - 1 <= LAST_PORT:
            block = list(range(start, start + size))
            if taken.isdisjoint(block):
                record.ports = block
                state.save(ws, record)
                return
            start += size
    raise BuildersError(
        f"no free block of {size} ports from {first} on: every block up to {LAST_PORT} is held by a builder",
        "remove builders you no longer need (builders list; builders remove NAME), or change builders.ports",
    )
