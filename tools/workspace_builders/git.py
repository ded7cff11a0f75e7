"""The only module that runs git.

Every call is `git -C <repo> ...` with an environment scrubbed of the variables that would tie git to
another repository (a hook runs with GIT_DIR set; a caller may export GIT_WORK_TREE). A failed call
becomes a BuildersError naming the command, its exit code and what git said.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from plumbum.machines.local import PlumbumLocalPopen
from plumbum.path.local import LocalPath

from workspace_builders import locks, processes
from workspace_builders.errors import BuildersError

TYPE_CHECKING = False  # typing would cost an import at every start; annotations are never evaluated
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")
    R = TypeVar("R")

MIN_VERSION = (2, 36)
NULL_SHA = "0" * 40

# The GIT_* variables that bind git to one repository: a hook runs with GIT_DIR and GIT_WORK_TREE
# (and GIT_INDEX_FILE, GIT_PREFIX) set for the repository that fired it, and a caller may export
# any of them, but this toolkit always names the repository itself (`git -C`). Dropped: the
# repository, its work tree, index, object stores and common dir; GIT_PREFIX (a path relative to
# that work tree); GIT_NAMESPACE (would put our refs under a namespace); GIT_QUARANTINE_PATH and
# GIT_SHALLOW_FILE (a receive hook's or a fetch's view of its own repository); GIT_CONFIG (sends
# `git config` to another file than the repository's); GIT_INTERNAL_SUPER_PREFIX (a submodule
# recursion's). Kept, like every other GIT_* (CA bundles, GIT_CONFIG_COUNT/KEY_n/VALUE_n and
# GIT_CONFIG_PARAMETERS, GIT_EXEC_PATH, GIT_ALLOW_PROTOCOL, proxies, ssh, identities):
# GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM, which name no repository but say
# how far up the user's git may look for one (slow network mounts, a workspace across file
# systems); keeping them makes discovery from the user's folder agree with their own git.
_REPOSITORY_BINDING = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_PREFIX",
        "GIT_NAMESPACE",
        "GIT_QUARANTINE_PATH",
        "GIT_SHALLOW_FILE",
        "GIT_CONFIG",
        "GIT_INTERNAL_SUPER_PREFIX",
    }
)

# Set in every git call so that this project's own hooks know the toolkit is the caller.
RUNNING_MARK = "WORKSPACE_BUILDERS_RUNNING"


def _dropped(key: str) -> bool:
    return key in _REPOSITORY_BINDING


def environ(**extra: str) -> dict[str, str]:
    """The process environment without repository-binding GIT_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not _dropped(k)}
    env.update(extra)
    return env


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


_version_checked = threading.Event()


def probe(
    repo: Path | str,
    *args: str,
    input: str | None = None,
    read_only: bool = False,
    index_file: Path | None = None,
) -> Completed:
    """Run `git -C repo args...` and return what happened, whatever the exit code.

    `index_file` points git at another index: a temporary one, or the one a commit hook was given.
    """
    return _begin(("-C", str(repo), *args), input, _call_env(read_only, index_file))()


def started(repo: Path, *args: str) -> Callable[[], str]:
    """`run`, started now: what it returns waits for the call and gives its stdout, or GitFailed.

    Calls started one after another run side by side, with no thread, while the caller works on.
    """
    wait = _begin(("-C", str(repo), *args), None, _call_env())
    return lambda: _stdout(wait())


def side_by_side(
    items: Sequence[T], start: Callable[[T], Callable[[], R]], window: int = 16
) -> Iterator[tuple[T, R | BuildersError]]:
    """Start the calls of the first `window` items now; iterating waits for each in the items' order,
    starting the next as one finishes: (item, result or the BuildersError it raised).

    Many calls at once with no thread, so the caller's own work overlaps them; `window` bounds the
    pipes held open.
    """
    pending = deque((item, start(item)) for item in items[:window])
    rest = deque(items[window:])

    def outcomes() -> Iterator[tuple[T, R | BuildersError]]:
        while pending:
            item, wait = pending.popleft()
            outcome: R | BuildersError
            try:
                outcome = wait()
            except BuildersError as exc:
                outcome = exc
            if rest:
                following = rest.popleft()
                pending.append((following, start(following)))
            yield item, outcome

    return outcomes()


def _call_env(read_only: bool = False, index_file: Path | None = None) -> dict[str, str]:
    if not _version_checked.is_set():
        require_version()
    extra = {RUNNING_MARK: "1", "GIT_TERMINAL_PROMPT": "0"}
    if read_only:
        # status would otherwise take index.lock to refresh the index, racing concurrent agents.
        extra["GIT_OPTIONAL_LOCKS"] = "0"
    if index_file is not None:
        extra["GIT_INDEX_FILE"] = str(index_file)
    return environ(**extra)


def run(
    repo: Path | str,
    *args: str,
    input: str | None = None,
    read_only: bool = False,
    index_file: Path | None = None,
) -> str:
    """Run `git -C repo args...`; its stdout, or a BuildersError when git fails."""
    return _stdout(probe(repo, *args, input=input, read_only=read_only, index_file=index_file))


def _stdout(done: Completed) -> str:
    if done.returncode != 0:
        raise GitFailed(done)
    return done.stdout


class GitFailed(BuildersError):
    def __init__(self, done: Completed):
        said = done.stderr.strip() or done.stdout.strip() or "(no output)"
        super().__init__(f"git {' '.join(done.args)} failed with exit {done.returncode}: {said}")
        self.completed = done


def _begin(args: tuple[str, ...], input: str | None, env: dict[str, str]) -> Callable[[], Completed]:
    """Start git now; what it returns waits for it."""
    # stdin is never the terminal: git must not stop to ask anything. A git started while this
    # thread holds a lock inherits it, so the lock outlasts this process if it is killed (locks.py).
    stdin = processes.DEVNULL if input is None else processes.PIPE
    proc = processes.start(
        ["git", *args], _folder_of(args), env, executable=_executable(), stdin=stdin, pass_fds=locks.held()
    )

    def wait() -> Completed:
        try:
            out, err = proc.communicate(input.encode() if input is not None else None)
        except BaseException:
            _outwait(proc)
            raise
        # Bytes, decoded here with surrogateescape so that no path is ever mangled.
        return Completed(args, proc.returncode or 0, _text(out), _text(err))

    return wait


def _outwait(proc: PlumbumLocalPopen) -> None:
    """Let an interrupted call's git finish: stopped half-way it would leave half-made work behind,
    and only once it is done can a rollback see what it made."""
    while proc.returncode is None:
        try:
            proc.communicate()
        except BaseException:  # a second interrupt waits for git all the same
            continue


_git_path: LocalPath | None = None


def _executable() -> LocalPath:
    global _git_path
    if _git_path is None:
        _git_path = processes.program("git", dict(os.environ))  # FileNotFoundError when there is none
    return _git_path


def _folder_of(args: tuple[str, ...]) -> str:
    """The folder git starts in: its -C folder when that exists, else the filesystem root; never the
    caller's current folder as such, which may have been deleted under it."""
    if len(args) > 1 and args[0] == "-C":
        folder = os.path.abspath(args[1])
        if os.path.isdir(folder):
            return folder
    return os.path.abspath(os.sep)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def require_version() -> None:
    try:
        out = _begin(("--version",), None, environ())().stdout
    except FileNotFoundError:
        raise BuildersError("git is not installed", "install git >= 2.36 and put it on PATH") from None
    if parse_version(out) < MIN_VERSION:
        raise BuildersError(
            f"git >= {'.'.join(map(str, MIN_VERSION))} is needed, found {out.strip()!r}",
            "install a newer git and put it first on PATH",
        )
    _version_checked.set()


def parse_version(text: str) -> tuple[int, ...]:
    """`git version 2.39.5` -> (2, 39); anything unreadable -> ()."""
    words = text.split()
    numbers = words[2].split(".")[:2] if len(words) > 2 and words[:2] == ["git", "version"] else []
    return tuple(int(n) for n in numbers) if all(n.isdigit() for n in numbers) else ()


# --- queries -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoLocation:
    toplevel: Path
    common_dir: Path


def locate(path: Path) -> RepoLocation | None:
    """The worktree containing `path` and its repository's common dir; None outside any repo."""
    done = probe(path, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir")
    if done.returncode != 0:
        return None
    lines = done.stdout.splitlines()
    if len(lines) != 2:  # a bare repository has no toplevel
        return None
    return RepoLocation(Path(lines[0]), Path(lines[1]))


def resolve_commits(repo: Path, revs: list[str]) -> dict[str, str | None]:
    """Each revision's commit id, or None where it names no commit. One git call.

    Revisions go through stdin, so none of them can ever be read as an option.
    """
    lines = [f"{rev}^{{commit}}" for rev in revs]
    out = run(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)", input="\n".join(lines) + "\n")
    found: dict[str, str | None] = {}
    for rev, answer in zip(revs, out.splitlines(), strict=True):
        sha, _, kind = answer.partition(" ")
        found[rev] = sha if kind == "commit" else None
    return found


def has_commits(repo: Path) -> bool:
    return resolve_commits(repo, ["HEAD"])["HEAD"] is not None


def changed_tracked_files(repo: Path) -> list[str]:
    """Paths of tracked files with uncommitted changes (staged or not)."""
    out = run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=no", read_only=True)
    return [entry[3:] for entry in porcelain_entries(out)]


def porcelain_entries(out: str) -> list[str]:
    """`git status --porcelain=v1 -z` output as `XY path` entries; a rename's or copy's source path,
    which follows its entry as a field of its own, is skipped."""
    entries: list[str] = []
    fields = iter(out.split("\0"))
    for field in fields:
        if not field:
            continue
        entries.append(field)
        if "R" in field[:2] or "C" in field[:2]:
            next(fields, None)  # the rename's source path
    return entries


def branch_name_ok(branch: str) -> bool:
    # The caller has already made sure `branch` cannot start with '-'.
    return probe(".", "check-ref-format", "--branch", branch).returncode == 0


# The lock reason of a worktree this toolkit is making: git writes it before anything else of the
# worktree and it is taken off only once the worktree is complete, so a worktree that still has it
# was never finished (its git was killed, or is still running: see locks.py).
CREATING_MARK = "workspace-builders: creating"


@dataclass(frozen=True)
class Worktree:
    path: Path
    head: str | None
    branch: str | None  # full ref name, None when detached
    lock_reason: str | None  # None when not locked
    prunable: bool

    @property
    def locked(self) -> bool:
        return self.lock_reason is not None

    @property
    def unfinished(self) -> bool:
        """Being made by this toolkit, or left half-made by a run that was killed."""
        return self.lock_reason == CREATING_MARK

    @property
    def short_branch(self) -> str | None:
        """`builder/x` for refs/heads/builder/x; None when detached."""
        return self.branch.removeprefix("refs/heads/") if self.branch else None


def worktrees(repo: Path) -> list[Worktree]:
    """Every worktree registered in repo's common dir, the main one first. One git call."""
    return worktrees_started(repo)()


def worktrees_started(repo: Path) -> Callable[[], list[Worktree]]:
    """`worktrees`, started now: what it returns waits for the call (see: started)."""
    wait = started(repo, "worktree", "list", "--porcelain", "-z")
    return lambda: _parse_worktrees(wait())


def _parse_worktrees(out: str) -> list[Worktree]:
    found: list[Worktree] = []
    for record in out.split("\0\0"):
        attrs: dict[str, str] = {}
        for field in record.split("\0"):
            if field:
                key, _, value = field.partition(" ")
                attrs[key] = value
        if "worktree" in attrs:
            found.append(
                Worktree(
                    Path(attrs["worktree"]),
                    attrs.get("HEAD"),
                    attrs.get("branch"),
                    attrs.get("locked"),
                    "prunable" in attrs,
                )
            )
    return found


def is_ignored(repo: Path, relpath: str) -> bool:
    return probe(repo, "check-ignore", "-q", "--no-index", "--", relpath).returncode == 0


def gitignore_ignores(gitignore: str, relpath: str) -> bool:
    """Whether a tree whose top-level .gitignore reads `gitignore` ignores `relpath`, by git itself.

    Asked in an empty scratch repository that has no other exclude source (no info/exclude, and
    core.excludesFile pointed at nothing), so only the file's own rules decide: what a commit of
    that .gitignore would ignore for everyone who checks it out.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="builders-gitignore-") as scratch:
        run(scratch, "init", "--quiet", "--template=")
        Path(scratch, ".gitignore").write_text(gitignore, encoding="utf-8", errors="surrogateescape")
        no_excludes_file = f"core.excludesFile={os.devnull}"
        done = probe(scratch, "-c", no_excludes_file, "check-ignore", "-q", "--no-index", "--", relpath)
    if done.returncode not in (0, 1):
        raise GitFailed(done)
    return done.returncode == 0


def ignored_of(worktree: Path, paths: Sequence[str]) -> set[str]:
    """Those of `paths` (relative to the worktree) that git ignores there: tracked ones never are.

    One call for all of them; paths go through stdin, NUL-separated, so none is read as an option.
    """
    # A name that is not UTF-8 cannot be sent as text: it counts as not ignored, the safe answer.
    sendable = [p for p in paths if not any("\udc80" <= c <= "\udcff" for c in p)]
    if not sendable:
        return set()
    done = probe(worktree, "check-ignore", "--stdin", "-z", input="".join(f"{p}\0" for p in sendable))
    if done.returncode not in (0, 1):  # 1: none of them is ignored
        raise GitFailed(done)
    return {p for p in done.stdout.split("\0") if p}


def ignored_entries(repo: Path) -> list[str]:
    """Untracked ignored paths, an ignored directory as one entry ending in '/'."""
    out = run(repo, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
    return [p for p in out.split("\0") if p]


# --- changes -------------------------------------------------------------------------------------


def add_worktree(repo: Path, path: Path, branch: str, commit: str, *, new_branch: bool) -> None:
    """Check out `branch` (made at `commit` when new_branch) in a new worktree at `path`, locked with
    CREATING_MARK until `finish_worktree`."""
    lock = ("--lock", "--reason", CREATING_MARK)
    if new_branch:
        run(repo, "worktree", "add", *lock, "--no-track", "-b", branch, "--", str(path), commit)
    else:
        run(repo, "worktree", "add", *lock, "--", str(path), branch)


def drop_stale_branch_lock(common_dir: Path, branch: str) -> None:
    """Remove a `refs/heads/<branch>.lock` that a git stopped by a signal left behind (one stopped
    while it made or moved the branch does); it would make every later update of the branch fail.

    Only for a branch of a builder that no one has been handed yet, with the repository lock held:
    no git of this toolkit is running there then, and nobody else has a reason to write that branch.
    """
    lock = common_dir / "refs" / "heads" / f"{branch}.lock"
    if lock.is_file() and not lock.is_symlink():
        lock.unlink()


def finish_worktree(admin: Path) -> None:
    """Take CREATING_MARK off a complete worktree whose admin dir is `admin`.

    `git worktree unlock` does nothing but delete `<admin>/locked`; deleting it here spares a git
    process per worktree. Only our own mark is taken off (a lock with any other reason is the
    user's), and the caller holds the repository lock, so no git of ours is making or finishing
    this worktree meanwhile: the file read is the file deleted.
    """
    locked = admin / "locked"
    if locked.is_symlink() or not locked.is_file():
        return
    if locked.read_text(encoding="utf-8", errors="surrogateescape").strip() == CREATING_MARK:
        locked.unlink()


def remove_fresh_worktree(repo: Path, path: Path) -> None:
    """Remove a worktree this run created (so anything in it is ours to drop), locked or not."""
    run(repo, "worktree", "remove", "--force", "--force", "--", str(path))


def delete_branch_at(repo: Path, branch: str, commit: str) -> bool:
    """Delete refs/heads/<branch> only while it still points at `commit`; True when deleted."""
    return probe(repo, "update-ref", "-d", f"refs/heads/{branch}", commit).returncode == 0


# --- removal -------------------------------------------------------------------------------------


def status_entries(worktree: Path) -> list[str]:
    """Uncommitted changes and untracked (not ignored) paths, an untracked folder as one line."""
    return porcelain_entries(run(worktree, "status", "--porcelain=v1", "-z", read_only=True))


def reachable_from_a_ref(worktree: Path) -> bool:
    """Whether some ref (a branch, tag, remote branch, ...) contains this worktree's HEAD."""
    out = run(worktree, "for-each-ref", "--count=1", "--contains", "HEAD", "--format=%(refname)")
    return bool(out.strip())


def on_another_branch(repo: Path, commit: str, branch_ref: str) -> bool:
    """Whether a local branch other than `branch_ref` contains `commit` (a landed builder branch is
    in its base branch, say): deleting `branch_ref` then loses no commit."""
    out = run(repo, "for-each-ref", "--contains", commit, "--format=%(refname)", "refs/heads/")
    return any(line != branch_ref for line in out.splitlines())


def is_ancestor(repo: Path, commit: str, of: str) -> bool:
    return probe(repo, "merge-base", "--is-ancestor", commit, of).returncode == 0


def snapshot_commit(worktree: Path, index_file: Path, message: str, keep: Sequence[str] = ()) -> str:
    """A commit of everything in the worktree (tracked and untracked, not ignored) on top of HEAD;
    `keep` are commits that become its further parents, so the ref that holds it holds them too.

    Built in a temporary index, so the user's index, stash and branch are left exactly as they are.
    """
    head = run(worktree, "rev-parse", "--verify", "HEAD").strip()
    run(worktree, "read-tree", head, index_file=index_file)
    run(worktree, "add", "--all", "--", ".", index_file=index_file)
    tree = run(worktree, "write-tree", index_file=index_file).strip()
    parents = [arg for commit in (head, *keep) for arg in ("-p", commit)]
    return run(worktree, "commit-tree", tree, *parents, "-m", message).strip()


def reflog_only_commits(worktree: Path) -> list[str]:
    """The tips of what this worktree's HEAD reflog reaches and no ref does (commits made on a
    detached HEAD, then left): removing the worktree deletes that reflog, the last way to them."""
    done = probe(worktree, "reflog", "show", "--format=%H", "HEAD", "--", read_only=True)
    logged = list(dict.fromkeys(done.stdout.split())) if done.returncode == 0 else []
    if not logged:
        return []
    unreached = set(run(worktree, "rev-list", *logged, "--not", "--all").split())
    lost = [commit for commit in logged if commit in unreached]
    return run(worktree, "merge-base", "--independent", *lost).split() if lost else []


def snapshot_folder(common_dir: Path, folder: Path, index_file: Path, message: str) -> str:
    """A parentless commit of every file in `folder` that is not ignored, into the repository at
    `common_dir`: for a worktree folder whose admin entry (and so its HEAD) is gone."""
    where = (f"--git-dir={common_dir}", f"--work-tree={folder}")
    run(folder, *where, "add", "--all", "--", ".", index_file=index_file)
    tree = run(folder, *where, "write-tree", index_file=index_file).strip()
    return run(folder, *where, "commit-tree", tree, "-m", message).strip()


def set_ref(repo: Path, ref: str, commit: str) -> None:
    """Create `ref` at `commit`; fails if it exists already (the empty old value)."""
    run(repo, "update-ref", "--create-reflog", ref, commit, "")


def remove_worktree(repo: Path, path: Path, *, force: bool, locked: bool) -> None:
    forcing = ["--force", "--force"] if force and locked else ["--force"] if force else []
    run(repo, "worktree", "remove", *forcing, "--", str(path))


# --- hooks and sync ------------------------------------------------------------------------------


def config_value(repo: Path, key: str) -> str | None:
    done = probe(repo, "config", "--get", key)
    return done.stdout.rstrip("\n") if done.returncode == 0 else None


@dataclass(frozen=True)
class Staged:
    path: str
    mode: str  # the new mode: 160000 for a gitlink, 000000 when deleted
    status: str  # A, M, D, T


GITLINK = "160000"


def staged_changes(worktree: Path, index_file: Path | None) -> list[Staged]:
    """What a commit from this index would change against HEAD (against nothing before the first commit)."""
    out = run(worktree, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-ext-diff", index_file=index_file)
    fields = out.split("\0")
    changes: list[Staged] = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.lstrip(":").split()
        if len(parts) == 5:
            changes.append(Staged(path, parts[1], parts[4]))
    return changes


def file_text(repo: Path, spec: str, index_file: Path | None = None) -> str | None:
    """The content of `HEAD:path` or `:path` (the index's), None when there is no such file."""
    done = probe(repo, "cat-file", "blob", spec, index_file=index_file)
    return done.stdout if done.returncode == 0 else None


def clone(url: str, target: Path) -> None:
    run(target.parent, "clone", "--quiet", "--", url, str(target))


def fetch(repo: Path) -> None:
    run(repo, "fetch", "--quiet", "--all", "--prune")


# --- sparse --------------------------------------------------------------------------------------


def add_sparse_worktree(
    repo: Path, path: Path, branch: str, commit: str, folders: Sequence[str], *, new_branch: bool
) -> None:
    """`add_worktree`, checking out only the files at the top and under `folders` (cone mode).

    No full checkout first: the worktree is made empty, its sparse patterns set (in its own
    config.worktree, so the repository's other worktrees stay full), then checked out. It keeps
    CREATING_MARK until `finish_worktree`: stopped at any step in between, it is not clean against
    its HEAD, so a re-run sets it aside and makes it again.
    """
    lock = ("--lock", "--reason", CREATING_MARK)
    if new_branch:
        run(repo, "worktree", "add", "--no-checkout", *lock, "--no-track", "-b", branch, "--", str(path), commit)
    else:
        run(repo, "worktree", "add", "--no-checkout", *lock, "--", str(path), branch)
    run(path, "sparse-checkout", "set", "--cone", "--stdin", input="".join(f"{f}\n" for f in folders))
    run(path, "checkout", "--quiet")


def missing_folders(repo: Path, commit: str, folders: Sequence[str]) -> list[str]:
    """Those of `folders` that are not a folder in `commit`'s tree. One git call; through stdin."""
    if not folders:
        return []
    lines = "".join(f"{commit}:{f}\n" for f in folders)
    out = run(repo, "cat-file", "--batch-check=%(objecttype)", input=lines)
    return [f for f, answer in zip(folders, out.splitlines(), strict=True) if answer.strip() != "tree"]
