"""Removing a builder without ever losing work: the engine behind `builders remove` (and `land --remove`,
`prune --empty-trash`, and `restore` completing a removal that was stopped).

`git worktree remove` on a builder silently deletes everything under its ignored `repos/`, nested
worktrees with uncommitted work included. So: guard the path, judge every worktree of the builder
(removal_judge.py) before anything is deleted, refuse when anything would be lost (or, with --force,
first save it under an archive ref and write the removal record), remove the nested worktrees through
their own repositories, and only then the builder. A branch goes only when it is the builder's own
and every commit on it is on another ref.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from workspace_builders.base import faults, interface, output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_builder_name, closest
from workspace_builders.engine import builder_scripts, landing_rebase, removal_records
from workspace_builders.engine.removal_judge import Member, branch_kept_because, check, find_members, recovery_command
from workspace_builders.gitlayer import archive as archives
from workspace_builders.gitlayer import git
from workspace_builders.gitlayer.locks import builder_lock, repository_lock
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import REPOS, ROOT, Location, Workspace

ARCHIVE_PREFIX = archives.PREFIX
__all__ = ["Member", "guard", "remove", "remove_locked"]


def remove(location: Location, name: str, force: bool, keep_branches: bool, dry_run: bool, as_json: bool) -> int:
    ws = location.workspace
    check_builder_name(name)
    with builder_lock(ws, name):
        code, path = remove_locked(ws, name, force, keep_branches, dry_run, as_json)
    if not dry_run and path is not None and location.worktree.is_relative_to(path):
        output.say(
            f"note: you are inside the builder being removed; after it, cd to the root: {output.command('cd', ws.root)}"
        )
    return code


def remove_locked(
    ws: Workspace, name: str, force: bool, keep_branches: bool, dry_run: bool, as_json: bool
) -> tuple[int, Path | None]:
    """The removal, with the builder's lock held: its exit code and the builder's path (None for a
    closed builder's branches). Raises a BuildersError, with nothing changed, when it refuses."""
    record = state.load(ws, name)
    path = state.path_of(ws, name, record)
    if record is None and not os.path.lexists(path) and not any(w.path == path for w in git.worktrees(ws.root)):
        _finish_closed(ws, name, keep_branches, dry_run, as_json)
        return 0, None
    guard(ws, path, recorded=record is not None)
    refuse_pending_landing(ws, name)
    interrupted = record is not None and record.status == state.REMOVING
    if not interrupted and not os.path.lexists(path) and any(w.path == path for w in git.worktrees(ws.root)):
        # Deleted by hand: git still has its worktrees, which hold its branches, so removing it here
        # would report it removed while list, verify and its branches still have it. prune closes it.
        raise BuildersError(
            f"builder {name!r} has no folder: {path} is gone (deleted by hand?); nothing was changed",
            f"close it first, then remove it: builders prune && {output.command('builders', 'remove', name)}",
        )
    if not interrupted and record is not None:
        _refuse_repo_deleted_by_hand(ws, record)
    members = _judged(ws, path, interrupted)
    stopped_sync = landing_rebase.record_file(ws, name).exists()
    _refuse_if_at_risk(name, path, members, force, dry_run, as_json, stopped_sync)
    if dry_run:
        _warn_ignored(ws, path, members, record, dry_run=True)
        _show(name, path, members, {}, dry_run=True, as_json=as_json)
        refused = any(m.blockers for m in members) or (any(m.problems for m in members) and not force)
        return (1 if refused else 0), path
    if path.is_dir() and ws.config.archive:
        _run_archive_script(ws, name, path, record)
        looked_before = {m.label: m.changed for m in members}
        members = _judged(ws, path, interrupted)
        if {m.label: m.changed for m in members} != looked_before or any(m.blockers for m in members):
            output.say("the archive script changed what the builder holds:")
        _refuse_if_at_risk(name, path, members, force, dry_run, as_json, stopped_sync)
    _warn_ignored(ws, path, members, record, dry_run=False)
    stamp = archives.stamp()
    found = removal_records.pending(ws, name) if interrupted else None
    saved: dict[str, str] = {}  # label -> the archive that holds its work, which the removal may delete
    for m in members:
        if m.needs_archive:
            saved[m.label] = archive(ws, name, m, stamp, _archived_before(found, m.label))
            faults.point(f"remove:archived:{m.label}")
    document = _record(ws, name, record, members, found[1] if found else None)
    record_file = found[0] if found else None
    if record_file is not None:
        removal_records.write(record_file, document)
    else:
        record_file = removal_records.begin(ws, name, document)
    if record is not None:
        record.status = state.REMOVING
        state.save(ws, record)
    faults.point("remove:state-saved")
    branches = {m.label: m.branch for m in members if m.branch}
    # Each nested worktree's branch is judged and cleaned as soon as that worktree is gone, while the
    # others are still being removed.
    cleaned: dict[str, str | BaseException | None] = {}
    then = None if keep_branches else partial(_clean_into, cleaned, ws, name, record)
    _remove_members(ws, path, members, saved, force, interrupted, then)
    faults.point("remove:worktrees")
    gone = _already_removed(ws, record, members)
    branches.update({m.label: m.branch for m in gone if m.branch})
    if keep_branches:
        deleted: list[str] = []
        kept = {label: f"{branch} (--keep-branches)" for label, branch in branches.items()}
    else:
        deleted, kept = clean_branches(ws, name, [*members, *gone], record, cleaned)
    faults.point("remove:branches")
    document["kept_branches"] = kept
    document["complete"] = True
    removal_records.write(record_file, document)
    state.delete(ws, name)
    _show(name, path, members, {"deleted": deleted, "kept": kept}, dry_run=False, as_json=as_json)
    return 0, path


def _refuse_repo_deleted_by_hand(ws: Workspace, record: BuilderState) -> None:
    """A repo worktree whose folder is gone while git still has it: its entry holds the builder's
    branch, so the branch would be judged as checked out elsewhere and the entry left behind."""
    for repo in record.repos:
        where = Path(repo.path)
        if not os.path.lexists(where) and any(w.path == where for w in git.worktrees(ws.clone(repo.name))):
            raise BuildersError(
                f"builder {record.name!r}: repos/{repo.name} has no folder: {where} is gone (deleted by hand?) "
                "and git still has its worktree; nothing was changed",
                "close it first, then remove the builder: builders prune && "
                + output.command("builders", "remove", record.name),
            )


def refuse_pending_landing(ws: Workspace, name: str) -> None:
    """A landing of this builder that was stopped half-way is completed by `land`, never by removal:
    its journal names the moves still to make, from this builder's branches."""
    from workspace_builders.engine import landing_journal  # only a removal pays for the import

    journal = landing_journal.pending_landing(ws, name)
    if journal is not None:
        raise BuildersError(
            f"builder {name!r} has a landing that was stopped half-way ({journal}); nothing was changed",
            f"complete it first: {output.command('builders', 'land', name)}",
        )


def _judged(ws: Workspace, path: Path, interrupted: bool) -> list[Member]:
    members = find_members(ws, path) if path.is_dir() else []
    parallel.raise_failures(parallel.each(members, lambda m: check(m, interrupted)))
    return members


def _refuse_if_at_risk(
    name: str, path: Path, members: list[Member], force: bool, dry_run: bool, as_json: bool, stopped_sync: bool
) -> None:
    blocked = any(m.blockers for m in members)
    if dry_run or not (blocked or (any(m.problems for m in members) and not force)):
        return
    if as_json:  # the document still comes, naming what refused it, as with --dry-run
        _show(name, path, members, {}, dry_run=False, as_json=True, removed=False)
    for m in members:
        if m.blockers or m.problems:
            output.say(f"  {m.label} ({m.path}): {'; '.join(m.blockers + m.problems)}")
    hint = (
        f"move what is named out of {path}, then run again: {output.command('builders', 'remove', name)}"
        if blocked
        else f"commit or move it, or archive it and remove anyway: {output.command('builders', 'remove', name)} --force"
    )
    if stopped_sync:  # the changes named may be a stopped rebase's half-written files, not anyone's work
        take_up = output.command("builders", "sync", name)
        hint = f"a sync of it was stopped mid-rebase: take it up first ({take_up}); else {hint}"
    raise BuildersError(f"builder {name!r} has work that removal would lose; nothing was changed", hint)


def _builder_path_hint(ws: Workspace, name: str) -> BuildersError:
    match = closest(name, state.builder_names(ws))
    hint = interface.meant(name, match, output.command("builders", "remove", match)) if match else None
    there = output.command("ls", ws.builders_dir)
    return bad_input(f"no builder named {name!r}", hint or f"see the builders there are: {there}")


def guard(ws: Workspace, path: Path, recorded: bool) -> None:
    """Refuse any path that removal could turn into a disaster (Orca's guards, and a few more)."""

    def refuse(why: str, hint: str = "check the builder's path; nothing was changed") -> BuildersError:
        return BuildersError(f"refusing to remove {str(path) or '(empty path)'}: {why}", hint)

    if not str(path) or not path.is_absolute() or path == Path(path.anchor):
        raise refuse("not a builder path")
    if path.is_symlink() or os.path.realpath(path) != str(path):
        raise refuse("a component of the path is a symlink", f"look at it: {output.command('ls', '-la', path)}")
    if path == ws.root or ws.root.is_relative_to(path):
        raise refuse("it is or contains the workspace root")
    if Path.home().resolve().is_relative_to(path):
        raise refuse("it contains the home directory")
    if path.is_relative_to(ws.root):
        raise refuse(
            "it is inside the workspace root (the deprecated nested layout)", "move it first: builders migrate"
        )
    for repo in ws.known_repos():
        clone = ws.clone(repo).resolve()
        if path.is_relative_to(clone) or clone.is_relative_to(path):
            raise refuse(f"it is, holds or lies in the clone {clone}")
    if not path.is_relative_to(ws.builders_dir) and not recorded:
        raise refuse(f"it is outside the builders folder {ws.builders_dir} and no state records it")


SHOWN_IGNORED = 8


def _warn_ignored(ws: Workspace, path: Path, members: list[Member], record: BuilderState | None, dry_run: bool) -> None:
    """Name each worktree's ignored files and folders: removal deletes them and no archive holds them
    (a node_modules-sized folder would not fit). What copy-in brought from the root and is still as
    it came is left out: it can be copied again."""
    copied = set(record.copied) if record is not None else set()
    for m in members:
        prefix = "" if m.label == ROOT else f"{REPOS}/{m.label}/"
        named = [e for e in m.ignored if not _all_copied(ws, path, prefix + e, copied)]
        if not named:
            continue
        shown = ", ".join(named[:SHOWN_IGNORED])
        more = f" (and {len(named) - SHOWN_IGNORED} more)" if len(named) > SHOWN_IGNORED else ""
        verb = "would be deleted" if dry_run else "deleted"
        output.say(f"warning: {m.label} ({m.path}): {verb} with the builder, not archived: {shown}{more}")


def _all_copied(ws: Workspace, path: Path, entry: str, copied: set[str]) -> bool:
    """Whether copy-in put every file of this ignored entry (relative to the builder) there, each
    still as it is at its source."""
    if not entry.endswith("/"):
        return entry in copied and _as_copied(ws, path, entry)
    if not any(c.startswith(entry) for c in copied):
        return False  # copy-in put nothing there: no need to look inside
    for folder, dirs, files in os.walk(path / entry):
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        dirs[:] = [d for d in dirs if d not in links]
        for f in [*files, *links]:
            relative = Path(folder, f).relative_to(path).as_posix()
            if relative not in copied or not _as_copied(ws, path, relative):
                return False
    return True


def _as_copied(ws: Workspace, path: Path, relative: str) -> bool:
    """Whether the copied file is still byte for byte its source (the root's, or the clone's)."""
    parts = relative.split("/")
    source = ws.clone(parts[1]) / "/".join(parts[2:]) if parts[0] == REPOS and len(parts) > 2 else ws.root / relative
    here = path / relative
    try:
        if here.is_symlink() or source.is_symlink():
            return here.is_symlink() and source.is_symlink() and os.readlink(here) == os.readlink(source)
        return here.read_bytes() == source.read_bytes()
    except OSError:
        return False


def _archived_before(found: tuple[Path, dict[str, object]] | None, label: str) -> str | None:
    """The archive ref the stopped removal made of this worktree, if any."""
    refs = found[1].get("archive_refs") if found else None
    value = refs.get(label) if isinstance(refs, dict) else None
    return str(value).rpartition(" ")[2] if value else None


def archive(ws: Workspace, name: str, m: Member, stamp: str, earlier: str | None = None) -> str:
    """Save what the judge found in this worktree under refs/builders/archive/<name>/<stamp>; the
    archive that holds it.

    `earlier`: the archive a stopped removal made of it; a new one that holds the same is dropped."""
    ref = archives.save(
        m.repo,
        m.common_dir,
        m.path,
        name,
        m.label,
        stamp,
        "before removal",
        store=m.store,
        drop=m.drop,
        gitlinks=m.gitlinks,
        keep=m.reflog_only,
    )
    if earlier is not None and archives.same_work(m.repo, ref, earlier):
        git.delete_ref_at(m.repo, ref, git.resolve_commits(m.repo, [ref])[ref] or "")
        output.say(f"  {m.label}: its work is in {earlier} already (saved by the removal that was stopped)")
        return earlier
    m.archive_ref = ref
    output.say(f"  {m.label}: saved to {m.archive_ref}; get it back with: {recovery_command(m)}")
    return ref


def _run_archive_script(ws: Workspace, name: str, path: Path, record: BuilderState | None) -> None:
    script = ws.config.archive
    if not script:
        return
    repos = [r.name for r in record.repos] if record else []
    try:
        code = builder_scripts.run(ws, "archive", script, name, path, repos, record.ports if record else ())
    except BuildersError as exc:
        output.say(f"warning: the archive script could not run ({exc.message}); removing all the same")
        return
    if code != 0:
        output.say(f"warning: the archive script failed with exit {code}; removing all the same")


def _remove_worktree(m: Member, saved: dict[str, str], force: bool, interrupted: bool) -> None:
    """`git worktree remove` of one member, with the repository's lock held. --force only where the
    judge found what it deletes safe to go: work now in an archive that still holds the worktree as
    it is (a session may write on meanwhile), submodules, a lock, or files a stopped removal deleted
    already. A worktree judged clean goes without it, so git refuses one written in since."""
    ref = saved.get(m.label)
    if ref is not None and not archives.holds(
        m.repo, m.common_dir, m.path, m.label, ref, **_fresh_archive_input(m, interrupted)
    ):
        raise BuildersError(f"it changed after its work was saved in {ref}; nothing of it was deleted")
    forced = ref is not None or m.has_submodules or (force and (m.locked or interrupted))
    git.remove_worktree(m.repo, m.path, force=forced, locked=m.locked)


def _fresh_archive_input(m: Member, interrupted: bool) -> dict[str, Any]:
    """What an archive of the member would hold now: the judge's look again, on a fresh member."""
    now = Member(m.label, m.repo, m.common_dir, m.path, m.branch, m.locked, m.head, m.elsewhere)
    check(now, interrupted)
    if now.blockers:  # what no archive can hold (a repository made in it since): never deleted
        raise BuildersError(f"{'; '.join(now.blockers)}; nothing of it was deleted")
    return {"store": now.store, "drop": now.drop, "gitlinks": now.gitlinks}


def _remove_members(
    ws: Workspace,
    path: Path,
    members: list[Member],
    saved: dict[str, str],
    force: bool,
    interrupted: bool,
    then: Callable[[Member], None] | None,
) -> None:
    """Remove the nested worktrees (each followed by `then(it)`, in its own thread), then the builder."""
    nested = [m for m in members if m.label != ROOT]

    def take(m: Member) -> None:
        with repository_lock(m.common_dir):
            _remove_worktree(m, saved, force, interrupted)
        output.say(f"  {m.label}: removed {REPOS}/{m.label}")
        faults.point(f"remove:nested:{m.label}")
        if then is not None:
            then(m)

    parallel.raise_failures(
        (
            m,
            BuildersError(
                f"could not remove {m.path}: {error}; the builder itself was left in place",
                f"look at it, then run again: {output.command('builders', 'remove', path.name)}",
            ),
        )
        for m, error in parallel.failures(parallel.each(nested, take))
    )
    top = next((m for m in members if m.label == ROOT), None)
    if top is None:
        return
    # Never `git worktree remove` a builder that still holds anything under repos/ (it would go silently).
    leftover = path / REPOS
    if leftover.is_dir():
        for folder, dirs, files in os.walk(leftover, topdown=False):
            if files or any(Path(folder, d).is_symlink() for d in dirs):
                raise BuildersError(
                    f"{leftover} is not empty; the builder was left in place",
                    f"look: {output.command('ls', '-la', folder)}",
                )
            for d in dirs:
                Path(folder, d).rmdir()
        leftover.rmdir()
    with repository_lock(ws.common_dir):
        try:
            _remove_worktree(top, saved, force, interrupted)
        except BuildersError as exc:
            raise BuildersError(
                f"could not remove {path}: {exc.message}",
                f"look at it, then run again: {output.command('builders', 'remove', path.name)}",
            ) from exc
    output.say(f"  root: removed {path}")


def _already_removed(ws: Workspace, record: BuilderState | None, members: list[Member]) -> list[Member]:
    """Worktrees the state records that are gone already (an interrupted removal took them): their
    branches still need the same clean-up as the others'."""
    if record is None:
        return []
    present = {m.label for m in members}
    gone = []
    if ROOT not in present:
        gone.append(Member(ROOT, ws.root, ws.common_dir, Path(record.path), record.branch, False))
    for repo in record.repos:
        clone = ws.clone(repo.name)
        if repo.name not in present and (clone / ".git").exists():
            gone.append(Member(repo.name, clone, clone / ".git", Path(repo.path), repo.branch, False))
    return gone


def clean_branches(
    ws: Workspace,
    name: str,
    members: list[Member],
    record: BuilderState | None,
    cleaned: dict[str, str | BaseException | None] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Delete each of the builder's own branches whose every commit another ref holds; report the
    ones kept, and why. `cleaned`: the members (by label) whose branch was cleaned already, and how."""
    done = dict(cleaned or {})
    todo = [m for m in members if m.branch and m.label not in done]
    for m, outcome in parallel.each(todo, lambda m: clean_branch(ws, name, m, record)):
        done[m.label] = outcome
    deleted: list[str] = []
    kept: dict[str, str] = {}
    for m in members:
        if not m.branch or m.label not in done:
            continue
        outcome = done[m.label]
        if isinstance(outcome, BaseException):
            kept[m.label] = f"{m.branch} (could not check it: {outcome})"
        elif outcome is None:
            deleted.append(f"{m.label}: {m.branch}")
        else:
            kept[m.label] = outcome
    return deleted, kept


def clean_branch(ws: Workspace, name: str, m: Member, record: BuilderState | None) -> str | None:
    """Delete the member's branch if the judge allows: None when deleted or gone; else why it is kept."""
    assert m.branch is not None
    kept, tip = branch_kept_because(ws, name, m, record, _base_of(m, record)[1])
    if kept is not None or tip is None:
        return kept
    if not git.delete_branch_at(m.repo, m.branch, tip):
        ref = f"refs/heads/{m.branch}"
        now = git.resolve_commits(m.repo, [ref])[ref]
        if now is None:
            return None  # someone else deleted it meanwhile
        if now == tip:  # git refused (a lock on the ref, say): say so rather than guess
            delete = output.command("git", "-C", m.repo, "branch", "-d", m.branch)
            return f"{m.branch} (git could not delete it: kept; try: {delete})"
        return f"{m.branch} (it moved while being removed: kept)"
    return None


def _clean_into(
    cleaned: dict[str, str | BaseException | None],
    ws: Workspace,
    name: str,
    record: BuilderState | None,
    m: Member,
) -> None:
    """clean_branch, its outcome (an exception too, as clean_branches takes it) kept in `cleaned`."""
    if m.branch is None:
        return
    try:
        cleaned[m.label] = clean_branch(ws, name, m, record)
    except Exception as exc:
        cleaned[m.label] = exc


def _base_of(m: Member, record: BuilderState | None) -> tuple[str | None, str | None]:
    if record is None:
        return None, None
    if m.label == ROOT:
        return record.base_commit, record.base_ref
    repo = record.repo(m.label)
    return (repo.base_commit, repo.base_ref) if repo else (None, None)


def _record(
    ws: Workspace, name: str, record: BuilderState | None, members: list[Member], earlier: dict[str, object] | None
) -> dict[str, object]:
    """The removal record, written before anything is deleted (`complete` false until the end)."""
    refs = earlier.get("archive_refs") if earlier else None
    archived: dict[str, str] = {str(k): str(v) for k, v in refs.items()} if isinstance(refs, dict) else {}
    for m in members:
        if m.archive_ref:
            label = m.label if m.label not in archived else f"{m.label}@{m.archive_ref.rpartition('/')[2]}"
            archived[label] = f"{m.repo} {m.archive_ref}"
    trees = earlier.get("worktrees") if earlier else None
    worktrees: dict[str, object] = dict(trees) if isinstance(trees, dict) else {}
    for m in members:
        base_commit, base_ref = _base_of(m, record)
        entry: dict[str, object] = {
            "repo": str(m.repo),
            "path": str(m.path),
            "branch": m.branch,
            "head": m.head or git.head_commit(m.path),
            "base_ref": base_ref,
            "base_commit": base_commit,
        }
        kept = record.repo(m.label) if record is not None and m.label != ROOT else None
        if kept is not None and kept.sparse is not None:
            entry["sparse"] = list(kept.sparse)  # `restore` makes it sparse again
        worktrees[m.label] = entry
    return {
        "name": name,
        "removed_at": str(earlier["removed_at"]) if earlier else state.now(),
        "archive_refs": archived,
        "kept_branches": {},
        "worktrees": worktrees,
        "copied": list(record.copied) if record else [],
        "complete": False,
    }


def _finish_closed(ws: Workspace, name: str, keep_branches: bool, dry_run: bool, as_json: bool) -> None:
    """A builder whose folder and state are gone (deleted by hand, then closed by prune, which
    recorded it) may still have its branches: delete those the judge allows, keep the others, and
    record it."""
    own = ws.branch(name)
    if not any(r.get("name") == name for r in removal_records.removals(ws)):
        raise _builder_path_hint(ws, name)  # no record of such a builder: its branch name proves nothing
    candidates = [(ROOT, ws.root, ws.common_dir)] + [(c.name, c, c / ".git") for c in ws.clones()]
    members = []
    for label, repo, common_dir in candidates:
        ref = f"refs/heads/{own}"
        tip = git.resolve_commits(repo, [ref])[ref]
        if tip is not None:
            members.append(Member(label, repo, common_dir, ws.builder_path(name), own, False, tip))
    if not members:
        raise _builder_path_hint(ws, name)
    if dry_run:
        verdicts = {m.label: branch_kept_because(ws, name, m, None, None)[0] for m in members}
        if as_json:
            would_delete = [f"{label}: {own}" for label, why in verdicts.items() if why is None]
            would_keep = {label: why for label, why in verdicts.items() if why is not None}
            plan: dict[str, object] = {"deleted": would_delete, "kept": would_keep}
            _show(name, ws.builder_path(name), [], plan, dry_run=True, as_json=True)
        else:
            output.result(f"plan to finish closed builder {name} (dry run: nothing changed)")
            for label, why in verdicts.items():
                output.result(f"  {label}: {why or f'{own} would be deleted'}")
        return
    if keep_branches:
        deleted: list[str] = []
        kept = {m.label: f"{own} (--keep-branches)" for m in members}
    else:
        deleted, kept = clean_branches(ws, name, members, None)
    document = {
        "name": name,
        "removed_at": state.now(),
        "archive_refs": {},
        "kept_branches": kept,
        "worktrees": {
            m.label: {"repo": str(m.repo), "path": str(m.path), "branch": own, "head": m.head} for m in members
        },
        "complete": True,
    }
    removal_records.begin(ws, name, document)
    if as_json:  # the remove document, with no worktree left to judge
        _show(name, ws.builder_path(name), [], {"deleted": deleted, "kept": kept}, dry_run=False, as_json=True)
        return
    output.result(f"closed builder {name} finished: its branches were judged")
    for line in deleted:
        output.result(f"  deleted branch in {line}")
    for label, why in kept.items():
        output.result(f"  kept branch in {label}: {why}")


def _show(
    name: str,
    path: Path,
    members: list[Member],
    branches: dict[str, object],
    dry_run: bool,
    as_json: bool,
    removed: bool | None = None,
) -> None:
    if as_json:
        output.json_document(
            {
                "name": name,
                "path": str(path),
                "dry_run": dry_run,
                "removed": not dry_run if removed is None else removed,
                "worktrees": [m.as_json() for m in members],
                "branches": branches,
            }
        )
        return
    if dry_run:
        output.result(f"plan to remove builder {name} (dry run: nothing changed)")
        rows = [
            [m.label, str(m.path), m.branch or "(detached)", "; ".join(m.blockers + m.problems) or "ok"]
            for m in members
        ]
        output.result(output.table(rows, ["worktree", "path", "branch", "check"]))
        return
    output.result(f"builder {name} removed")
    kept = branches.get("kept") or {}
    if isinstance(kept, dict):
        for label, why in kept.items():
            output.result(f"  kept branch in {label}: {why}")


def delete_trash_entry(entry: Path) -> None:
    """Delete a trashed builder whose work `prune --empty-trash` has judged and archived."""
    import shutil

    shutil.rmtree(entry)
