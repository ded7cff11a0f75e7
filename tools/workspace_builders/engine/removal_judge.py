"""What removing a worktree would lose, asked of git in ways no user config can hide.

For each worktree of a builder: every change (untracked files one by one whatever
`status.showUntrackedFiles` says, submodules never ignored), edits that skip-worktree or
assume-unchanged hide from `status`, nested repositories anywhere (ignored folders too), submodules'
own changes and commits not on their remote-tracking refs (their git dir goes with the worktree),
a lock, and commits only the HEAD reflog (or the worktree's own refs) reaches whose change is on no
ref (a rebase or amend leaves copies whose patch is on a branch, a squash one commit on a branch whose
change is the whole line's: those are not work). Then, for each branch, whether deleting it loses a
commit. The removal engine (removal.py) acts only on what this module found.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from workspace_builders.base import output, parallel
from workspace_builders.base.errors import BuildersError
from workspace_builders.gitlayer import git, links
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import REPOS, ROOT, Workspace

SHOWN = 5
# How many commits of kept refs, past where the unreached ones fork off, are compared by patch.
PATCH_WINDOW = 5000


@dataclass
class Member:
    """One worktree of the builder: the builder itself, or a nested repo worktree."""

    label: str
    repo: Path  # the repository's main worktree (the root, or a clone)
    common_dir: Path
    path: Path
    branch: str | None  # short name; None when detached
    locked: bool
    head: str | None = None  # as listed when the builder was looked at (detached); None: check() asks git
    elsewhere: bool | None = None  # its branch is checked out in another worktree; None: ask git
    problems: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)  # what even --force cannot save
    needs_archive: bool = False
    archive_ref: str | None = None
    ignored: list[str] = field(default_factory=list)  # deleted with it, never archived; a folder ends in '/'
    reflog_only: list[str] = field(default_factory=list)  # tips of work only the HEAD reflog reaches
    store: list[str] = field(default_factory=list)  # paths whose bytes on disk the archive must hold
    drop: list[str] = field(default_factory=list)  # index entries whose file is gone from disk
    gitlinks: dict[str, str] = field(default_factory=dict)  # submodule path -> its HEAD, where it moved
    has_submodules: bool = False  # `git worktree remove` then needs --force, once they are judged safe
    changed: list[str] = field(default_factory=list)  # what was named, for comparing two looks

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


def recovery_command(m: Member) -> str:
    return output.command("git", "-C", m.repo, "worktree", "add", "--detach", m.path, m.archive_ref or "")


def find_members(ws: Workspace, path: Path) -> list[Member]:
    """The nested repo worktrees (from what is on disk, not from state), then the builder itself.

    Anything under repos/ that is not a registered worktree is a blocker: it is not ours to delete.
    Each worktree's entry is read from its own admin dir (`git worktree list` resolves the HEAD of
    every worktree of the repository: at a thousand builders, more than the rest of a removal); git
    lists them only where the link does not hold at both ends.
    """
    builder = links.entry_of(path, ws.common_dir)
    elsewhere: bool | None = None
    if builder is None:
        listed = git.worktrees(ws.root)
        builder = next((w for w in listed if w.path == path), None)
        if builder is not None:
            elsewhere = _elsewhere(builder, listed)
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
    if elsewhere is None and builder.branch is not None:
        elsewhere = links.checked_out_anywhere(ws.common_dir, builder.branch, path)
    top = Member(
        ROOT,
        ws.root,
        ws.common_dir,
        path,
        builder.short_branch,
        builder.locked,
        builder.head,
        elsewhere,
    )
    if stray:
        top.blockers.append(f"{', '.join(stray)}: not a worktree this toolkit can remove (move it out first)")
    return [*members, top]


def _nested_member(entry: Path) -> Member | None:
    common_dir = links.common_dir_named_by(entry)
    registered = links.entry_of(entry, common_dir) if common_dir is not None else None
    if common_dir is None or registered is None or common_dir.name != ".git":
        return _nested_member_listed(entry)
    main = common_dir.parent
    elsewhere = registered.branch is not None and links.checked_out_anywhere(common_dir, registered.branch, entry)
    return Member(
        entry.name, main, common_dir, entry, registered.short_branch, registered.locked, registered.head, elsewhere
    )


def _nested_member_listed(entry: Path) -> Member | None:
    """A nested worktree as `git worktree list` has it: for a link that does not hold at both ends, or
    a clone with a separate git dir."""
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


def _shown(paths: list[str]) -> str:
    more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
    return ", ".join(paths[:SHOWN]) + more


def check(m: Member, interrupted: bool = False) -> None:
    """Fill in what removing this worktree would lose, and what an archive of it must hold.

    `interrupted`: a removal that was stopped judged it already; files it deleted since are not work."""
    if not m.path.is_dir():
        return
    # Three questions of git, side by side; on a failure the others are waited for all the same.
    indexed, looked, refs_read = (
        git.index_entries_started(m.path),
        git.look_at_worktree_started(m.path),
        git.refs_seen_started(m.path),
    )
    try:
        entries, look, seen = indexed(), looked(), refs_read()
    except Exception:
        for wait in (looked, refs_read):
            with contextlib.suppress(Exception):
                wait()
        raise
    gitlinks = {e.path for e in entries if e.mode == git.GITLINK}
    m.has_submodules = bool(gitlinks)
    m.head = m.head or look.head
    changes = [c for c in look.changes if c[3:] not in gitlinks and not (interrupted and c[1] == "D")]
    # git lists an untracked folder only when it holds a repository of its own (`.git` folder or file).
    repositories = [c[3:].rstrip("/") for c in changes if c.startswith("??") and c.endswith("/")]
    named = [c[3:] for c in changes if not c.endswith("/")]
    for path in named:
        (m.store if os.path.lexists(m.path / path) and not (m.path / path).is_dir() else m.drop).append(path)
    if named:
        m.problems.append(f"{len(named)} uncommitted or untracked: {_shown(named)}")
    hidden = _hidden_edits(m, [e for e in entries if e.hidden and e.mode != git.GITLINK])
    if hidden:
        m.problems.append(
            f"{len(hidden)} edited but hidden from git status (skip-worktree/assume-unchanged): {_shown(hidden)}"
        )
    _check_submodules(m, {e.path: e.blob for e in entries if e.mode == git.GITLINK})
    _check_history(m, seen)
    m.needs_archive = bool(m.store or m.drop or m.gitlinks or m.reflog_only or _detached_work(m))
    if m.locked:
        m.problems.append(f"locked (see: {output.command('git', '-C', m.repo, 'worktree', 'list', '--verbose')})")
    # The builder's repos/ holds the nested worktrees, each a member with its own ignored entries.
    m.ignored = [e for e in look.ignored if m.label != ROOT or not (e.rstrip("/") + "/").startswith(f"{REPOS}/")]
    nested = repositories + _repositories_in_ignored_folders(m)
    if nested:
        m.blockers.append(
            f"{', '.join(nested)}: a git repository or worktree inside the worktree (removal would delete it and its"
            " commits, and no archive can hold it: move it out first)"
        )
    m.changed = [*named, *hidden, *nested]


def _detached_work(m: Member) -> bool:
    return any(p.startswith("detached HEAD") for p in m.problems)


def _hidden_edits(m: Member, hidden: list[git.IndexEntry]) -> list[str]:
    """Skip-worktree and assume-unchanged files that differ from the index on disk (or, assumed
    unchanged, are gone): `status` does not look at them, removal would delete them all the same."""
    edited, gone = git.hidden_edits(m.path, hidden)
    m.store += edited
    m.drop += gone
    return edited + gone


def _check_submodules(m: Member, gitlinks: dict[str, str]) -> None:
    """A submodule's git dir lives in the worktree's admin dir and goes with it: its own changes and
    its commits that no remote-tracking ref has would be lost, and an archive cannot hold them."""
    for path, recorded in sorted(gitlinks.items()):
        sub = m.path / path
        if not (sub / ".git").exists():
            continue  # not checked out: nothing of it is here
        dirt = git.every_change(sub)
        unpushed = git.unpushed_in_submodule(sub)
        if dirt:
            m.blockers.append(
                f"submodule {path}: {len(dirt)} uncommitted or untracked: {_shown([d[3:] for d in dirt])}"
            )
        if unpushed:
            m.blockers.append(f"submodule {path}: {unpushed} commit(s) on no remote-tracking ref (push them first)")
        head = git.head_commit(sub)
        if head is not None and head != recorded:
            m.gitlinks[path] = head


def _check_history(m: Member, seen: git.RefsSeen) -> None:
    """Commits that only this worktree's HEAD (detached), HEAD reflog or own refs (refs/worktree/,
    refs/bisect/...) reach: removal deletes them all.

    A commit whose patch is on a ref already (the copy a rebase or an amend left behind, or a commit
    landed by cherry-pick), or a line of them whose whole change is one commit on a ref (landed as a
    squash), or one whose tree a ref's commit has, is not work; the others are, each named by what
    the reflog says made it."""
    head = m.head or git.head_commit(m.path)
    logged = git.head_reflog(m.path, _own_git_dir(m))
    # Seen from the worktree: its own refs with the shared ones. The main worktree's own refs are
    # not among those, so what only they reach counts as work here: the careful side.
    own, refs = dict(seen.own), seen.tips
    if seen.own_tags_of_tags:  # seldom: one more question, for the commit each of those names at last
        peeled = git.resolve_commits(m.repo, list(seen.own_tags_of_tags.values()))
        own.update({ref: c for ref, tag in seen.own_tags_of_tags.items() if (c := peeled[tag]) is not None})
    tips = list(dict.fromkeys([*([head] if head else []), *(entry.commit for entry in logged), *own.values()]))
    if set(tips) <= set(refs):  # every tip is a ref's commit (a builder that never left its branch)
        return
    unreached = git.commits_no_ref_reaches(m.repo, tips, refs)
    if not unreached:
        return
    work = _patches_nowhere_else(m.repo, unreached, tips, refs)
    if not work:
        return
    tip_commits = git.independent(m.repo, work)
    detached = head in work and git.is_detached(m.path)
    if detached:
        m.problems.append(f"detached HEAD with commits no ref reaches ({len(work)} commit(s))")
    left = [c for c in tip_commits if not (detached and git.is_ancestor(m.repo, c, head or c))]
    if left:
        made_by = {entry.commit: entry.action for entry in reversed(logged)}
        made_by.update({commit: f"its ref {ref}" for ref, commit in own.items()})
        shown = "; ".join(f"{c[:10]} ({made_by.get(c, 'reached from the reflog')})" for c in left[:SHOWN])
        reach = "this worktree's own refs or HEAD reflog reach" if own else "the HEAD reflog reaches"
        m.problems.append(f"{len(left)} commit tip(s) only {reach}, with changes on no branch: {shown}")
    m.reflog_only = [c for c in tip_commits if c != head]


def _own_git_dir(m: Member) -> Path | None:
    """The worktree's own git dir (where its HEAD and HEAD reflog are), when its link proves it; else
    None (git is asked)."""
    dot_git = m.path / ".git"
    if dot_git.is_dir() and not dot_git.is_symlink():
        return dot_git if dot_git.resolve() == m.common_dir.resolve() else None
    link = links.link_of(m.path, m.common_dir)
    return link.admin if link.whole else None


def _patches_nowhere_else(repo: Path, unreached: list[str], tips: list[str], refs: list[str]) -> list[str]:
    """Those of `unreached` whose change no ref holds (compared by `git patch-id --stable`)."""
    # Copies are on the refs past where the unreached commits fork off; past the oldest of those
    # forks, as a copy may sit below a newer fork (a landed commit, then work made on top of it).
    bottom = git.octopus_base(repo, git.fork_points(repo, tips, refs))
    # A copy is made after its original (a rebase, an amend, a cherry-pick set the committer time
    # anew): older commits need no comparing. A day of slack for clocks that disagree.
    not_before = git.oldest_commit_time(repo, unreached) - 86400
    kept = git.commits_since(repo, refs, [bottom] if bottom else [], PATCH_WINDOW, not_before)
    elsewhere = set(git.patch_ids(repo, kept).values())
    mine = git.patch_ids(repo, unreached)
    parents = git.parents_of(repo, unreached)
    work: set[str] = set()
    for commit in reversed(unreached):  # oldest first: a merge's parents are decided before it
        patch = mine.get(commit)
        if patch is not None:
            if patch not in elsewhere:
                work.add(commit)
        elif len(parents.get(commit, [])) < 2 or any(p in work for p in parents[commit]):
            work.add(commit)  # no patch of its own: an empty commit is work, a merge is its parents'
    forked = {tip: git.fork_points(repo, [tip], refs) for tip in git.independent(repo, sorted(work))} if work else {}
    lines = {tip: forks[0] for tip, forks in forked.items() if len(forks) == 1}  # tip -> where it forks off
    trees = git.trees_of(repo, list(dict.fromkeys([*lines, *lines.values(), *kept, *refs]))) if lines else {}
    on_refs = {trees[c] for c in [*kept, *refs] if c in trees}
    for tip, fork in lines.items():
        # A line of commits landed as one: their change taken together is one commit of a ref (a
        # squash), or the tip's tree, a change from the fork's, is a ref's commit's (a squash made
        # on a base that moved meanwhile). A line that changes nothing in the end is work.
        changed = trees.get(tip) != trees.get(fork)
        landed = changed and tip in mine and trees.get(tip) in on_refs
        if changed and not landed:
            landed = git.span_patch_ids(repo, [(fork, tip)]).get(tip) in elsewhere
        if landed:
            work -= set(git.commits_no_ref_reaches(repo, [tip], refs))
    return [c for c in unreached if c in work]


def _repositories_in_ignored_folders(m: Member) -> list[str]:
    """Repositories and worktrees inside this worktree's ignored folders: status does not look
    there, and `git worktree remove` deletes them with everything else that is ignored."""
    found: list[str] = []
    for entry in m.ignored:
        if not entry.endswith("/"):
            continue  # a file
        for folder, dirs, files in os.walk(m.path / entry.rstrip("/")):
            if ".git" in dirs or ".git" in files:
                found.append(Path(folder).relative_to(m.path).as_posix())
                dirs[:] = []
            else:
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return found


def repositories_inside(folder: Path, label: str) -> list[str]:
    """Every folder inside `folder` (ignored ones too) with a `.git` of its own: for a worktree whose
    link to its repository is gone, where git cannot be asked. The builder's repos/ is left out."""
    found: list[str] = []
    for here, dirs, files in os.walk(folder):
        if Path(here) != folder and (".git" in dirs or ".git" in files):
            found.append(Path(here).relative_to(folder).as_posix())
            dirs[:] = []
            continue
        skip = {".git", REPOS} if Path(here) == folder and label == ROOT else {".git"}
        dirs[:] = [d for d in dirs if d not in skip and not os.path.islink(os.path.join(here, d))]
    return found


# --- branches ------------------------------------------------------------------------------------


def own_branch(ws: Workspace, name: str, label: str, record: BuilderState | None) -> str:
    """The branch the builder made in this worktree: its state's, else `<prefix><name>`."""
    if record is not None:
        if label == ROOT:
            return record.branch
        repo = record.repo(label)
        if repo is not None:
            return repo.branch
    return ws.branch(name)


def branch_kept_because(
    ws: Workspace, name: str, m: Member, record: BuilderState | None, base_ref: str | None
) -> tuple[str | None, str | None]:
    """(why the member's branch must stay, or None; the tip it may be deleted at)."""
    assert m.branch is not None
    if m.branch != own_branch(ws, name, m.label, record):
        return f"{m.branch} (not made by this builder: kept)", None
    ref = f"refs/heads/{m.branch}"
    # The tip the judge saw checked out; the branch is deleted only while it is still there
    # (git.delete_branch_at), so one that moved since is kept.
    tip = m.head if m.head is not None else git.resolve_commits(m.repo, [ref])[ref]
    if tip is None:
        return None, None
    elsewhere = m.elsewhere if m.elsewhere is not None else any(w.branch == ref for w in git.worktrees(m.repo))
    if elsewhere:
        return f"{m.branch} (checked out elsewhere)", None
    holders = [r for r in git.containing_refs(m.repo, tip, ["refs/heads/", "refs/remotes/", "refs/tags/"]) if r != ref]
    if holders:
        return None, tip
    landed = (
        base_ref is not None
        and git.resolve_commits(m.repo, [base_ref])[base_ref] is not None
        and git.is_ancestor(m.repo, tip, base_ref)
    )
    if not landed:
        return f"{m.branch} (has commits no other branch has: it is kept)", None
    return None, tip
