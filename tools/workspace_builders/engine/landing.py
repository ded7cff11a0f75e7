"""Looking at a builder's worktrees for `status`, `sync`, `land` and `push`: each one's base branch,
tips, ahead/behind, changes and where its base is checked out; and the record of what landed.

Only reads: every git call here runs with GIT_OPTIONAL_LOCKS=0, so looking never takes (and a stop
never leaves) a worktree's index.lock. The moves are in landing_rebase (builder branches) and
landing_journal (bases); landing_transaction puts them together for `land`.

The base *branch* of a worktree is a local branch derived from its recorded base_ref (resolved in
its source repository, the root or the clone): a local branch is itself; `HEAD` is the branch the
source has checked out now; a remote-tracking ref (`origin/HEAD` resolved through its symref) is the
local branch of the same name. Anything else (a tag, a commit) cannot be landed on.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from workspace_builders.base import atomic_file, output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.gitlayer import git, links
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import ROOT, Location, Workspace


@dataclass
class Tree:
    """One worktree of a builder (its root worktree or a nested repo worktree), as it stands now."""

    label: str
    source: Path  # the repository's main worktree: the root or the clone
    path: Path  # the builder's worktree
    branch: str  # the builder branch (short name)
    base_ref: str  # as recorded at creation
    base_commit: str  # as recorded at creation: the branch holds work of its own once it is elsewhere
    common_dir: Path = Path()
    base_branch: str | None = None
    problem: str | None = None  # why this worktree cannot land (a sentence with its fix)
    head: str | None = None  # the builder branch's tip
    base_tip: str | None = None  # the base branch's tip now
    upstream: str | None = None  # the base branch's remote-tracking branch, e.g. origin/main
    upstream_track: str = ""  # git's "ahead 1, behind 2" of the base branch against it
    ahead: int = 0
    behind: int = 0
    changed: list[str] = field(default_factory=list)  # porcelain entries, untracked ones too
    off_branch: bool = False  # the worktree is not on its builder branch (detached, or another branch)
    base_checkout: Path | None = None  # the worktree where the base branch is checked out
    base_checkout_changes: list[str] = field(default_factory=list)  # its tracked files' changes
    base_rewritten: bool = False  # the base no longer holds base_commit, which the branch still does
    merge: str | None = None  # a merge commit of the branch's own (a rebase would flatten it)

    @property
    def untracked(self) -> list[str]:
        return [e[3:] for e in self.changed if e.startswith("??")]

    @property
    def modified(self) -> list[str]:
        return [e[3:] for e in self.changed if not e.startswith("??")]

    @property
    def base_ref_name(self) -> str:
        return f"refs/heads/{self.base_branch}"

    @property
    def branch_ref(self) -> str:
        return f"refs/heads/{self.branch}"


# --- finding the builder and its worktrees ------------------------------------------------------------


def builder_record(location: Location, name: str | None, command: str) -> BuilderState:
    """The state of builder `name`, or of the builder the command runs in; a ready one only."""
    record = state.named_or_here(location, name, f"builders {command} [NAME]")
    if record.status not in (state.READY, state.SETUP_FAILED):
        completes = state.completing_command(record) or f"builders verify {record.name}"
        raise BuildersError(f"builder {record.name!r} is {record.status}, not ready", f"complete it first: {completes}")
    return record


def trees_of(ws: Workspace, record: BuilderState) -> list[Tree]:
    """The builder's worktrees, root first, looked at in parallel; a failure to look is raised."""
    trees = [Tree(ROOT, ws.root, Path(record.path), record.branch, record.base_ref, record.base_commit)]
    trees += [Tree(r.name, ws.clone(r.name), Path(r.path), r.branch, r.base_ref, r.base_commit) for r in record.repos]
    failed = parallel.failures(parallel.each(trees, inspect))
    parallel.raise_failures(
        (
            tree,
            BuildersError(
                f"{tree.label}: could not look at {tree.path}: {error}",
                f"look at it: {output.command('git', '-C', tree.path, 'status')}"
                if tree.path.is_dir()
                else f"see what is wrong and its fix: builders verify {record.name}",  # a folder deleted by hand
            ),
        )
        for tree, error in failed
    )
    return trees


def inspect(tree: Tree) -> None:
    """Fill in the tree's base branch, tips, counts and changes."""
    if not tree.path.is_dir():
        raise BuildersError(f"{tree.path} is missing", "see what is wrong: builders verify")
    if tree.base_ref.startswith("-"):  # recorded refs are checked at creation; never read one as an option
        raise bad_input(f"{tree.label}: recorded base {tree.base_ref!r} is not a ref", "builders verify")
    if tree.base_ref.startswith("refs/heads/"):  # recorded in full, as creation records a branch
        tree.common_dir, full = git.common_dir_of(tree.source), tree.base_ref
    else:
        tree.common_dir, full = git.common_dir_and_ref(tree.source, tree.base_ref)
    tree.base_branch, tree.problem = _base_branch(tree, full)
    wait_look = git.branch_and_changes_started(tree.path, every_submodule=True)  # a rebase may move them
    refs = [tree.branch_ref] + ([tree.base_ref_name] if tree.base_branch else [])
    tree.head = tree.base_tip = None
    for ref, sha, upstream, track in git.ref_records(tree.source, refs):
        if ref == tree.branch_ref:
            tree.head = sha
        if ref == (tree.base_ref_name if tree.base_branch else None):
            tree.base_tip, tree.upstream, tree.upstream_track = sha, upstream or None, track
    look = wait_look()
    tree.changed = look.changes
    if tree.base_branch and tree.base_tip is None and tree.problem is None:
        tree.problem = f"its base branch {tree.base_branch} does not exist in {tree.source}"
    if tree.head is None:
        raise BuildersError(f"{tree.label}: branch {tree.branch} is gone from {tree.source}", "builders verify")
    tree.off_branch = look.branch != tree.branch
    if tree.off_branch and tree.problem is None:
        # Commits made there are on no builder branch: landing the branch would leave them behind.
        tree.problem = (
            f"{tree.path} is not on its branch {tree.branch} (a detached HEAD or another branch): what is "
            "committed there would not land; put it on the branch "
            f"({output.command('git', '-C', tree.path, 'switch', tree.branch)})"
        )
    where = links.checkout_of(tree.common_dir, tree.source, tree.base_ref_name) if tree.base_branch else None
    tree.base_checkout = where
    looked = git.head_and_tracked_changes(where, every_submodule=True) if where is not None else None
    tree.base_checkout_changes = looked.changes if looked is not None else []
    count(tree)


def count(tree: Tree) -> None:
    tree.base_rewritten, tree.merge = False, None
    if tree.base_tip is None or tree.head is None or tree.base_tip == tree.head:
        tree.ahead = tree.behind = 0
        return
    # Asked in the source repository, where the landing's checks under the locks ask again (an
    # answer about the same two commits is kept: see git.is_ancestor).
    found = git.divergence(tree.source, tree.base_tip, tree.head)
    tree.behind, tree.ahead, tree.merge = found.behind, found.ahead, found.merge
    # The branch still holds the commit it was made from, and the base does not: the base was
    # rewritten (a commit dropped on purpose). A rebase or a landing would bring the dropped commits back.
    tree.base_rewritten = tree.base_commit in found.own


def _base_branch(tree: Tree, full: str) -> tuple[str | None, str | None]:
    """The local branch a worktree lands on, from its recorded base_ref; else (None, why not)."""
    if full.startswith("refs/heads/"):
        return full.removeprefix("refs/heads/"), None
    if full.startswith("refs/remotes/"):
        rest = full.removeprefix("refs/remotes/")
        for remote in sorted(git.remotes(tree.source), key=len, reverse=True):
            if rest.startswith(f"{remote}/"):
                return rest.removeprefix(f"{remote}/"), None
    return None, (
        f"its base {tree.base_ref!r} is not a branch (a tag, a commit or a detached HEAD) in {tree.source}: "
        "there is no branch to land on; land it by hand "
        f"({output.command('git', '-C', tree.source, 'merge', '--ff-only', tree.branch)})"
    )


# --- refusals: only what the dirt or the problem actually affects ---------------------------------------


def refuse_dirty(trees: Sequence[Tree], name: str, why: str) -> None:
    """Refuse, naming each, when any of these worktrees (those with something to move) has
    uncommitted or untracked work; `why` says what the run would have done with them."""
    dirty = [t for t in trees if t.changed]
    if dirty:
        for t in dirty:
            shown = ", ".join(e[3:] for e in t.changed[:5]) + (" ..." if len(t.changed) > 5 else "")
            output.say(f"  {t.label} ({t.path}): {len(t.changed)} uncommitted or untracked: {shown}")
        labels = ", ".join(t.label for t in dirty)
        raise BuildersError(
            f"builder {name!r} has uncommitted or untracked work in: {labels}, which {why}; nothing was changed",
            "commit or stash it first ("
            + output.command("git", "-C", dirty[0].path, "status", "--ignore-submodules=none")
            + "), then run the command again",
        )


def refuse_no_base(trees: Sequence[Tree]) -> None:
    refuse_problems([t for t in trees if t.base_branch is None or t.base_tip is None])


def refuse_problems(stuck: Sequence[Tree]) -> None:
    """Refuse, naming the first, when any of these worktrees has a problem; nothing was changed."""
    stuck = [t for t in stuck if t.problem]
    if stuck:
        raise BuildersError(f"{stuck[0].label}: {stuck[0].problem}; nothing was changed", _problem_hint(stuck[0]))


def refuse_rewritten(trees: Sequence[Tree]) -> None:
    """A base that no longer holds the commit the builder was made from was rewritten on purpose:
    rebasing onto it or landing would bring back what was dropped. Only the builder's own commits
    may go on top of it, which is the user's call."""
    for t in trees:
        if t.base_rewritten:
            raise BuildersError(
                f"{t.label}: its base {t.base_branch} was rewritten: it no longer holds {output.short(t.base_commit)}, "
                f"the commit {t.branch} was made from; nothing was changed",
                f"put only the builder's own commits onto it: {output.command('cd', t.path)} && git rebase --onto "
                f"{t.base_branch} {t.base_commit} {t.branch}",
            )


def _problem_hint(tree: Tree) -> str:
    look = output.command("git", "-C", tree.source, "branch", "-a")
    return (tree.problem or "").rpartition("; ")[2] or f"look at it: {look}"


def fetch(trees: Sequence[Tree]) -> None:
    """Fetch each repository once (remote-tracking refs only; no local branch moves)."""
    sources = list(dict.fromkeys(t.source for t in trees))

    def one(source: Path) -> bool:
        if not git.remotes(source):
            return False  # nothing to fetch from: said as such, not as fetched
        git.fetch(source)
        return True

    outcomes = parallel.each(sources, one)
    parallel.raise_failures(
        (
            source,
            BuildersError(
                f"fetch failed in {source}: {error}",
                f"try it by hand: {output.command('git', '-C', source, 'fetch', '--all')}",
            ),
        )
        for source, error in parallel.failures(outcomes)
    )
    for source, fetched in outcomes:
        output.say(f"  fetched {source}" if fetched else f"  {source} has no remote: nothing fetched")


# --- the record of what landed ------------------------------------------------------------------------


def landed_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "landed" / f"{name}.json"


def landings(ws: Workspace, name: str) -> list[dict[str, object]]:
    path = landed_file(ws, name)
    document = atomic_file.read_json(path, "landing record")
    return document if isinstance(document, list) else []


# --- push -------------------------------------------------------------------------------------------


def remote_of(repo: Path, branch: str) -> str:
    return git.config_value(repo, f"branch.{branch}.remote") or "origin"


def has_remote(repo: Path, remote: str) -> bool:
    return git.config_value(repo, f"remote.{remote}.url") is not None


def push_branch(repo: Path, remote: str, branch: str) -> str:
    """Push refs/heads/<branch> to the same name on `remote`, never forced; git's report."""
    done = git.push_ref(repo, remote, branch)
    if done.returncode != 0:
        raise git.GitFailed(done)
    return done.stdout


def compare_url(remote_url: str, base: str, branch: str) -> str | None:
    """The forge's page that compares `branch` with `base`, for github.com and gitlab.com remotes."""
    for host, path in (("github.com", "compare"), ("gitlab.com", "-/compare")):
        for prefix in (f"git@{host}:", f"ssh://git@{host}/", f"https://{host}/", f"http://{host}/"):
            if remote_url.startswith(prefix):
                project = remote_url.removeprefix(prefix).removesuffix("/").removesuffix(".git")
                if project.count("/") >= 1:
                    return f"https://{host}/{project}/{path}/{base}...{branch}"
    return None


# --- removal after landing ----------------------------------------------------------------------------


def remove_builder(location: Location, name: str, quiet_stdout: bool) -> int:
    """The safe removal (`builders remove NAME`), its report on stderr when stdout holds JSON."""
    from workspace_builders.engine import removal  # only a landing that removes pays for the import

    if quiet_stdout:
        with redirect_stdout(sys.stderr):
            return removal.remove(location, name, False, False, False, False)
    return removal.remove(location, name, False, False, False, False)
