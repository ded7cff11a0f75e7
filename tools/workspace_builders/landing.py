"""Finishing a builder as one unit: what each worktree would land on, rebase or merge with put-back,
fast-forward of every base all or none (journalled, compare-and-swap), and the record of what landed.

Used by `status`, `sync`, `land`, `push` and `restore`. Never forces anything: a base only ever moves
forward to a commit that contains it, and a put-back resets only the builder's own branches, to where
this run found them.

The base *branch* of a worktree is a local branch derived from its recorded base_ref (resolved in
its source repository, the root or the clone): a local branch is itself; `HEAD` is the branch the
source has checked out now; a remote-tracking ref (`origin/HEAD` resolved through its symref) is the
local branch of the same name. Anything else (a tag, a commit) cannot be landed on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from workspace_builders import atomic_file, faults, git, interrupts, output, parallel, state
from workspace_builders.errors import BuildersError, bad_input
from workspace_builders.locks import repository_lock
from workspace_builders.state import BuilderState
from workspace_builders.workspace import ROOT, Location, Workspace


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
    base_checkout_changes: list[str] = field(default_factory=list)

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
        raise BuildersError(
            f"builder {record.name!r} is {record.status}, not ready",
            f"complete or end it first: builders verify {record.name}",
        )
    return record


def trees_of(ws: Workspace, record: BuilderState) -> list[Tree]:
    """The builder's worktrees, root first, looked at in parallel; a failure to look is raised."""
    trees = [Tree(ROOT, ws.root, Path(record.path), record.branch, record.base_ref, record.base_commit)]
    trees += [
        Tree(r.name, ws.clone(r.name), Path(r.path), r.branch, r.base_ref, r.base_commit) for r in record.repos
    ]
    for tree, outcome in parallel.each(trees, inspect):
        if isinstance(outcome, BaseException):
            raise BuildersError(
                f"{tree.label}: could not look at {tree.path}: {outcome}", f"look at it: git -C {tree.path} status"
            )
    return trees


def inspect(tree: Tree) -> None:
    """Fill in the tree's base branch, tips, counts and changes."""
    if not tree.path.is_dir():
        raise BuildersError(f"{tree.path} is missing", "see what is wrong: builders verify")
    if tree.base_ref.startswith("-"):  # recorded refs are checked at creation; never read one as an option
        raise bad_input(f"{tree.label}: recorded base {tree.base_ref!r} is not a ref", "builders verify")
    lines = git.run(
        tree.source, "rev-parse", "--path-format=absolute", "--git-common-dir", "--symbolic-full-name", tree.base_ref
    ).splitlines()
    tree.common_dir = Path(lines[0])
    full = lines[1] if len(lines) > 1 else ""
    tree.base_branch, tree.problem = _base_branch(tree, full)
    wait_changes = git.started(tree.path, "status", "--porcelain=v1", "-z")
    wait_worktrees = git.worktrees_started(tree.source)
    refs = [tree.branch_ref] + ([tree.base_ref_name] if tree.base_branch else [])
    fmt = "%(refname)%00%(objectname)%00%(upstream:short)%00%(upstream:track,nobracket)"
    for line in git.run(tree.source, "for-each-ref", f"--format={fmt}", *refs).splitlines():
        ref, sha, upstream, track = line.split("\0")
        if ref == tree.branch_ref:
            tree.head = sha
        if ref == (tree.base_ref_name if tree.base_branch else None):
            tree.base_tip, tree.upstream, tree.upstream_track = sha, upstream or None, track
    tree.changed = git.porcelain_entries(wait_changes())
    listed = wait_worktrees()
    if tree.base_branch and tree.base_tip is None and tree.problem is None:
        tree.problem = f"its base branch {tree.base_branch} does not exist in {tree.source}"
    if tree.head is None:
        raise BuildersError(f"{tree.label}: branch {tree.branch} is gone from {tree.source}", "builders verify")
    here = next((w for w in listed if w.path == tree.path), None)
    tree.off_branch = here is not None and here.branch != tree.branch_ref
    if tree.off_branch and tree.problem is None:
        # Commits made there are on no builder branch: landing the branch would leave them behind.
        tree.problem = (
            f"{tree.path} is not on its branch {tree.branch} (a detached HEAD or another branch): what is "
            f"committed there would not land; put it on the branch (git -C {tree.path} switch {tree.branch})"
        )
    where = next((w.path for w in listed if tree.base_branch and w.branch == tree.base_ref_name), None)
    tree.base_checkout = where
    if where is not None:
        tree.base_checkout_changes = git.status_entries(where)
    count(tree)


def count(tree: Tree) -> None:
    if tree.base_tip is None or tree.head is None or tree.base_tip == tree.head:
        tree.ahead = tree.behind = 0
        return
    behind, ahead = git.run(tree.path, "rev-list", "--left-right", "--count", f"{tree.base_tip}...{tree.head}").split()
    tree.ahead, tree.behind = int(ahead), int(behind)


def _base_branch(tree: Tree, full: str) -> tuple[str | None, str | None]:
    """The local branch a worktree lands on, from its recorded base_ref; else (None, why not)."""
    if full.startswith("refs/heads/"):
        return full.removeprefix("refs/heads/"), None
    if full.startswith("refs/remotes/"):
        rest = full.removeprefix("refs/remotes/")
        remotes = git.run(tree.source, "remote").split()
        for remote in sorted(remotes, key=len, reverse=True):
            if rest.startswith(f"{remote}/"):
                return rest.removeprefix(f"{remote}/"), None
    return None, (
        f"its base {tree.base_ref!r} is not a branch (a tag, a commit or a detached HEAD) in {tree.source}: "
        f"there is no branch to land on; land it by hand (git -C {tree.source} merge --ff-only {tree.branch})"
    )


# --- sync: every worktree onto its base's tip, all or none -------------------------------------------


def refuse_dirty(trees: Sequence[Tree], name: str) -> None:
    dirty = [t for t in trees if t.changed]
    if dirty:
        for t in dirty:
            shown = ", ".join(e[3:] for e in t.changed[:5]) + (" ..." if len(t.changed) > 5 else "")
            output.say(f"  {t.label} ({t.path}): {len(t.changed)} uncommitted or untracked: {shown}")
        labels = ", ".join(t.label for t in dirty)
        raise BuildersError(
            f"builder {name!r} has uncommitted or untracked work in: {labels}; nothing was changed",
            f"commit or stash it first (git -C {dirty[0].path} status), then run the command again",
        )


def refuse_no_base(trees: Sequence[Tree]) -> None:
    refuse_problems([t for t in trees if t.base_branch is None or t.base_tip is None])


def refuse_problems(stuck: Sequence[Tree]) -> None:
    """Refuse, naming the first, when any of these worktrees has a problem; nothing was changed."""
    stuck = [t for t in stuck if t.problem]
    if stuck:
        raise BuildersError(f"{stuck[0].label}: {stuck[0].problem}; nothing was changed", _problem_hint(stuck[0]))


def _problem_hint(tree: Tree) -> str:
    return (tree.problem or "").rpartition("; ")[2] or f"look at it: git -C {tree.source} branch -a"


def fetch(trees: Sequence[Tree]) -> None:
    """Fetch each repository once (remote-tracking refs only; no local branch moves)."""
    sources = list(dict.fromkeys(t.source for t in trees))

    def one(source: Path) -> None:
        git.fetch(source)

    for source, outcome in parallel.each(sources, one):
        if isinstance(outcome, BaseException):
            raise BuildersError(f"fetch failed in {source}: {outcome}", f"try it by hand: git -C {source} fetch --all")
        output.say(f"  fetched {source}")


@dataclass
class Touched:
    """What this run found a builder branch at, to put it back."""

    tree: Tree
    original: str


def bring_up(trees: Sequence[Tree], merge: bool, touched: list[Touched]) -> None:
    """Rebase (or merge) each worktree that is behind its base onto the base's tip, in parallel.

    On a conflict every worktree touched is put back (see put_back) and the conflict is named.
    """
    behind = [t for t in trees if t.behind > 0]

    def one(tree: Tree) -> list[str]:
        assert tree.head is not None
        with repository_lock(tree.common_dir):
            touched.append(Touched(tree, tree.head))
            if merge:
                message = f"Merge {tree.base_branch} into {tree.branch}"
                done = git.probe(tree.path, "merge", "--quiet", "--no-edit", "-m", message, tree.base_ref_name)
            else:
                done = git.probe(tree.path, "rebase", "--quiet", tree.base_ref_name)
            if done.returncode == 0:
                return []
            conflicts = git.probe(tree.path, "diff", "--name-only", "--diff-filter=U", "-z").stdout
            files = [f for f in conflicts.split("\0") if f] or [done.stderr.strip() or done.stdout.strip()]
            git.probe(tree.path, "merge" if merge else "rebase", "--abort")
            return files

    def progress(tree: Tree, outcome: object) -> None:
        if isinstance(outcome, list) and not outcome:
            how = "merged" if merge else "rebased onto"
            output.say(f"  {tree.label}: {how} {tree.base_branch} ({output.short(tree.base_tip)})")

    outcomes = parallel.each(behind, one, progress)
    failed = [(t, o) for t, o in outcomes if not (isinstance(o, list) and not o)]
    if failed:
        put_back(touched)
        touched.clear()
        tree, outcome = failed[0]
        how = "merge" if merge else "rebase"
        if isinstance(outcome, list):
            names = ", ".join(outcome)
            raise BuildersError(
                f"{tree.label}: {how} onto {tree.base_branch} stops on a conflict in: {names}; every repo was put "
                "back where it was",
                f"resolve it by hand: cd {tree.path} && git {how} {tree.base_branch}",
            )
        raise BuildersError(f"{tree.label}: {how} failed: {outcome}; every repo was put back where it was")
    for tree in behind:
        tree.head = git.run(tree.path, "rev-parse", "--verify", "HEAD").strip()
        count(tree)


def put_back(touched: Sequence[Touched]) -> None:
    """Reset each builder branch this run moved to where it was, with its (clean) working tree.

    The worktrees were clean before the run (refuse_dirty), so a hard reset is exact.
    """
    with interrupts.held_off():
        for item in touched:
            tree = item.tree
            with repository_lock(tree.common_dir):
                for operation in ("rebase", "merge"):
                    git.probe(tree.path, operation, "--abort")
                git.run(tree.path, "reset", "--quiet", "--hard", item.original)
            tree.head = item.original
            count(tree)
            output.say(f"  {tree.label}: put back at {output.short(item.original)}")


def squash(trees: Sequence[Tree], message: str, touched: list[Touched]) -> None:
    """One commit per repo: the tree of the builder branch on top of its base's tip (no hook runs,
    the index and working tree stay as they are: the tree is the same)."""
    for tree in trees:
        assert tree.head is not None and tree.base_tip is not None
        commit = git.run(tree.path, "commit-tree", f"{tree.head}^{{tree}}", "-p", tree.base_tip, "-m", message).strip()
        with repository_lock(tree.common_dir):
            touched.append(Touched(tree, tree.head))
            git.run(tree.path, "update-ref", "-m", "builders land --squash", tree.branch_ref, commit, tree.head)
        tree.head = commit
        count(tree)


# --- the fast-forward of every base, all or none ----------------------------------------------------


@dataclass(frozen=True)
class Move:
    label: str
    repo: str  # the source repository (root or clone)
    common_dir: str
    base: str  # the base branch
    old: str
    new: str
    checkout: str | None  # where the base branch is checked out (moved with its working tree)

    def as_json(self) -> dict[str, object]:
        return {"repo": self.label, "base": self.base, "old": self.old, "new": self.new}


def plan_moves(trees: Sequence[Tree]) -> list[Move]:
    moves = []
    for t in trees:
        if t.ahead > 0:
            assert t.base_branch and t.base_tip and t.head
            checkout = str(t.base_checkout) if t.base_checkout else None
            moves.append(Move(t.label, str(t.source), str(t.common_dir), t.base_branch, t.base_tip, t.head, checkout))
    return moves


def refuse_unmovable(trees: Sequence[Tree]) -> None:
    """Every base that would move must be a branch, an ancestor of the builder branch, and not
    checked out anywhere with uncommitted changes. One that cannot move stops them all."""
    for t in trees:
        if t.ahead == 0:
            continue
        if t.base_branch is None or t.base_tip is None:
            raise BuildersError(f"{t.label}: {t.problem}; nothing landed", _problem_hint(t))
        if t.base_checkout_changes:
            shown = ", ".join(e[3:] for e in t.base_checkout_changes[:5])
            raise BuildersError(
                f"{t.label}: its base {t.base_branch} is checked out in {t.base_checkout} with uncommitted "
                f"changes ({shown}); nothing landed",
                f"commit or stash them (git -C {t.base_checkout} status), then run the command again",
            )


def journal_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "landing" / f"{name}.json"


def write_journal(ws: Workspace, name: str, moves: Sequence[Move], squashed: bool) -> None:
    document = {"name": name, "started_at": state.now(), "squash": squashed, "moves": [vars(m) for m in moves]}
    atomic_file.write(journal_file(ws, name), (json.dumps(document, indent=2) + "\n").encode())


def read_journal(ws: Workspace, name: str) -> tuple[list[Move], bool] | None:
    path = journal_file(ws, name)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [Move(**m) for m in document["moves"]], bool(document.get("squash"))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as exc:
        raise bad_input(
            f"landing journal {path} is unreadable: {exc}",
            f"look at the bases it names, then move it aside: mv {path} {path}.bad",
        ) from None


@contextmanager
def repositories_locked(moves: Sequence[Move]) -> Iterator[None]:
    with ExitStack() as stack:
        for common_dir in sorted({m.common_dir for m in moves}):
            stack.enter_context(repository_lock(Path(common_dir)))
        yield


def _tip(repo: str, branch: str) -> str | None:
    ref = f"refs/heads/{branch}"
    return git.resolve_commits(Path(repo), [ref])[ref]


def apply_moves(moves: Sequence[Move]) -> None:
    """Fast-forward every base, each a compare-and-swap; if one cannot move, put back those moved.

    The caller has journalled the moves first, so a run killed here is completed by the next one.
    """
    done: list[Move] = []
    with repositories_locked(moves):
        try:
            for move in moves:
                _move(move)
                done.append(move)
                faults.point(f"land:moved:{move.label}")
                output.say(f"  {move.label}: {move.base} {output.short(move.old)} -> {output.short(move.new)}")
        except BaseException:
            with interrupts.held_off():
                for move in reversed(done):
                    _unmove(move)
            raise


def _move(move: Move) -> None:
    repo = Path(move.repo)
    ref = f"refs/heads/{move.base}"
    if not git.is_ancestor(repo, move.old, move.new):
        raise BuildersError(
            f"{move.label}: {move.new} does not contain {move.base}; nothing landed",
            f"{move.base} moved meanwhile (another landing?): run the command again, it rebases onto the new tip",
        )
    done = git.probe(repo, "update-ref", "-m", "builders land: fast-forward", ref, move.new, move.old)
    if done.returncode != 0:
        raise BuildersError(
            f"{move.label}: {move.base} moved while landing ({git.GitFailed(done).message}); nothing landed",
            "run the command again: it lands onto the new tip",
        )
    faults.point(f"land:ref-moved:{move.label}")
    if move.checkout:
        _update_checkout(move.checkout, move.old, move.new)


def _update_checkout(checkout: str, old: str, new: str) -> None:
    # A two-tree read-tree moves the clean index and working tree from `old` to `new`, as a
    # fast-forward merge would, without touching the branch (moved above, compare-and-swap).
    git.run(Path(checkout), "read-tree", "-m", "-u", old, new)


def _unmove(move: Move) -> None:
    repo = Path(move.repo)
    done = git.probe(repo, "update-ref", "-m", "builders land: put back", f"refs/heads/{move.base}", move.old, move.new)
    if done.returncode == 0 and move.checkout:
        git.probe(Path(move.checkout), "read-tree", "-m", "-u", move.new, move.old)
    output.say(f"  {move.label}: {move.base} put back at {output.short(move.old)}")


def complete_journal(ws: Workspace, name: str) -> list[Move] | None:
    """A landing a killed run left half-done: complete every move it planned; the moves, or None."""
    found = read_journal(ws, name)
    if found is None:
        return None
    moves, squashed = found
    output.say(f"completing the landing of {name!r} that was stopped ({journal_file(ws, name)})")
    with repositories_locked(moves):
        for move in moves:
            tip = _tip(move.repo, move.base)
            if tip == move.old:
                _move(move)
            elif tip == move.new:
                if move.checkout and _index_is(move.checkout, move.old) and not _index_is(move.checkout, move.new):
                    _update_checkout(move.checkout, move.old, move.new)
            elif tip is not None and git.is_ancestor(Path(move.repo), move.new, tip):
                pass  # landed, and the base has moved on since (another landing built on it)
            else:
                raise BuildersError(
                    f"{move.label}: {move.base} is at {output.short(tip)}, neither the {output.short(move.old)} nor "
                    f"the {output.short(move.new)} the stopped landing left",
                    f"look at it (git -C {move.repo} log {move.base}), then move {journal_file(ws, name)} aside",
                )
            output.say(f"  {move.label}: {move.base} at {output.short(move.new)}")
    record_landing(ws, name, moves, squashed)
    return moves


def _index_is(checkout: str, commit: str) -> bool:
    return git.probe(Path(checkout), "diff-index", "--cached", "--quiet", commit, "--").returncode == 0


# --- the record of what landed ------------------------------------------------------------------------


def landed_file(ws: Workspace, name: str) -> Path:
    return ws.admin_dir / "landed" / f"{name}.json"


def landings(ws: Workspace, name: str) -> list[dict[str, object]]:
    path = landed_file(ws, name)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except ValueError as exc:
        raise bad_input(f"landing record {path} is unreadable: {exc}", f"move it aside: mv {path} {path}.bad") from None
    return document if isinstance(document, list) else []


def record_landing(ws: Workspace, name: str, moves: Sequence[Move], squashed: bool) -> None:
    """Append what landed to `<admin>/landed/<name>.json`, then drop the journal."""
    entry = {"landed_at": state.now(), "squash": squashed, "moves": [m.as_json() for m in moves]}
    document = [*landings(ws, name), entry]
    atomic_file.write(landed_file(ws, name), (json.dumps(document, indent=2) + "\n").encode())
    journal_file(ws, name).unlink(missing_ok=True)


# --- push -------------------------------------------------------------------------------------------


def remote_of(repo: Path, branch: str) -> str:
    return git.config_value(repo, f"branch.{branch}.remote") or "origin"


def push_branch(repo: Path, remote: str, branch: str) -> str:
    """Push refs/heads/<branch> to the same name on `remote`, never forced; git's report."""
    done = git.probe(repo, "push", "--porcelain", "--", remote, f"refs/heads/{branch}:refs/heads/{branch}")
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


def remove_builder(start: Path, name: str, quiet_stdout: bool) -> int:
    """The safe removal (`builders remove NAME`), its report on stderr when stdout holds JSON."""
    from workspace_builders import removal  # only a landing that removes pays for the import

    if quiet_stdout:
        with redirect_stdout(sys.stderr):
            return removal.remove(start, name, False, False, False, False)
    return removal.remove(start, name, False, False, False, False)
