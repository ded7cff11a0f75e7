"""The moves of the bases of a landing: checked under every repository lock, journalled, only forward.

A landing takes every repository lock it needs in one fixed order, checks every base again under them
(at the tip planned, its checkout clean, no operation in progress, no index.lock held) and only then
writes the journal (`<admin>/landing/<name>.json`, tied to the builder's identity) and moves the
first base. From there it only goes forward: a base is never put back, since someone may already
have fetched it or built on it. A failure or a stop leaves the journal; `land` again completes it,
`status` and `verify` name it, and `remove` refuses the builder until it is done.

A base checked out in a clone (or the root) moves with its index and files as one step, under the
checkout's own index.lock, so no git of anyone else sees it half-made: a copy of the index in the
lock file is moved from old to new with the files (`read-tree -m -u`), then the ref (compare-and-
swap), then the lock file becomes the index. If the ref cannot move, the files go back (no one saw
them). A stop in between leaves the lock; the journal says it is ours, and the next run clears it
and finishes the move from what is on disk.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from workspace_builders.base import atomic_file, faults, output, parallel
from workspace_builders.base.errors import BuildersError
from workspace_builders.engine.landing import landed_file, landings
from workspace_builders.engine.landing_rebase import (
    a_folder,
    clear_our_lock,
    identity,
    in_the_way_of,
    lingering_lock,
    operation_in_progress,
    rebasing_it,
)
from workspace_builders.gitlayer import git
from workspace_builders.gitlayer.locks import repository_lock
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import Workspace


class BaseMoved(BuildersError):
    """A base moved since the run looked at it (another landing, a teammate's commit), found under
    the locks before any base moved: nothing landed, and the run may look again and land onto the
    new tip. `put_back`: every builder branch the run had moved is back where it was."""

    put_back = True


@dataclass(frozen=True)
class Move:
    label: str
    repo: str  # the source repository (root or clone)
    common_dir: str
    base: str  # the base branch
    old: str
    new: str
    checkout: str | None  # where the base branch is checked out (moved with its working tree)

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.base}"

    def as_json(self) -> dict[str, object]:
        return {"repo": self.label, "base": self.base, "old": self.old, "new": self.new}


# --- the journal ---------------------------------------------------------------------------------------


def journal_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "landing" / f"{name}.json"


def pending_landing(ws: Workspace, name: str) -> Path | None:
    """The journal of a landing of builder `name` that was stopped after its first base moved, or
    None. Such a builder must not be removed before `builders land NAME` has completed it."""
    path = journal_file(ws, name)
    return path if path.exists() else None


def write_journal(ws: Workspace, record: BuilderState, moves: Sequence[Move], squashed: bool) -> None:
    document = {
        "builder": identity(record),
        "started_at": state.now(),
        "squash": squashed,
        "moves": [vars(m) for m in moves],
    }
    atomic_file.write(journal_file(ws, record.name), (json.dumps(document, indent=2) + "\n").encode())


@dataclass(frozen=True)
class Journal:
    path: Path
    builder: dict[str, str]
    moves: list[Move]
    squashed: bool


def read_journal(ws: Workspace, name: str) -> Journal | None:
    path = journal_file(ws, name)
    first = "look at the bases it names, then "
    document = atomic_file.read_json(path, "landing journal", first)
    if document is None:
        return None
    try:
        moves = [Move(**m) for m in document["moves"]]
        return Journal(path, dict(document.get("builder") or {}), moves, bool(document.get("squash")))
    except (TypeError, KeyError, AttributeError) as exc:
        raise atomic_file.unreadable(path, "landing journal", exc, first) from None


def record_landing(ws: Workspace, name: str, moves: Sequence[Move], squashed: bool) -> None:
    """Append what landed to `<admin>/landed/<name>.json`, then drop the journal."""
    entry = {"landed_at": state.now(), "squash": squashed, "moves": [m.as_json() for m in moves]}
    document = [*landings(ws, name), entry]
    atomic_file.write(landed_file(ws, name), (json.dumps(document, indent=2) + "\n").encode())
    journal_file(ws, name).unlink(missing_ok=True)


@contextmanager
def repositories_locked(common_dirs: Sequence[str]) -> Iterator[None]:
    """Every repository lock, taken in one fixed order (sorted paths), so two landings into
    overlapping repos never hold one each while waiting for the other."""
    with ExitStack() as stack:
        for common_dir in sorted(set(common_dirs)):
            stack.enter_context(repository_lock(Path(common_dir)))
        yield


# --- checks under the locks ----------------------------------------------------------------------------


def check_before_moving(moves: Sequence[Move], name: str) -> dict[str, Path]:
    """Every base at the tip planned, contained in what lands, and its checkout ready to move with it;
    the index file of each checkout, by label. The repos are looked at in parallel.

    Called with every repository lock held and before anything moved: a refusal changes nothing.
    """

    def one(move: Move) -> Path | None:
        # The update tried with nothing written checks the base is still at the tip planned (its old
        # value); the tip is read only when it fails, to say why. The ancestry was asked as it was counted.
        tried = git.try_move_ref(Path(move.repo), move.ref, move.new, move.old)
        if tried.returncode != 0 or not git.is_ancestor(Path(move.repo), move.old, move.new):
            tip = git.tip_of(Path(move.repo), move.ref)
            if tip != move.old or not git.is_ancestor(Path(move.repo), move.old, move.new):
                raise BaseMoved(
                    f"{move.label}: {move.base} moved meanwhile (another landing?): it is at {output.short(tip)}, "
                    f"not at {output.short(move.old)} as planned; nothing landed",
                    f"run it again, it rebases onto the new tip and lands: builders land {name}",
                )
        refuse_rebasing(move)
        if tried.returncode != 0:  # a reference-transaction hook that protects the branch, say
            failed = git.GitFailed(tried)
            raise BuildersError(
                f"{move.label}: git refuses to move {move.base} ({failed.message}); nothing landed",
                failed.hint
                or "see what git says (a reference-transaction hook in the repository's hooks or core.hooksPath?),"
                " then run the command again",
            )
        return check_checkout(move, Path(move.checkout), ours=False) if move.checkout else None

    outcomes = parallel.each(moves, one)
    failed = parallel.failures(outcomes)
    if failed and all(isinstance(error, BaseMoved) for _, error in failed):
        raise failed[0][1]  # the one thing wrong: a look again sees every base that moved
    # Any other failure is the one raised (said last), so the run is not taken for one to try again.
    parallel.raise_failures(sorted(failed, key=lambda failure: not isinstance(failure[1], BaseMoved)))
    return {move.label: index for move, index in outcomes if isinstance(index, Path)}


def refuse_rebasing(move: Move) -> None:
    where = rebasing_it(Path(move.common_dir), move.ref)
    if where is not None:
        raise BuildersError(
            f"{move.label}: {move.base} is being rebased (git dir {where}); nothing landed",
            "finish or abort that rebase first "
            f"({output.command('git', '-C', move.repo, 'worktree', 'list')} shows where),"
            " then run the command again",
        )


def check_checkout(move: Move, checkout: Path, ours: bool) -> Path:
    """The base's checkout can move with it: no operation under way, no index.lock of anyone else,
    no uncommitted change (git's own status, which refreshes in memory: a file touched but unchanged
    is not a change); its index file. `ours`: a pending journal names this move, so a lock left is
    ours."""
    gitdir = git.git_dir(checkout)
    what = operation_in_progress(checkout, gitdir)
    if what:
        raise BuildersError(
            f"{move.label}: a {what} is under way in {checkout}, where {move.base} is checked out; nothing landed",
            f"finish or abort it first ({output.command('cd', checkout)} && git status), then run the command again",
        )
    index = gitdir / "index"  # where `git rev-parse --git-path index` says (GIT_INDEX_FILE is never passed on)
    if lingering_lock(index):
        if not ours:
            lock = f"{index}.lock"
            raise BuildersError(
                f"{move.label}: {lock} is held (a git running in {checkout}, or one that was killed there); "
                "nothing landed",
                f"let that git finish; if none runs ({output.command('fuser', lock)} says nothing), remove it: "
                + output.command("rm", lock),
            )
        clear_our_lock(index, f"left by a landing of ours stopped while it moved {move.base}")
    if ours:
        return index
    changed = [e[3:] for e in git.head_and_tracked_changes(checkout, every_submodule=True).changes]
    if changed:
        raise BuildersError(
            f"{move.label}: its base {move.base} is checked out in {checkout} with uncommitted changes "
            f"({', '.join(changed[:5])}); nothing landed",
            f"commit or stash them ({output.command('git', '-C', checkout, 'status', '--ignore-submodules=none')}),"
            " then run the command again",
        )
    changes = git.tree_changes(Path(move.repo), move.old, move.new)
    hidden = hidden_files(checkout, changes)
    if hidden.edited:
        named = [e.path for e in hidden.edited[:5]]
        unhide = [  # one flag a call: update-index gives a path to the first of its flags alone
            output.command("git", "-C", checkout, "update-index", flag, "--", *paths)
            for flag, paths in (
                ("--no-skip-worktree", [e.path for e in hidden.edited[:5] if e.tag == "S"]),
                ("--no-assume-unchanged", [e.path for e in hidden.edited[:5] if e.tag.islower()]),
            )
            if paths
        ]
        raise BuildersError(
            f"{move.label}: its base {move.base} is checked out in {checkout} with changes git status does not show"
            f" in skip-worktree or assume-unchanged files the landing changes ({', '.join(named)}); nothing landed",
            f"make git look at them ({' && '.join(unhide)}; they are: "
            f"{output.command('git', '-C', checkout, 'ls-files', '-v', '--', *named)}), "
            "then commit or stash them and run the command again",
        )
    in_the_way = in_the_way_of(changes, checkout)
    if in_the_way:
        raise BuildersError(
            f"{move.label}: its base {move.base} is checked out in {checkout}, which has untracked or ignored "
            f"files where the landing brings files ({', '.join(in_the_way[:5])}); nothing landed",
            f"move them out of the way (they are: {output.command('cd', checkout)} && "
            f"{output.command('ls', '-ld', '--', *(p.rstrip('/') for p in in_the_way[:5]))}), "
            "then run the command again",
        )
    refusal = _trial_move(move, checkout, index)
    if refusal:
        skipped = [p for p in hidden.skipped if p in refusal][:5]
        raise BuildersError(
            f"{move.label}: git would not move the files of {checkout} from {output.short(move.old)} to "
            f"{output.short(move.new)} with {move.base}: {refusal}; nothing landed",
            (
                f"git looks at skip-worktree files only once they are plain again: "
                f"{output.command('git', '-C', checkout, 'update-index', '--no-skip-worktree', '--', *skipped)}; "
                if skipped
                else ""
            )
            + f"look at what git names ({output.command('git', '-C', checkout, 'status', '--ignore-submodules=none')}),"
            " then run the command again",
        )
    return index


def _trial_move(move: Move, checkout: Path, index: Path) -> str | None:
    """What git says when it refuses to move the checkout's files (a file touched but unchanged aside,
    which the move refreshes), tried on a copy of its index with nothing written: so that it never
    refuses half-way through a landing whose first base has moved. None: it would not refuse."""
    # Beside the index, under the repository lock the caller holds: one name a checkout, so that a
    # copy a killed run left is the next run's to write over, never one more file somewhere.
    trial = index.with_name("builders-land-trial-index")
    try:
        if index.exists():
            shutil.copyfile(index, trial)
        else:
            trial.unlink(missing_ok=True)
        done = git.two_tree_checkout(checkout, move.old, move.new, trial, dry_run=True)
        if done.returncode != 0:  # as the move itself does: asked again once the copy is refreshed
            git.refresh_index(checkout, trial)
            done = git.two_tree_checkout(checkout, move.old, move.new, trial, dry_run=True)
    finally:
        trial.unlink(missing_ok=True)
    return None if done.returncode == 0 else done.stderr.strip() or f"exit {done.returncode}"


@dataclass(frozen=True)
class Hidden:
    edited: list[git.IndexEntry]  # on disk other than the index has them
    skipped: list[str]  # skip-worktree and on disk as the index has them


def hidden_files(checkout: Path, changes: Sequence[git.TreeChange]) -> Hidden:
    """The files the landing changes or deletes that the index flags skip-worktree or assume-unchanged
    (git status does not look at them) and that are on disk. Edited, git refuses to move some (half-way
    through a landing) and deletes others without a word (a sparse checkout with
    `sparse.expectFilesOutsideOfPatterns`); skip-worktree, git refuses them when touched at all."""
    landing = {c.path for c in changes if c.status != "A"}
    entries = git.index_entries_started(checkout)()
    hidden = [e for e in entries if e.hidden and e.mode != git.GITLINK and e.path in landing]
    present = [e for e in hidden if os.path.lexists(checkout / e.path)]
    files = [e.path for e in present if (checkout / e.path).is_file() and not (checkout / e.path).is_symlink()]
    now = git.hashes_as_git_sees(checkout, files) if files else {}
    edited = [e for e in present if now.get(e.path) != e.blob]
    return Hidden(edited, [e.path for e in present if e.tag == "S" and e not in edited])


# --- the moves -----------------------------------------------------------------------------------------


def apply_moves(moves: Sequence[Move], indexes: dict[str, Path]) -> None:
    """Move every base forward, in order; the caller holds the locks and journalled the moves, and
    found the index file of each checkout (`indexes`, by label).

    Nothing is put back: a failure leaves the journal for the next run, which completes it. Each
    moved checkout's index is checked once every base has moved, side by side.
    """
    for move in moves:
        move_one(move, indexes.get(move.label))
        faults.point(f"land:moved:{move.label}")
        output.say(f"  {move.label}: moved {move.base} forward to {output.short(move.new)}")
    checked = parallel.each([m for m in moves if m.checkout], lambda m: _check_moved(m, Path(m.checkout or "")))
    parallel.raise_failures(checked)


def move_one(move: Move, index: Path | None) -> None:
    if move.checkout is None:
        done = git.move_ref(Path(move.repo), move.ref, move.new, move.old, "builders land: fast-forward")
        if done.returncode != 0:
            raise BuildersError(f"{move.label}: {move.base} could not move: {git.GitFailed(done).message}")
        faults.point(f"land:ref-moved:{move.label}")
        return
    checkout = Path(move.checkout)
    index = index or git.index_path(checkout)
    lock = index.with_name(index.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise BuildersError(
            f"{move.label}: {lock} appeared while landing (a git started in {checkout})",
            "let it finish, then run the command again to complete the landing: it goes on from here "
            f"({output.command(lock)})",
        ) from None
    os.close(fd)
    if index.exists():
        shutil.copyfile(index, lock)
    faults.point(f"land:index-locked:{move.label}")
    done = git.two_tree_checkout(checkout, move.old, move.new, lock)
    if done.returncode != 0:
        # Most often a file touched but unchanged (its stat data stale in the index): git refused
        # before writing anything, so once the copy is refreshed it is asked again.
        git.refresh_index(checkout, lock)
        done = git.two_tree_checkout(checkout, move.old, move.new, lock)
    if done.returncode != 0:
        os.unlink(lock)  # the index is as it was, and git changed no file when it refused
        raise BuildersError(
            f"{move.label}: the files of {checkout} cannot move from {output.short(move.old)} to "
            f"{output.short(move.new)} with {move.base}: {done.stderr.strip()}",
            f"look at it ({output.command('git', '-C', checkout, 'status')}), then run the command again:"
            " it completes the landing",
        )
    faults.point(f"land:files-moved:{move.label}")
    moved = git.move_ref(Path(move.repo), move.ref, move.new, move.old, "builders land: fast-forward")
    if moved.returncode != 0:
        # No one saw the files move (the index was locked throughout): they go back with it.
        back = git.two_tree_checkout(checkout, move.new, move.old, lock)
        os.unlink(lock)
        went_on = git.tip_of(Path(move.repo), move.ref) != move.old
        raise BuildersError(
            f"{move.label}: {move.base} {'moved while landing' if went_on else 'could not move'}"
            f" ({git.GitFailed(moved).message})"
            + ("" if back.returncode == 0 else f"; the files of {checkout} could not go back: {back.stderr.strip()}"),
            f"{move.base} moved meanwhile: run the command again, it completes the landing"
            if went_on
            else "see what git says, then run the command again: it completes the landing",
        )
    faults.point(f"land:ref-moved:{move.label}")
    os.replace(lock, index)


def _check_moved(move: Move, checkout: Path) -> None:
    """The index is at the landed commit. (The ref is: its compare-and-swap succeeded.)"""
    if not git.index_matches(checkout, move.new):
        raise BuildersError(
            f"{move.label}: {move.base} and the index of {checkout} do not agree after the move",
            f"look at it: {output.command('git', '-C', checkout, 'status')}; then run the command again",
        )


# A status that shows the paths after it whatever hides them: submodule ignore settings, ignore patterns.
_SHOWING_ALL = ("status", "--ignore-submodules=none", "--ignored", "--short", "--")


def finish_checkout(move: Move, checkout: Path) -> None:
    """Bring a checkout a stopped move left half-way to `new` (the ref is moved by the caller): its
    lock (ours) cleared, every file that differs from the index checked to be the landed version
    (git wrote it, or had removed it to write it), then moved by git. A file that is neither is
    someone's change: refused, nothing touched."""
    check_checkout(move, checkout, ours=True)
    changes = git.tree_changes(Path(move.repo), move.old, move.new)
    landing = {c.path for c in changes}
    # Submodules with their changes whatever the ignore settings hide: with submodule.recurse, git moves
    # them with the checkout and writes over their untracked files.
    entries = [e[3:] for e in git.every_change(checkout) if not e.startswith("??") or e[3:] in landing]
    if git.index_matches(checkout, move.new):
        if entries:
            raise BuildersError(
                f"{move.label}: {checkout} has uncommitted changes: {', '.join(entries[:5])}",
                f"commit or stash them ({output.command('git', '-C', checkout, 'status', '--ignore-submodules=none')}),"
                " then run the command again",
            )
        return
    if not git.index_matches(checkout, move.old):
        raise BuildersError(
            f"{move.label}: the index of {checkout} is neither at {output.short(move.old)} nor at "
            f"{output.short(move.new)}, as the stopped landing left it",
            f"look at it ({output.command('git', '-C', checkout, 'status')}); once it is clean, run the command again",
        )
    # Files status does not look at (skip-worktree, assume-unchanged) are looked at here, and what is on
    # disk where a landed file goes (git writes over an ignored file without a word): each must be the
    # landed version too.
    hidden = [e.path for e in hidden_files(checkout, changes).edited]
    differing = list(dict.fromkeys([*entries, *hidden, *in_the_way_of(changes, checkout)]))
    wanted = git.blobs_in(Path(move.repo), move.new, differing)
    present = [p for p in differing if (checkout / p).is_file() and not (checkout / p).is_symlink()]
    links = [p for p in differing if (checkout / p).is_symlink()]
    found = git.hash_files(checkout, present) | git.link_blobs(checkout, links) | _moved_submodules(checkout, differing)
    foreign = [p for p in differing if not _landed_or_gone(checkout, p, landing, found.get(p), wanted.get(p))]
    if foreign:
        raise BuildersError(
            f"{move.label}: {checkout} has changes that are not the landed files: {', '.join(foreign[:5])}",
            "commit, stash or move them out of the way (they are: "
            + output.command("git", "-C", checkout, *_SHOWING_ALL, *(p.rstrip("/") for p in foreign[:5]))
            + "), then run the command again",
        )
    for p in [*present, *links]:
        (checkout / p).unlink()  # the landed version, as git wrote it: git writes it again below
    index = git.index_path(checkout)
    lock = index.with_name(index.name + ".lock")
    os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    shutil.copyfile(index, lock)
    done = git.two_tree_checkout(checkout, move.old, move.new, lock)
    if done.returncode != 0:
        os.unlink(lock)
        raise BuildersError(
            f"{move.label}: the files of {checkout} cannot move to {output.short(move.new)}: {done.stderr.strip()}",
            f"look at it ({output.command('git', '-C', checkout, 'status')}), then run the command again",
        )
    os.replace(lock, index)


# --- completing a stopped landing ----------------------------------------------------------------------


def complete(ws: Workspace, record: BuilderState) -> list[Move]:
    """A landing a stopped run left half-done: every move it journalled, finished forward; the moves
    that landed. A base someone else moved meanwhile is left to the landing that follows (its builder
    branch is still ahead of it); one of an earlier builder of the same name is refused."""
    journal = read_journal(ws, record.name)
    if journal is None:
        return []
    if journal.builder and journal.builder != identity(record):
        raise BuildersError(
            f"{journal.path} is a landing of an earlier builder named {record.name!r} "
            f"(made {journal.builder.get('created_at')}), stopped half-way; nothing was changed",
            f"see what it moved ({output.command('cat', journal.path)}), then move it aside: "
            + output.command("mv", journal.path, f"{journal.path}.done"),
        )
    output.say(f"completing the landing of {record.name!r} that was stopped ({journal.path})")
    landed: list[Move] = []
    with repositories_locked([m.common_dir for m in journal.moves]):
        for move in journal.moves:
            repo = Path(move.repo)
            tip = git.tip_of(repo, move.ref)
            if tip == move.old:
                refuse_rebasing(move)
                if move.checkout and not _clean_at(Path(move.checkout), move.old):
                    finish_checkout(move, Path(move.checkout))  # files first: then the ref, checked
                    done = git.move_ref(repo, move.ref, move.new, move.old, "builders land: fast-forward")
                    if done.returncode != 0:
                        raise BuildersError(f"{move.label}: {move.base} could not move: {git.GitFailed(done).message}")
                    _check_moved(move, Path(move.checkout))
                else:
                    index = check_checkout(move, Path(move.checkout), ours=False) if move.checkout else None
                    move_one(move, index)
                    if move.checkout:
                        _check_moved(move, Path(move.checkout))
            elif tip == move.new:
                if move.checkout and not _clean_at(Path(move.checkout), move.new):
                    finish_checkout(move, Path(move.checkout))
            elif tip is not None and git.is_ancestor(repo, move.new, tip):
                pass  # landed, and the base has moved on since (another landing built on it)
            else:
                output.say(
                    f"  {move.label}: {move.base} was moved by someone else meanwhile (to {output.short(tip)}): "
                    "its part lands with the rest, rebased"
                )
                continue
            landed.append(move)
            output.say(f"  {move.label}: {move.base} at {output.short(move.new)}")
        if landed:
            record_landing(ws, record.name, landed, journal.squashed)
        else:
            journal.path.unlink()
    return landed


def _moved_submodules(checkout: Path, paths: Sequence[str]) -> dict[str, str]:
    """The commit each checked-out submodule among `paths` is at, if it has no change of its own
    (untracked files too): a stopped move of ours with submodule.recurse may have moved it to the
    landed commit already."""
    found: dict[str, str] = {}
    for path in paths:
        sub = checkout / path
        if a_folder(sub) and os.path.lexists(sub / ".git"):
            look = git.look_at_worktree_started(sub)()
            if look.head is not None and not look.changes:
                found[path] = look.head
    return found


def _landed_or_gone(checkout: Path, path: str, landing: set[str], found: str | None, wanted: str | None) -> bool:
    """A differing file a stopped move of ours explains: one the landing changes, and either gone
    (git removes a file before it writes it anew) or already the landed version (a submodule: at the
    landed commit, with no change of its own)."""
    if path not in landing:
        return False
    if not os.path.lexists(checkout / path):
        return True
    return found is not None and found == wanted


def _clean_at(checkout: Path, commit: str) -> bool:
    """No lock, the index at `commit`, no tracked file changed (untracked files are not ours)."""
    index = git.index_path(checkout)
    if index.with_name(index.name + ".lock").exists() or not git.index_matches(checkout, commit):
        return False
    return not git.head_and_tracked_changes(checkout).changes
