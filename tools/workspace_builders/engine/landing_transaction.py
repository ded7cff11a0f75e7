"""`land` as one transaction: plan, bring the builder branches up, pin what the gate sees, run it,
take every repository lock in one fixed order, check everything again under them, and only then
move the bases (forward only, journalled: see landing_journal).

Before the first base moves, everything this run did can be put back (the builder's own branches,
which nobody else uses, and only where they are still as the run left them). After it, never.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workspace_builders.base import faults, interrupts, output, parallel
from workspace_builders.base.errors import BuildersError
from workspace_builders.engine import builder_scripts, landing_rebase
from workspace_builders.engine.landing import Tree, count
from workspace_builders.engine.landing_journal import (
    BaseMoved,
    Move,
    apply_moves,
    check_before_moving,
    pending_landing,
    record_landing,
    repositories_locked,
    write_journal,
)
from workspace_builders.engine.landing_rebase import Touched
from workspace_builders.gitlayer import git
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import Workspace


@dataclass(frozen=True)
class Pin:
    """A builder worktree as the gate is given it: its branch tip, and no change in it."""

    tree: Tree
    head: str


def plan_moves(trees: Sequence[Tree]) -> list[Move]:
    moves = []
    for t in trees:
        if t.ahead > 0:
            assert t.base_branch and t.base_tip and t.head
            checkout = str(t.base_checkout) if t.base_checkout else None
            moves.append(Move(t.label, str(t.source), str(t.common_dir), t.base_branch, t.base_tip, t.head, checkout))
    return moves


@dataclass
class Landed:
    moves: list[Move]
    stopped: bool = False  # a stop request (SIGINT, SIGTERM) came while the bases moved: honoured after


def land_builder(ws: Workspace, record: BuilderState, ready: list[Tree], message: str | None) -> Landed:
    """Land the builder's worktrees in `ready` (each ahead of its base); what moved."""
    if not ready:
        return Landed([])
    touched: list[Touched] = []
    try:
        landing_rebase.bring_up(ws, record, ready, merge=False, touched=touched)
        # The rebase drops each commit whose change the base already has: a worktree left with none
        # has nothing to land (a squash of it would be an empty commit). Brought up, it stays so.
        ready = [t for t in ready if t.ahead > 0]
        if not ready:
            return Landed([])
        if message is not None:
            landing_rebase.squash(ready, message, touched)
        gate = ws.config.pre_land
        # What lands is the tips the run looked at; a gate is given exactly those (checked before
        # it runs and after), and they are checked once more under the locks.
        pins = [Pin(t, t.head or "") for t in ready]
        if gate:
            check_pins(pins, record.name, gate=False)
            code = builder_scripts.run(
                ws, "pre_land", gate, record.name, Path(record.path), [r.name for r in record.repos], record.ports
            )
            if code != 0:
                raise BuildersError(
                    f"the pre_land script failed with exit {code}; nothing landed",
                    f"fix what it found in {output.command(record.path)}, then run again: builders land {record.name}",
                )
            check_pins(pins, record.name, gate=True)
        moves = plan_moves(ready)
        with repositories_locked([m.common_dir for m in moves]):
            # and nobody can commit in them through us from here
            check_pins(pins, record.name, gate=bool(gate))
            indexes = check_before_moving(moves, record.name)
            write_journal(ws, record, moves, squashed=message is not None)
            touched.clear()  # from here the bases move: the builder branches are what lands
            return Landed(moves, _move_forward(ws, record, moves, indexes, squashed=message is not None))
    except BaseException as exc:
        if touched:
            with interrupts.held_off():
                if not _put_back(touched, exc) and isinstance(exc, BaseMoved):
                    exc.put_back = False  # a branch left moved: not a run to try again as if untouched
        raise


def _move_forward(
    ws: Workspace, record: BuilderState, moves: list[Move], indexes: dict[str, Path], squashed: bool
) -> bool:
    """Every journalled move, with a stop request held until they are done; whether one came."""
    try:
        with interrupts.held_off():
            faults.point("land:journalled")
            try:
                apply_moves(moves, indexes)
            except BuildersError as exc:
                exc.message += "; the landing is partial and only goes forward (no base is put back)"
                exc.hint = (
                    f"{exc.hint}; `builders land {record.name}` completes it"
                    if exc.hint
                    else (f"fix that, then complete it: builders land {record.name}")
                )
                raise
            record_landing(ws, record.name, moves, squashed)
    except (KeyboardInterrupt, interrupts.Terminated):
        if pending_landing(ws, record.name) is not None:
            raise  # not held off to the end after all: the journal says what the next run completes
        output.say("a stop was asked for while the bases moved: the landing was completed first")
        return True
    return False


def _put_back(touched: list[Touched], cause: BaseException) -> bool:
    """Every branch the run moved put back; whether all of them are."""
    try:
        landing_rebase.put_back(touched)
    except BuildersError as exc:
        output.say(f"  {exc.message}")
        if isinstance(cause, BuildersError):
            cause.message += "; " + exc.message  # the first failure stays the error; this one is added
        return False
    return True


def check_pins(pins: Sequence[Pin], name: str, gate: bool) -> None:
    """Land exactly what the gate saw (or, with no gate, what the run looked at): every worktree
    still at its pinned tip, with no change. The worktrees are looked at in parallel."""
    when, again = ("while the pre_land gate ran", "run the gate again") if gate else ("while landing", "run it again")

    def one(p: Pin) -> None:
        look = git.head_and_tracked_changes(p.tree.path, every_submodule=True)
        head, changes = look.head or "", look.changes
        if head != p.head or changes:
            what = f"its tip moved to {output.short(head)}" if head != p.head else f"it has changes ({changes[0][3:]})"
            raise BuildersError(
                f"{p.tree.label}: {p.tree.path} changed {when} ({what}, it was at "
                f"{output.short(p.head)}); nothing landed",
                f"commit what belongs to the builder, then {again}: builders land {name}",
            )
        p.tree.head = head
        count(p.tree)

    parallel.raise_failures(parallel.failures(parallel.each(pins, one)))
