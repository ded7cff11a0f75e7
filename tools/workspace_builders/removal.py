"""Removing a builder without ever losing work: the engine behind `builders remove` (and `land --remove`).

`git worktree remove` on a builder silently deletes everything under its ignored `repos/`, nested
worktrees with uncommitted work included. So: guard the path, check every worktree of the builder,
refuse when anything would be lost (or, with --force, first save it under an archive ref), remove
the nested worktrees through their own repositories, and only then the builder. Branches are deleted
only when nothing is on them that their base does not already have.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from workspace_builders import archive as archives
from workspace_builders import builder_scripts, faults, git, output, parallel, state
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.locks import builder_lock, repository_lock
from workspace_builders.names import check_builder_name, closest
from workspace_builders.state import BuilderState
from workspace_builders.workspace import REPOS, ROOT, Workspace, discover

ARCHIVE_PREFIX = archives.PREFIX


@dataclass
class Member:
    """One worktree of the builder: the builder itself, or a nested repo worktree."""

    label: str
    repo: Path  # the repository's main worktree (the root, or a clone)
    common_dir: Path
    path: Path
    branch: str | None  # short name; None when detached
    locked: bool
    head: str | None = None  # as listed when the builder was looked at; None: ask git
    elsewhere: bool | None = None  # its branch is checked out in another worktree; None: ask git
    problems: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)  # what even --force cannot save
    needs_archive: bool = False
    archive_ref: str | None = None
    ignored: list[str] = field(default_factory=list)  # deleted with it, never archived; a folder ends in '/'
    reflog_only: list[str] = field(default_factory=list)  # commits only its HEAD reflog reaches

    def as_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "repo": str(self.repo),
            "path": str(self.path),
            "branch": self.branch,
            "problems": self.blockers + self.problems,
            "archive_ref": self.archive_ref,
            "recovery": recovery_command(self) if self.archive_ref else None,
            "ignored": self.ignored,
        }


def remove(start: Path, name: str, force: bool, keep_branches: bool, dry_run: bool, as_json: bool) -> int:
    ws = discover(start).workspace
    check_builder_name(name)
    with builder_lock(ws, name):
        record = state.load(ws, name)
        path = _builder_path(ws, name, record)
        guard(ws, path, recorded=record is not None)
        members = find_members(ws, path) if path.is_dir() else []
        for _, outcome in parallel.each(members, check):
            if isinstance(outcome, BaseException):
                raise outcome
        at_risk = [m for m in members if m.problems]
        blocked = [m for m in members if m.blockers]
        refused = bool(blocked) or (bool(at_risk) and not force)
        if dry_run:
            _warn_ignored(path, members, record, dry_run=True)
            _show(name, path, members, {}, dry_run=True, as_json=as_json)
            return 1 if refused else 0
        if refused:
            for m in members:
                if m.blockers or m.problems:
                    output.say(f"  {m.label} ({m.path}): {'; '.join(m.blockers + m.problems)}")
            hint = (
                f"move what is named out of {path}, then run again: builders remove {name}"
                if blocked
                else f"commit or move it, or archive it and remove anyway: builders remove {name} --force"
            )
            raise BuildersError(f"builder {name!r} has work that removal would lose; nothing was changed", hint)
        _warn_ignored(path, members, record, dry_run=False)
        if record is not None:
            record.status = state.REMOVING
            state.save(ws, record)
        faults.point("remove:state-saved")
        stamp = archives.stamp()
        for m in at_risk:
            if m.needs_archive:
                archive(ws, name, m, stamp)
                faults.point(f"remove:archived:{m.label}")
        if path.is_dir():
            _run_archive_script(ws, name, path, record)
        branches = {m.label: m.branch for m in members if m.branch}
        _remove_members(ws, path, members, force)
        faults.point("remove:worktrees")
        gone = _already_removed(ws, record, members)
        branches.update({m.label: m.branch for m in gone if m.branch})
        if keep_branches:
            deleted: list[str] = []
            kept = {label: f"{branch} (--keep-branches)" for label, branch in branches.items()}
        else:
            deleted, kept = _clean_branches(ws, [*members, *gone], record)
        faults.point("remove:branches")
        _close_state(ws, name, record, members, kept)
        _show(name, path, members, {"deleted": deleted, "kept": kept}, dry_run=False, as_json=as_json)
    if start.resolve().is_relative_to(path):
        output.say(f"note: you are inside the builder being removed; after it, cd to the root: cd {ws.root}")
    return 0


def _builder_path(ws: Workspace, name: str, record: BuilderState | None) -> Path:
    path = state.path_of(ws, name, record)
    if record is not None:
        return path
    if os.path.lexists(path) or any(w.path == path for w in git.worktrees(ws.root)):
        return path
    match = closest(name, state.builder_names(ws))
    hint = f"did you mean {match!r}? builders remove {match}" if match else None
    raise bad_input(f"no builder named {name!r}", hint or f"see the builders there are: ls {ws.builders_dir}")


def guard(ws: Workspace, path: Path, recorded: bool) -> None:
    """Refuse any path that removal could turn into a disaster (Orca's guards, and a few more)."""

    def refuse(why: str, hint: str = "check the builder's path; nothing was changed") -> BuildersError:
        return BuildersError(f"refusing to remove {str(path) or '(empty path)'}: {why}", hint)

    if not str(path) or not path.is_absolute() or path == Path(path.anchor):
        raise refuse("not a builder path")
    if path.is_symlink() or os.path.realpath(path) != str(path):
        raise refuse("a component of the path is a symlink", f"look at it: ls -la {path}")
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


def find_members(ws: Workspace, path: Path) -> list[Member]:
    """The nested repo worktrees (from what is on disk, not from state), then the builder itself.

    Anything under repos/ that is not a registered worktree is a problem: it is not ours to delete.
    """
    listed = git.worktrees(ws.root)
    builder = next((w for w in listed if w.path == path), None)
    if builder is None:
        raise BuildersError(
            f"{path} is not a registered worktree of {ws.root}",
            "if it was a builder whose admin entry is gone, run: builders prune (it moves it to the trash)",
        )
    stray: list[str] = []
    candidates = []
    nested = path / REPOS
    if nested.is_dir() and not nested.is_symlink():
        for entry in sorted(nested.iterdir()):
            if (entry / ".git").is_file() and not entry.is_symlink():
                candidates.append(entry)
            else:
                stray.append(f"{REPOS}/{entry.name}")
    members = []
    for entry, outcome in parallel.each(candidates, _nested_member):
        if isinstance(outcome, Member):
            members.append(outcome)
        else:
            stray.append(f"{REPOS}/{entry.name}")
    top = Member(
        ROOT,
        ws.root,
        ws.common_dir,
        path,
        builder.short_branch,
        builder.locked,
        builder.head,
        _elsewhere(builder, listed),
    )
    if stray:
        top.blockers.append(f"{', '.join(stray)}: not a worktree this toolkit can remove (move it out first)")
    return [*members, top]


def _nested_member(entry: Path) -> Member | None:
    listed = git.worktrees(entry)  # one call: the repository's main worktree first, then this one
    registered = next((w for w in listed[1:] if w.path == entry), None)
    if registered is None:
        return None
    main = listed[0].path
    common_dir = main / ".git"
    if not common_dir.is_dir():  # a clone with a separate git dir
        found = git.locate(entry)
        if found is None:
            return None
        common_dir = found.common_dir
    return Member(
        entry.name,
        main,
        common_dir,
        entry,
        registered.short_branch,
        registered.locked,
        registered.head,
        _elsewhere(registered, listed),
    )


def _elsewhere(worktree: git.Worktree, listed: list[git.Worktree]) -> bool:
    return worktree.branch is not None and any(w.branch == worktree.branch for w in listed if w != worktree)


def check(m: Member) -> None:
    """Fill in what removing this worktree would lose."""
    if not m.path.is_dir():
        return
    changed = git.status_entries(m.path)
    if changed:
        shown = ", ".join(entry[3:] for entry in changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        m.problems.append(f"{len(changed)} uncommitted or untracked: {shown}")
        m.needs_archive = True
    if m.branch is None and not git.reachable_from_a_ref(m.path):
        m.problems.append("detached HEAD with commits no ref reaches")
        m.needs_archive = True
    m.reflog_only = git.reflog_only_commits(m.path)
    if m.reflog_only:
        m.problems.append(
            f"commits only its HEAD reflog reaches (made on a detached HEAD, then left): {len(m.reflog_only)} tip(s)"
        )
        m.needs_archive = True
    if m.locked:
        m.problems.append(f"locked (see: git -C {m.repo} worktree list --verbose)")
    ignored = git.ignored_entries(m.path)
    # The builder's repos/ holds the nested worktrees, each a member with its own ignored entries.
    m.ignored = [e for e in ignored if m.label != ROOT or not (e.rstrip("/") + "/").startswith(f"{REPOS}/")]
    hidden = _hidden_repositories(m)
    if hidden:
        m.blockers.append(
            f"{', '.join(hidden)}: a repository or worktree in an ignored folder (removal would delete it unseen:"
            " move it out first)"
        )


def _hidden_repositories(m: Member) -> list[str]:
    """Repositories and worktrees inside this worktree's ignored folders: neither status nor archive
    sees them, and `git worktree remove` would delete them with everything else that is ignored."""
    found: list[str] = []
    for entry in m.ignored:
        relative = entry.rstrip("/")
        if not entry.endswith("/"):
            continue  # a file
        for folder, dirs, files in os.walk(m.path / relative):
            if ".git" in dirs or ".git" in files:
                found.append(os.path.relpath(folder, m.path))
                dirs[:] = []
            else:
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return found


SHOWN_IGNORED = 8


def _warn_ignored(path: Path, members: list[Member], record: BuilderState | None, dry_run: bool) -> None:
    """Name each worktree's ignored files and folders: removal deletes them and no archive holds them
    (a node_modules-sized folder would not fit). What copy-in brought from the root is left out: it
    can be copied again."""
    copied = set(record.copied) if record is not None else set()
    for m in members:
        prefix = "" if m.label == ROOT else f"{REPOS}/{m.label}/"
        named = [e for e in m.ignored if not _all_copied(path, prefix + e, copied)]
        if not named:
            continue
        shown = ", ".join(named[:SHOWN_IGNORED])
        more = f" (and {len(named) - SHOWN_IGNORED} more)" if len(named) > SHOWN_IGNORED else ""
        verb = "would be deleted" if dry_run else "deleted"
        output.say(f"warning: {m.label} ({m.path}): {verb} with the builder, not archived: {shown}{more}")


def _all_copied(path: Path, entry: str, copied: set[str]) -> bool:
    """Whether copy-in put every file of this ignored entry (relative to the builder) there."""
    if not entry.endswith("/"):
        return entry in copied
    if not any(c.startswith(entry) for c in copied):
        return False  # copy-in put nothing there: no need to look inside
    for folder, dirs, files in os.walk(path / entry):
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        dirs[:] = [d for d in dirs if d not in links]
        if any(Path(folder, f).relative_to(path).as_posix() not in copied for f in [*files, *links]):
            return False
    return True


def archive(ws: Workspace, name: str, m: Member, stamp: str) -> None:
    """Save the worktree's content under refs/builders/archive/<name>/<stamp> in its repository."""
    m.archive_ref = archives.save(
        m.repo, m.common_dir, m.path, name, m.label, stamp, "before removal", keep=m.reflog_only
    )
    output.say(f"  {m.label}: saved to {m.archive_ref}; get it back with: {recovery_command(m)}")


def recovery_command(m: Member) -> str:
    return f"git -C {m.repo} worktree add --detach {m.path} {m.archive_ref}"


def _run_archive_script(ws: Workspace, name: str, path: Path, record: BuilderState | None) -> None:
    script = ws.config.archive
    if not script:
        return
    repos = [r.name for r in record.repos] if record else []
    code = builder_scripts.run(ws, "archive", script, name, path, repos, record.ports if record else ())
    if code != 0:
        output.say(f"warning: the archive script failed with exit {code}; removing all the same")


def _remove_members(ws: Workspace, path: Path, members: list[Member], force: bool) -> None:
    nested = [m for m in members if m.label != ROOT]

    def take(m: Member) -> None:
        with repository_lock(m.common_dir):
            git.remove_worktree(m.repo, m.path, force=force, locked=m.locked)
        output.say(f"  {m.label}: removed {REPOS}/{m.label}")
        faults.point(f"remove:nested:{m.label}")

    for m, outcome in parallel.each(nested, take):
        if isinstance(outcome, BaseException):
            raise BuildersError(
                f"could not remove {m.path}: {outcome}; the builder itself was left in place",
                f"look at it, then run again: builders remove {path.name}",
            )
    top = next((m for m in members if m.label == ROOT), None)
    if top is None:
        return
    # Never `git worktree remove` a builder that still holds anything under repos/ (it would go silently).
    leftover = path / REPOS
    if leftover.is_dir():
        for folder, dirs, files in os.walk(leftover, topdown=False):
            if files or any(Path(folder, d).is_symlink() for d in dirs):
                raise BuildersError(f"{leftover} is not empty; the builder was left in place", f"look: ls -la {folder}")
            for d in dirs:
                Path(folder, d).rmdir()
        leftover.rmdir()
    with repository_lock(ws.common_dir):
        git.remove_worktree(ws.root, path, force=force, locked=top.locked)
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


def _clean_branches(
    ws: Workspace, members: list[Member], record: BuilderState | None
) -> tuple[list[str], dict[str, str]]:
    """Delete each builder branch that holds nothing its base lacks; report the ones kept."""

    def clean(m: Member) -> str | None:
        """None when deleted or gone; else why the branch is kept."""
        assert m.branch is not None
        base_commit, base_ref = _base_of(m, record)
        ref = f"refs/heads/{m.branch}"
        # What the builder was looked at with saves two git calls; the compare-and-delete below
        # keeps a branch that moved since.
        tip = m.head or git.resolve_commits(m.repo, [ref])[ref]
        if tip is None:
            return None
        elsewhere = m.elsewhere if m.elsewhere is not None else any(w.branch == ref for w in git.worktrees(m.repo))
        if elsewhere:
            return f"{m.branch} (checked out elsewhere)"
        merged = tip == base_commit or (base_ref is not None and git.is_ancestor(m.repo, tip, base_ref))
        if not merged and not git.on_another_branch(m.repo, tip, ref):
            return f"{m.branch} (has commits no other branch has: it is kept)"
        if not git.delete_branch_at(m.repo, m.branch, tip):
            now = git.resolve_commits(m.repo, [ref])[ref]
            if now is None:
                return None  # someone else deleted it meanwhile
            if now == tip:  # git refused (a lock on the ref, say): say so rather than guess
                return f"{m.branch} (git could not delete it: kept; try: git -C {m.repo} branch -d {m.branch})"
            return f"{m.branch} (it moved while being removed: kept)"
        return None

    deleted: list[str] = []
    kept: dict[str, str] = {}
    for m, outcome in parallel.each([m for m in members if m.branch], clean):
        if isinstance(outcome, BaseException):
            kept[m.label] = f"{m.branch} (could not check it: {outcome})"
        elif outcome is None:
            deleted.append(f"{m.label}: {m.branch}")
        else:
            kept[m.label] = outcome
    return deleted, kept


def _base_of(m: Member, record: BuilderState | None) -> tuple[str | None, str | None]:
    if record is None:
        return None, None
    if m.label == ROOT:
        return record.base_commit, record.base_ref
    repo = record.repo(m.label)
    return (repo.base_commit, repo.base_ref) if repo else (None, None)


def _close_state(
    ws: Workspace, name: str, record: BuilderState | None, members: list[Member], kept: dict[str, str]
) -> None:
    archives = {m.label: f"{m.repo} {m.archive_ref}" for m in members if m.archive_ref}
    worktrees: dict[str, dict[str, str | None]] = {}
    for m in members:
        base_commit, base_ref = _base_of(m, record)
        worktrees[m.label] = {
            "repo": str(m.repo),
            "path": str(m.path),
            "branch": m.branch,
            "head": m.head,
            "base_ref": base_ref,
            "base_commit": base_commit,
        }
    state.record_removal(ws, name, archives, kept, worktrees)
    state.delete(ws, name)


def _show(
    name: str, path: Path, members: list[Member], branches: dict[str, object], dry_run: bool, as_json: bool
) -> None:
    if as_json:
        output.json_document(
            {
                "name": name,
                "path": str(path),
                "dry_run": dry_run,
                "removed": not dry_run,
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
