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

from workspace_builders.base import interrupts, output
from workspace_builders.base.errors import BuildersError
from workspace_builders.gitlayer import locks, processes

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

# Given to every git call: a url or submodule url of the form `ext::<command>` runs that command, and
# a user's `protocol.allow=always` (a common workaround for file:// submodules) would let one in a
# tracked config or .gitmodules through. On the command line, so it wins over every config file.
NO_EXT_PROTOCOL = ("-c", "protocol.ext.allow=never")

# git's own defaults for the protocols a clone or fetch may use, whatever the user's config says:
# the known safe ones always, file and any other only when the user names the url (as they do in
# workspaces.yaml), ext never. For `repos sync`, whose urls come from a tracked file.
DEFAULT_PROTOCOLS = (
    *("-c", "protocol.allow=user"),
    *(arg for name in ("http", "https", "git", "ssh") for arg in ("-c", f"protocol.{name}.allow=always")),
    *("-c", "protocol.file.allow=user"),
    *NO_EXT_PROTOCOL,
)


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


def attempt(
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


def started(repo: Path, *args: str, read_only: bool = False) -> Callable[[], str]:
    """`run`, started now: what it returns waits for the call and gives its stdout, or GitFailed.

    Calls started one after another run side by side, with no thread, while the caller works on.
    """
    wait = _begin(("-C", str(repo), *args), None, _call_env(read_only))
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
    return _stdout(attempt(repo, *args, input=input, read_only=read_only, index_file=index_file))


def _stdout(done: Completed) -> str:
    if done.returncode != 0:
        raise GitFailed(done)
    return done.stdout


class GitFailed(BuildersError):
    def __init__(self, done: Completed):
        said = done.stderr.strip() or done.stdout.strip() or "(no output)"
        super().__init__(f"git {' '.join(done.args)} failed with exit {done.returncode}: {said}")
        self.completed = done
        lock = _held_ref_lock(done) if "cannot lock references" in said else None
        if lock is not None:
            self.hint = (
                f"a git stopped while it wrote refs leaves {lock} behind, and git names no file: if no git runs "
                f"there ({output.command('fuser', lock)} says nothing), remove it "
                f"({output.command('rm', lock)}), then run the command again"
            )


def _held_ref_lock(done: Completed) -> Path | None:
    """The reftable's lock of the repository the failed call ran in, if it is there."""
    if len(done.args) < 2 or done.args[0] != "-C" or not os.path.isdir(done.args[1]):
        return None
    found = locate(Path(done.args[1]))
    lock = (found.common_dir if found else Path(done.args[1])) / "reftable" / "tables.list.lock"
    return lock if lock.exists() else None


def _begin(args: tuple[str, ...], input: str | None, env: dict[str, str]) -> Callable[[], Completed]:
    """Start git now; what it returns waits for it (called again, it gives the same again)."""
    # stdin is never the terminal: git must not stop to ask anything. A git started while this
    # thread holds a lock is recorded in it, so the lock outlasts this process if it is killed while
    # the git goes on (locks.py); the git itself gets no descriptor of ours, nor do its hooks.
    stdin = processes.DEVNULL if input is None else processes.PIPE
    argv = ["git", *NO_EXT_PROTOCOL, *args]
    proc: PlumbumLocalPopen | None = None
    try:
        # A stop between the start and the record would leave a git that no lock knows of: a rollback
        # would find nothing yet, say so, and the git would make its branch or worktree after it.
        with interrupts.held_off():
            proc = processes.start(argv, _folder_of(args), env, executable=_executable(), stdin=stdin)
            locks.record_child(proc.pid)
    except BaseException:
        if proc is not None:
            _outwait(proc)
        raise

    finished: list[Completed] = []

    def wait() -> Completed:
        if finished:
            return finished[0]
        try:
            out, err = proc.communicate(input.encode("utf-8", "surrogateescape") if input is not None else None)
        except BaseException:
            _outwait(proc)
            raise
        # Bytes, decoded here with surrogateescape so that no path is ever mangled.
        finished.append(Completed(args, proc.returncode or 0, _text(out), _text(err)))
        return finished[0]

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
    done = attempt(path, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir")
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


def tracked_of(repo: Path, paths: Sequence[str]) -> set[str]:
    """Those of `paths` (relative to `repo`) that its index holds."""
    if not paths:
        return set()
    return set(run(repo, "ls-files", "-z", "--", *paths, read_only=True).split("\0")) - {""}


def changed_tracked_files_started(repo: Path) -> Callable[[], list[str]]:
    """Paths of tracked files with uncommitted changes (staged or not), from a status started now."""
    wait = started(repo, "status", "--porcelain=v1", "-z", "--untracked-files=no", read_only=True)
    return lambda: [entry[3:] for entry in porcelain_entries(wait())]


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


def branch_name_ok_started(branch: str) -> Callable[[], bool]:
    # The caller has already made sure `branch` cannot start with '-'.
    wait = _begin(("-C", ".", "check-ref-format", "--branch", branch), None, _call_env())
    return lambda: wait().returncode == 0


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
    return attempt(repo, "check-ignore", "-q", "--no-index", "--", relpath).returncode == 0


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
        done = attempt(scratch, "-c", no_excludes_file, "check-ignore", "-q", "--no-index", "--", relpath)
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
    done = attempt(worktree, "check-ignore", "--stdin", "-z", input="".join(f"{p}\0" for p in sendable))
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
    if (path / ".gitmodules").is_file():  # git refuses to remove a worktree with a submodule checked out
        attempt(path, "submodule", "deinit", "--all", "--force", "--quiet")
    run(repo, "worktree", "remove", "--force", "--force", "--", str(path))


def update_submodules(worktree: Path) -> None:
    """Check out every submodule of a new worktree, and theirs, at the commits it records."""
    run(worktree, "submodule", "update", "--init", "--recursive", "--quiet")


def delete_branch_at(repo: Path, branch: str, commit: str) -> bool:
    """Delete refs/heads/<branch> only while it still points at `commit`; True when deleted."""
    return attempt(repo, "update-ref", "-d", f"refs/heads/{branch}", commit).returncode == 0


# --- removal -------------------------------------------------------------------------------------


def status_entries(worktree: Path, every_submodule: bool = False) -> list[str]:
    """Uncommitted changes and untracked (not ignored) paths, an untracked folder as one line.

    Untracked files count whatever the user's `status.showUntrackedFiles` says (`no` hides them).
    `every_submodule`: a submodule with changes or untracked files of its own is a change whatever
    `submodule.<name>.ignore` or `diff.ignoreSubmodules` says (for a worktree git is about to move:
    with `submodule.recurse` git moves its submodules with it, over their untracked files)."""
    return status_entries_started(worktree, every_submodule)()


def status_entries_started(worktree: Path, every_submodule: bool = False) -> Callable[[], list[str]]:
    """`status_entries`, started now: what it returns waits for the call (see: started)."""
    ignoring = ("--ignore-submodules=none",) if every_submodule else ()
    wait = _begin(
        ("-C", str(worktree), "status", "--porcelain=v1", "-z", "--untracked-files=normal", *ignoring),
        None,
        _call_env(True),
    )
    return lambda: porcelain_entries(_stdout(wait()))


# Whether one commit descends from another never changes once both exist: an answer about two commit
# ids in one repository (as named by the caller) is kept for the rest of the process, so a run that
# looks again (before and under its locks) asks git once. Only ids are kept, never a ref or HEAD,
# whose commit moves; per repository, since a shallow clone may not see what another one does;
# bounded, for a long-lived process (the MCP server).
_ANCESTRY_LIMIT = 4096
_ancestry: dict[tuple[str, str, str], bool] = {}
_counts: dict[tuple[str, str, str], tuple[int, int]] = {}


def _commit_id(rev: str) -> bool:
    return len(rev) in (40, 64) and all(c in "0123456789abcdef" for c in rev)


def _remember(memo: dict[tuple[str, str, str], T], key: tuple[str, str, str], answer: T) -> None:
    if _commit_id(key[1]) and _commit_id(key[2]):
        if len(memo) >= _ANCESTRY_LIMIT:
            memo.clear()
        memo[key] = answer


def is_ancestor(repo: Path, commit: str, of: str) -> bool:
    if commit == of and _commit_id(commit):
        return True
    known = _ancestry.get((str(repo), commit, of))
    if known is not None:
        return known
    done = attempt(repo, "merge-base", "--is-ancestor", commit, of)
    if done.returncode not in (0, 1):  # not a yes or a no (a commit that is not there): asked again next time
        return False
    _remember(_ancestry, (str(repo), commit, of), done.returncode == 0)
    return done.returncode == 0


def snapshot_folder(common_dir: Path, folder: Path, index_file: Path, message: str) -> str:
    """A parentless commit of every file in `folder` that is not ignored, its bytes as on disk, into
    the repository at `common_dir`: for a worktree folder whose admin entry (and so its HEAD) is gone."""
    where = (f"--git-dir={common_dir}", f"--work-tree={folder}")
    listed = run(folder, *where, "ls-files", "-z", "--others", "--exclude-standard", index_file=index_file)
    paths = [p for p in listed.split("\0") if p and not p.endswith("/")]
    updates = []
    for path in paths:
        target = folder / path
        if target.is_symlink():
            blob = run(folder, *where, "hash-object", "-w", "--no-filters", "--stdin", input=os.readlink(target))
            updates.append(f"120000 {blob.strip()}\t{path}\0")
        else:
            blob = run(folder, *where, *_AS_ON_DISK, "hash-object", "-w", "--no-filters", "--", path)
            mode = "100755" if os.access(target, os.X_OK) else "100644"
            updates.append(f"{mode} {blob.strip()}\t{path}\0")
    if updates:
        run(folder, *where, "update-index", "-z", "--index-info", input="".join(updates), index_file=index_file)
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
    done = attempt(repo, "config", "--get", key)
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
    done = attempt(repo, "cat-file", "blob", spec, index_file=index_file)
    return done.stdout if done.returncode == 0 else None


def clone(url: str, target: Path) -> None:
    run(target.parent, *DEFAULT_PROTOCOLS, "clone", "--quiet", "--", url, str(target))


def fetch(repo: Path) -> None:
    run(repo, *DEFAULT_PROTOCOLS, "fetch", "--quiet", "--all", "--prune")


# --- removal judge -------------------------------------------------------------------------------
# Questions whose answers no user config can change: untracked files are listed one by one whatever
# `status.showUntrackedFiles` says, submodules are never ignored, and bytes are read as they are on
# disk (no eol conversion, no filter).

_AS_ON_DISK = ("-c", "core.autocrlf=false", "-c", "core.safecrlf=false")


_EVERY_CHANGE = (
    "-c",
    "status.showUntrackedFiles=all",
    "status",
    "-z",
    "--untracked-files=all",
    "--ignore-submodules=none",
    "--no-renames",
)


def every_change(worktree: Path) -> list[str]:
    """Every change as `XY path` (porcelain v1): staged, unstaged, each untracked file on its own
    line, submodules included; no rename pairing."""
    return porcelain_entries(run(worktree, *_EVERY_CHANGE, "--porcelain=v1", read_only=True))


# A status that gives HEAD's commit too (`# branch.oid`); never how far the branch is from its
# upstream, which git would count by walking every commit between them.
_WITH_HEAD = ("--porcelain=v2", "--branch", "--no-ahead-behind")


@dataclass(frozen=True)
class WorktreeLook:
    """A worktree as one `git status` sees it: what removing it must know, in one process."""

    head: str | None  # HEAD's commit; None before the first commit
    changes: list[str]  # as every_change gives them
    ignored: list[str]  # untracked paths an ignore pattern matches; a folder it matches as one entry ending in '/'
    branch: str | None = None  # the branch checked out (short name); None on a detached HEAD


def look_at_worktree_started(worktree: Path) -> Callable[[], WorktreeLook]:
    """HEAD's commit, every change (as `every_change`) and the ignored paths, from one `git status`
    started now.

    An ignored folder is one entry (git does not look inside it); a folder that no pattern matches
    is looked into, its ignored files named one by one."""
    wait = started(worktree, *_EVERY_CHANGE, *_WITH_HEAD, "--ignored=matching", read_only=True)
    return lambda: _worktree_look(wait())


def branch_and_changes_started(worktree: Path, every_submodule: bool = False) -> Callable[[], WorktreeLook]:
    """HEAD's commit, the branch checked out and the changes as `status_entries` gives them (an
    untracked folder as one entry), from one `git status` started now (`ignored` is empty)."""
    ignoring = ("--ignore-submodules=none",) if every_submodule else ()
    wait = started(worktree, "status", *_WITH_HEAD, "-z", "--untracked-files=normal", *ignoring, read_only=True)
    return lambda: _worktree_look(wait())


def _worktree_look(out: str) -> WorktreeLook:
    head: str | None = None
    branch: str | None = None
    changes: list[str] = []
    ignored: list[str] = []
    fields = iter(out.split("\0"))
    for field in fields:
        kind = field[:2]
        if kind == "# ":
            key, _, value = field[2:].partition(" ")
            if key == "branch.oid" and value != "(initial)":
                head = value
            elif key == "branch.head" and value != "(detached)":
                branch = value
        elif kind == "? ":
            changes.append(f"?? {field[2:]}")
        elif kind == "! ":
            ignored.append(field[2:])
        elif kind in ("1 ", "2 ", "u "):
            # `1 XY sub mH mI mW hH hI path`; a `2` line has a score before its path and its source
            # path as the next field; `u XY sub m1 m2 m3 mW h1 h2 h3 path`.
            parts = field.split(" ", {"1 ": 8, "2 ": 9, "u ": 10}[kind])
            changes.append(f"{parts[1].replace('.', ' ')} {parts[-1]}")
            if kind == "2 ":
                next(fields, None)
    return WorktreeLook(head, changes, ignored, branch)


@dataclass(frozen=True)
class IndexEntry:
    tag: str  # ls-files -v: H normal, S skip-worktree, lower case assume-unchanged, M unmerged, ...
    mode: str
    blob: str
    path: str

    @property
    def hidden(self) -> bool:
        """Flagged so that `status` does not look at the file on disk (skip-worktree, assume-unchanged)."""
        return self.tag == "S" or self.tag.islower()


def index_entries_started(worktree: Path) -> Callable[[], list[IndexEntry]]:
    """The worktree's index, with each entry's skip-worktree / assume-unchanged tag (stage 0 and
    unmerged): started now, given when the result is called."""
    wait = started(worktree, "ls-files", "-v", "-s", "-z", read_only=True)
    return lambda: _index_entries(wait())


def _index_entries(out: str) -> list[IndexEntry]:
    found = []
    for line in filter(None, out.split("\0")):
        meta, _, path = line.partition("\t")
        tag, mode, blob, _stage = meta.split(" ")
        found.append(IndexEntry(tag, mode, blob, path))
    return found


def hidden_edits(worktree: Path, entries: Sequence[IndexEntry]) -> tuple[list[str], list[str]]:
    """Of the index's skip-worktree and assume-unchanged files (submodules aside), those on disk that
    differ from the index, and those assumed unchanged that are gone: `git status` shows neither."""
    hidden = [e for e in entries if e.hidden and e.mode != GITLINK]
    present = [e for e in hidden if os.path.lexists(worktree / e.path) and not (worktree / e.path).is_dir()]
    now = hashes_as_git_sees(worktree, [e.path for e in present]) if present else {}
    edited = [e.path for e in present if now[e.path] != e.blob]
    gone = [e.path for e in hidden if e.tag.islower() and not os.path.lexists(worktree / e.path)]
    return edited, gone


def hashes_as_git_sees(worktree: Path, paths: Sequence[str]) -> dict[str, str]:
    """The blob each file would be if added now (filters applied, nothing written): to compare a
    hidden file with its index entry as `status` would."""
    return _hashes(worktree, paths, filtered=True, write=False)


def store_as_on_disk(worktree: Path, paths: Sequence[str]) -> dict[str, str]:
    """Write each regular file's bytes exactly as on disk as a blob; path -> blob."""
    return _hashes(worktree, paths, filtered=False, write=True)


def _hashes(worktree: Path, paths: Sequence[str], *, filtered: bool, write: bool) -> dict[str, str]:
    flags = [*(["-w"] if write else []), *([] if filtered else ["--no-filters"])]
    plain = [p for p in paths if "\n" not in p and not any("\udc80" <= c <= "\udcff" for c in p)]
    found: dict[str, str] = {}
    if plain:
        out = run(
            worktree, *_AS_ON_DISK, "hash-object", *flags, "--stdin-paths", input="".join(f"{p}\n" for p in plain)
        )
        found.update(zip(plain, out.split(), strict=True))
    for path in paths:
        if path not in found:
            found[path] = run(worktree, *_AS_ON_DISK, "hash-object", *flags, "--", path).strip()
    return found


def store_bytes(repo: Path, data: str) -> str:
    """A blob of `data` (text as git gave it, surrogate-escaped), e.g. a symlink's target."""
    return run(repo, "hash-object", "-w", "--no-filters", "--stdin", input=data).strip()


def index_path(worktree: Path) -> Path:
    return Path(run(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").strip())


def tree_of_index(worktree: Path, index_file: Path, updates: Sequence[tuple[str, str, str]]) -> str | None:
    """Apply (mode, blob, path) updates (mode "0" deletes) to `index_file`, then its tree; None when
    the index cannot make a tree (a merge conflict in it)."""
    if updates:
        lines = "".join(
            f"{mode} {blob}\t{path}\0" if mode != "0" else f"0 {NULL_SHA}\t{path}\0" for mode, blob, path in updates
        )
        run(worktree, "update-index", "-z", "--index-info", input=lines, index_file=index_file)
    done = attempt(worktree, "write-tree", "--missing-ok", index_file=index_file)
    return done.stdout.strip() if done.returncode == 0 else None


def make_commit(repo: Path, tree: str, parents: Sequence[str], message: str) -> str:
    args = [arg for commit in dict.fromkeys(parents) for arg in ("-p", commit)]
    return run(repo, "commit-tree", tree, *args, "-m", message).strip()


def tree_of(repo: Path, commit: str) -> str:
    return run(repo, "rev-parse", f"{commit}^{{tree}}").strip()


# With log.showSignature, `git log` writes gpg's check of each signed commit into its output, ahead of
# the format asked for: every log read here asks for that format alone.
_LOG = ("log", "--no-show-signature")


def trees_of(repo: Path, commits: Sequence[str]) -> dict[str, str]:
    """commit -> its tree, in one call."""
    if not commits:
        return {}
    out = run(repo, *_LOG, "--no-walk=unsorted", "--format=%H %T", "--stdin", input="".join(f"{c}\n" for c in commits))
    return dict(line.split(" ") for line in out.splitlines() if line)


def head_commit(worktree: Path) -> str | None:
    return resolve_commits(worktree, ["HEAD"])["HEAD"]


def is_detached(worktree: Path) -> bool:
    return attempt(worktree, "symbolic-ref", "-q", "HEAD").returncode != 0


# The refs of one worktree alone: deleted with it.
_WORKTREE_OWN = ("refs/worktree/", "refs/bisect/", "refs/rewritten/")


@dataclass(frozen=True)
class RefsSeen:
    tips: list[str]  # the commit every ref shared by all worktrees points at (a tag peeled)
    own: dict[str, str]  # ref -> commit (a tag peeled), for the refs of this worktree alone (refs/worktree/, ...)
    # ref -> tag, for those of its own refs that name a tag of a tag (git peels one level here)
    own_tags_of_tags: dict[str, str]


def refs_seen_started(worktree: Path) -> Callable[[], RefsSeen]:
    """The refs `worktree` sees, from one call started now: the shared ones' commits and its own
    refs. Another worktree's own refs (the main worktree's refs/bisect/, say) are not seen from here."""
    wait = started(
        worktree,
        "for-each-ref",
        "--format=%(refname) %(objectname) %(objecttype) %(*objectname) %(*objecttype)",
        read_only=True,
    )
    return lambda: _refs_seen(wait())


def _refs_seen(out: str) -> RefsSeen:
    tips: list[str] = []
    own: dict[str, str] = {}
    own_tags_of_tags: dict[str, str] = {}
    for line in out.splitlines():
        ref, name, kind, peeled, peeled_kind = [*line.split(" "), "", "", "", ""][:5]
        # A tag is taken for the commit it names: an own ref that is one reaches that commit too.
        commit = name if kind == "commit" else peeled if kind == "tag" and peeled_kind == "commit" else None
        if ref.startswith(_WORKTREE_OWN):
            if commit is not None:
                own[ref] = commit
            elif peeled_kind == "tag":
                own_tags_of_tags[ref] = name
        elif commit is not None:
            tips.append(commit)
    return RefsSeen(list(dict.fromkeys(tips)), own, own_tags_of_tags)


@dataclass(frozen=True)
class LoggedCommit:
    commit: str
    action: str  # the reflog entry's message: "commit (amend): ...", "rebase (finish): ...", ...


def head_reflog(worktree: Path, git_dir: Path | None = None) -> list[LoggedCommit]:
    """This worktree's HEAD reflog, newest first (empty when it has none).

    `git_dir`: the worktree's own git dir (its admin dir; a main worktree's `.git`), whose
    `logs/HEAD` is then read as it is, with no git process: one line an entry, `old new who when
    zone<TAB>message`, oldest first. Where that file is not there git is asked: a repository
    whose refs are kept in a reftable has its reflogs there, and no such file."""
    text = None
    if git_dir is not None:
        try:
            text = (git_dir / "logs" / "HEAD").read_bytes().decode("utf-8", "surrogateescape")
        except FileNotFoundError:
            text = None
    if text is not None:
        logged = []
        for line in text.splitlines():
            entry, _, action = line.partition("\t")
            fields = entry.split(" ", 2)
            if len(fields) == 3 and len(fields[1]) >= 40 and fields[1] != NULL_SHA:
                logged.append(LoggedCommit(fields[1], action))
        return logged[::-1]
    done = attempt(worktree, "reflog", "show", "--no-show-signature", "--format=%H %gs", "HEAD", "--", read_only=True)
    if done.returncode != 0:
        return []
    found = []
    for line in done.stdout.splitlines():
        commit, _, action = line.partition(" ")
        if len(commit) >= 40:
            found.append(LoggedCommit(commit, action))
    return found


def commits_no_ref_reaches(repo: Path, tips: Sequence[str], refs: Sequence[str]) -> list[str]:
    """The commits `tips` reach and none of `refs` does; newest first."""
    if not tips:
        return []
    lines = _revisions(tips, refs)
    return run(repo, "rev-list", "--topo-order", "--stdin", input=lines).split()


def _revisions(included: Sequence[str], excluded: Sequence[str]) -> str:
    """Revisions for `--stdin`, one a line (`^` excludes: git before 2.42 takes no `--not` there)."""
    return "".join(f"{c}\n" for c in included) + "".join(f"^{c}\n" for c in excluded)


def fork_points(repo: Path, tips: Sequence[str], refs: Sequence[str]) -> list[str]:
    """Where what only `tips` reach joins what `refs` reach: the boundary commits."""
    lines = _revisions(tips, refs)
    out = run(repo, "rev-list", "--boundary", "--stdin", input=lines)
    return [line[1:] for line in out.splitlines() if line.startswith("-")]


def commits_since(repo: Path, refs: Sequence[str], since: Sequence[str], limit: int, not_before: int) -> list[str]:
    """Non-merge commits `refs` reach and `since` do not, committed at `not_before` (epoch seconds)
    or later, at most `limit`."""
    lines = _revisions(refs, since)
    args = ("--no-merges", f"--max-count={limit}", f"--max-age={not_before}", "--stdin")
    return run(repo, "rev-list", *args, input=lines).split()


def oldest_commit_time(repo: Path, commits: Sequence[str]) -> int:
    """The earliest committer time (epoch seconds) of `commits`."""
    out = run(repo, *_LOG, "--no-walk=unsorted", "--format=%ct", "--stdin", input="".join(f"{c}\n" for c in commits))
    return min(int(t) for t in out.split())


# A patch as git stores it, whatever the user's diff config says: what patch-id must compare.
_PATCH_AS_IS = ("--no-color", "--no-ext-diff", "--no-textconv", "--full-index", "--binary")


def patch_ids(repo: Path, commits: Sequence[str]) -> dict[str, str]:
    """commit -> its `git patch-id --stable` (commits with no diff, merges included, have none)."""
    if not commits:
        return {}
    shown = run(
        repo,
        *_LOG,
        "--no-walk=unsorted",
        "-p",
        *_PATCH_AS_IS,
        "--format=commit %H",
        "--stdin",
        input="".join(f"{c}\n" for c in commits),
    )
    out = run(repo, "patch-id", "--stable", input=shown)
    found = {}
    for line in out.splitlines():
        patch, _, commit = line.partition(" ")
        found[commit] = patch
    return found


def span_patch_ids(repo: Path, spans: Sequence[tuple[str, str]]) -> dict[str, str]:
    """tip -> the `git patch-id --stable` of the whole change from base to tip, for each (base, tip):
    what a squash of those commits would hold (spans with no change have none)."""
    shown = ""
    for base, tip in spans:
        diff = run(repo, "diff-tree", "-p", *_PATCH_AS_IS, base, tip)
        shown += f"commit {tip}\n{diff}"
    out = run(repo, "patch-id", "--stable", input=shown) if shown else ""
    found = {}
    for line in out.splitlines():
        patch, _, tip = line.partition(" ")
        found[tip] = patch
    return found


def containing_refs(repo: Path, commit: str, patterns: Sequence[str]) -> list[str]:
    """The refs under `patterns` (refs/heads/, refs/remotes/, ...) that contain `commit`."""
    return run(repo, "for-each-ref", "--contains", commit, "--format=%(refname)", *patterns).splitlines()


def unpushed_in_submodule(submodule: Path) -> int:
    """How many commits the submodule's HEAD and local refs (branches, tags, its stash...) reach that
    none of its remote-tracking refs does: its git dir goes with the worktree."""
    out = run(submodule, "rev-list", "--count", "HEAD", "--all", "--not", "--remotes")
    return int(out.strip() or 0)


def delete_ref_at(repo: Path, ref: str, commit: str) -> bool:
    return delete_ref_if_at(repo, ref, commit).returncode == 0


def independent(repo: Path, commits: Sequence[str]) -> list[str]:
    """Those of `commits` that no other of them reaches (the tips)."""
    return run(repo, "merge-base", "--independent", *commits).split() if commits else []


def parents_of(repo: Path, commits: Sequence[str]) -> dict[str, list[str]]:
    out = run(repo, "rev-list", "--no-walk=unsorted", "--parents", "--stdin", input="".join(f"{c}\n" for c in commits))
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line}


@dataclass(frozen=True)
class TreeChange:
    status: str  # A, M, D, T
    mode: str  # the new mode (000000 when deleted)
    blob: str
    path: str


def tree_changes(repo: Path, old: str, new: str) -> list[TreeChange]:
    """What turns commit `old`'s tree into commit `new`'s, file by file (no renames)."""
    out = run(repo, "diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", old, new)
    fields = out.split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.lstrip(":").split()
        if len(parts) == 5:
            changes.append(TreeChange(parts[4], parts[1], parts[3], path))
    return changes


def blob_bytes(repo: Path, blob: str) -> bytes:
    """A blob's bytes, exactly."""
    return run(repo, "cat-file", "blob", blob).encode("utf-8", "surrogateescape")


def merge_base(repo: Path, one: str, other: str) -> str | None:
    done = attempt(repo, "merge-base", one, other)
    return done.stdout.strip() if done.returncode == 0 else None


def octopus_base(repo: Path, commits: Sequence[str]) -> str | None:
    """The best common ancestor of all `commits` (`merge-base --octopus`); None when they have none."""
    if not commits:
        return None
    done = attempt(repo, "merge-base", "--octopus", *commits, read_only=True)
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def prune_worktrees(repo: Path, dry_run: bool) -> Completed:
    """`git worktree prune --verbose` (what it prunes is said on stderr), whatever its exit code."""
    return attempt(repo, "worktree", "prune", "--verbose", *(["--dry-run"] if dry_run else []))


def repair_worktree(worktree: Path) -> Completed:
    """Point a moved worktree's admin entry at where it is now, whatever the exit code."""
    return attempt(worktree, "worktree", "repair")


# --- landing -------------------------------------------------------------------------------------
# Reads run with GIT_OPTIONAL_LOCKS=0: a read never takes a worktree's index.lock, so a read stopped
# by a signal cannot leave one behind in someone's worktree.


def read(repo: Path, *args: str) -> str:
    """A read-only query (`rev-parse`, `for-each-ref`, `rev-list`, `log`, `diff`...): its stdout."""
    return run(repo, *args, read_only=True)


def common_dir_and_ref(repo: Path, rev: str) -> tuple[Path, str]:
    """The repository's common dir, and the full name of the ref `rev` names ("" when none)."""
    lines = read(repo, "rev-parse", "--path-format=absolute", "--git-common-dir", "--symbolic-full-name", rev)
    found = lines.splitlines()
    return Path(found[0]), found[1] if len(found) > 1 else ""


def ref_records(repo: Path, refs: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(ref, commit, upstream short name, git's "ahead 1, behind 2" against it) of each ref there is."""
    fmt = "%(refname)%00%(objectname)%00%(upstream:short)%00%(upstream:track,nobracket)"
    out = read(repo, "for-each-ref", f"--format={fmt}", *refs)
    return [(f[0], f[1], f[2], f[3]) for f in (line.split("\0") for line in out.splitlines())]


def behind_ahead(repo: Path, base: str, head: str) -> tuple[int, int]:
    """Commits of `base` not in `head`, and of `head` not in `base` (see is_ancestor: kept for ids)."""
    known = _counts.get((str(repo), base, head))
    if known is not None:
        return known
    behind, ahead = (int(n) for n in read(repo, "rev-list", "--left-right", "--count", f"{base}...{head}").split())
    _remember(_counts, (str(repo), base, head), (behind, ahead))
    _remember(_ancestry, (str(repo), base, head), behind == 0)
    _remember(_ancestry, (str(repo), head, base), ahead == 0)
    return behind, ahead


@dataclass(frozen=True)
class Divergence:
    """Where a branch stands against its base: commits of the base it lacks (`behind`), its own
    commits (`own`, which the base lacks), and one of them that is a merge commit, if any."""

    behind: int
    own: frozenset[str]
    merge: str | None

    @property
    def ahead(self) -> int:
        return len(self.own)


_divergences: dict[tuple[str, str, str], Divergence] = {}


def divergence(repo: Path, base: str, head: str) -> Divergence:
    """`behind_ahead`, and which commits are the head's own, from one listing (kept for ids, as
    `behind_ahead` is): what a landing asks of every branch before it rebases it."""
    known = _divergences.get((str(repo), base, head))
    if known is not None:
        return known
    behind, own, merge = 0, set(), None
    for line in read(repo, "rev-list", "--left-right", "--parents", f"{base}...{head}").splitlines():
        side, commit, *parents = line[:1], *line[1:].split()
        if side == "<":
            behind += 1
        elif side == ">":
            own.add(commit)
            merge = merge or (commit if len(parents) > 1 else None)
    found = Divergence(behind, frozenset(own), merge)
    _remember(_divergences, (str(repo), base, head), found)
    _remember(_counts, (str(repo), base, head), (behind, len(own)))
    _remember(_ancestry, (str(repo), base, head), behind == 0)
    _remember(_ancestry, (str(repo), head, base), not own)
    return found


def last_commit(worktree: Path) -> tuple[str, str, str]:
    """HEAD's id, committer date (ISO) and subject."""
    sha, date, subject = read(worktree, *_LOG, "-1", "--format=%H%x00%cI%x00%s", "HEAD").rstrip("\n").split("\0")
    return sha, date, subject


def common_ancestor(repo: Path, one: str, other: str) -> str:
    """The merge base of two commits that have one (GitFailed otherwise)."""
    return read(repo, "merge-base", one, other).strip()


def numstat(worktree: Path, since: str) -> list[tuple[str, str]]:
    """(added, deleted) per file changed since `since`, committed or not ("-" for a binary file)."""
    rows = []
    for line in read(worktree, "diff", "--numstat", "-z", since).split("\0"):
        added, _, rest = line.partition("\t")
        deleted, _, _ = rest.partition("\t")
        if rest:
            rows.append((added, deleted))
    return rows


def common_dir_of(repo: Path) -> Path:
    """The common dir of the repository whose main worktree is `repo` (a clone, the root): its `.git`
    folder with no git process when that is a repository's own (a linked worktree's holds
    `commondir`); else git's answer (a `--separate-git-dir` clone); else `repo/.git`."""
    dot_git = repo / ".git"
    if dot_git.is_dir() and not dot_git.is_symlink() and not (dot_git / "commondir").exists():
        return dot_git
    found = locate(repo)
    return found.common_dir if found else dot_git


def git_dir(worktree: Path) -> Path:
    """The worktree's own git dir (`.git`, a `--separate-git-dir` target, or `.git/worktrees/x`).

    A `.git` folder of a repository (its HEAD and objects there) is the one git finds first from the
    worktree's top: it is the answer with no git process. Anything else is git's to say."""
    dot_git = worktree / ".git"
    if not dot_git.is_symlink() and (dot_git / "HEAD").is_file() and (dot_git / "objects").is_dir():
        return dot_git
    return Path(read(worktree, "rev-parse", "--path-format=absolute", "--git-dir").strip())


def tip_of(repo: Path, ref: str) -> str | None:
    return resolve_commits(repo, [ref])[ref]


def index_matches(worktree: Path, commit: str, index_file: Path | None = None) -> bool:
    """Whether the index holds exactly `commit`'s tree, submodule commits included whatever
    `submodule.<name>.ignore` or `diff.ignoreSubmodules` says."""
    done = attempt(
        worktree,
        *("diff-index", "--cached", "--quiet", "--ignore-submodules=none", commit, "--"),
        read_only=True,
        index_file=index_file,
    )
    return done.returncode == 0


def blobs_in(repo: Path, commit: str, paths: Sequence[str]) -> dict[str, str]:
    """The blob id of each of `paths` in `commit` (a path not there is left out)."""
    if not paths:
        return {}
    out = read(repo, "ls-tree", "-z", "--full-tree", commit, "--", *paths)
    found: dict[str, str] = {}
    for entry in filter(None, out.split("\0")):
        meta, _, path = entry.partition("\t")
        found[path] = meta.split()[2]
    return found


def hash_files(worktree: Path, paths: Sequence[str]) -> dict[str, str]:
    """The blob id each file in the worktree would be stored as (its path's filters applied)."""
    if not paths:
        return {}
    out = run(worktree, "hash-object", "--stdin-paths", input="".join(f"{p}\n" for p in paths), read_only=True)
    return dict(zip(paths, out.split(), strict=True))


def link_blobs(worktree: Path, paths: Sequence[str]) -> dict[str, str]:
    """The blob id of each symlink among `paths` as git stores one (its target), nothing written."""
    return {
        path: run(
            worktree, "hash-object", "--no-filters", "--stdin", input=os.readlink(worktree / path), read_only=True
        ).strip()
        for path in paths
    }


def move_ref(repo: Path, ref: str, new: str, old: str, message: str) -> Completed:
    """Compare-and-swap: `ref` from `old` to `new`, only while it is still at `old`."""
    return attempt(repo, "update-ref", "-m", message, ref, new, old)


def try_move_ref(repo: Path, ref: str, new: str, old: str) -> Completed:
    """`move_ref` tried and not made: a transaction prepared (the ref locked, its value checked, the
    reference-transaction hooks asked) and aborted. Fails where the move would."""
    return attempt(repo, "update-ref", "--stdin", input=f"start\nupdate {ref} {new} {old}\nprepare\nabort\n")


# A file system monitor's word that a file is unchanged is not taken where git writes over files: one
# that has not reported an edit yet (watchman lets events settle first) would have it written over.
_NO_MONITOR = ("-c", "core.fsmonitor=false")


def refresh_index(worktree: Path, index_file: Path) -> None:
    """Refresh the stat data of `index_file` (a file touched but unchanged is not a change), of
    assume-unchanged files too (git's checks of a file it writes over look at them all the same)."""
    attempt(worktree, *_NO_MONITOR, "update-index", "-q", "--really-refresh", index_file=index_file)


def two_tree_checkout(worktree: Path, old: str, new: str, index_file: Path, dry_run: bool = False) -> Completed:
    """Move the worktree's files and `index_file` from `old` to `new`, as a fast-forward does; git
    refuses (and changes nothing) where a file is not as the index says, looked at on disk whatever a
    file system monitor says. `dry_run`: whether git would refuse, with nothing written (but
    `index_file`'s own lock, taken and dropped)."""
    trial = ["-n"] if dry_run else []
    return attempt(worktree, *_NO_MONITOR, "read-tree", "-m", "-u", *trial, old, new, index_file=index_file)


# rebase.updateRefs (git 2.38+) would move every other local branch that points into the rebased
# range too (a user's branch, a builder made from this one), and a put-back would not move them back:
# only the worktree's own branch may move (as config: git before 2.38 has no --no-update-refs).
# rebase.backend=apply drops every commit that was made empty on purpose, without a word. A file
# system monitor's word is not taken (see _NO_MONITOR): the rebase writes the files the base changed.
# --no-autostash (for the merge too): with rebase.autoStash or merge.autoStash, an uncommitted edit
# the look before missed would go to the stash, shared by every worktree, and come back as conflict
# markers in a run that reports fine; without it git refuses, and the run puts every repo back.
_REBASE_AS_DEFAULT = ("-c", "rebase.updateRefs=false", "-c", "rebase.backend=merge", *_NO_MONITOR)


def rebase_onto(worktree: Path, base_ref: str) -> Completed:
    return attempt(worktree, *_REBASE_AS_DEFAULT, "rebase", "--quiet", "--no-autostash", base_ref)


def merge_in(worktree: Path, base_ref: str, message: str) -> Completed:
    return attempt(worktree, *_NO_MONITOR, "merge", "--quiet", "--no-edit", "--no-autostash", "-m", message, base_ref)


def abort(worktree: Path, operation: str) -> Completed:
    """`git rebase --abort` or `git merge --abort`: back to where the operation started."""
    return attempt(worktree, operation, "--abort")


def conflicted_files(worktree: Path) -> list[str]:
    out = attempt(worktree, "diff", "--name-only", "--diff-filter=U", "-z", read_only=True).stdout
    return [f for f in out.split("\0") if f]


def head_of(worktree: Path) -> str:
    return read(worktree, "rev-parse", "--verify", "HEAD").strip()


def head_of_git_dir(git_dir: Path) -> str:
    """HEAD of the worktree whose git dir (an admin dir, or the common dir) is `git_dir`, as its HEAD
    file would say it: `ref: refs/heads/x`, or a commit id; "" when git cannot say. Asked of git,
    which finds it where the repository keeps it (a reftable); the worktree's folder is not needed."""
    found = attempt(git_dir, f"--git-dir={git_dir}", "symbolic-ref", "-q", "HEAD", read_only=True)
    if found.returncode == 0:
        return f"ref: {found.stdout.strip()}"
    found = attempt(git_dir, f"--git-dir={git_dir}", "rev-parse", "-q", "--verify", "HEAD", read_only=True)
    return found.stdout.strip() if found.returncode == 0 else ""


def head_and_tracked_changes(worktree: Path, every_submodule: bool = False) -> WorktreeLook:
    """HEAD's commit and the changes of tracked files (`status_entries` less its `??` entries), from
    one `git status` (`ignored` is empty). `every_submodule`: a submodule with changes or untracked
    files of its own is a change whatever `submodule.<name>.ignore` or `diff.ignoreSubmodules` says
    (for a checkout about to move: with `submodule.recurse` git moves its submodules with it, and
    writes over their untracked files without a word).

    Untracked files are looked for all the same: told not to, git stops looking inside submodules for
    them too, and a submodule holding only untracked files would pass for clean."""
    ignoring = ("--ignore-submodules=none",) if every_submodule else ()
    look = _worktree_look(read(worktree, "status", *_WITH_HEAD, "-z", "--untracked-files=normal", *ignoring))
    return WorktreeLook(look.head, [e for e in look.changes if not e.startswith("?? ")], [])


def reset_keep(worktree: Path, commit: str) -> Completed:
    """Move the checked-out branch, index and files to `commit`; git refuses (changing nothing) where
    a local change would be lost."""
    return attempt(worktree, *_NO_MONITOR, "reset", "--quiet", "--keep", commit)


def squash_commit(worktree: Path, head: str, parent: str, message: str) -> str:
    """A commit with `head`'s tree on top of `parent` (no hook runs; no ref moves), signed when the
    user's commit.gpgSign says their commits are, as the rebase's are (commit-tree ignores it)."""
    asked = attempt(worktree, "config", "--type=bool", "--get", "commit.gpgSign", read_only=True)
    sign = ("-S",) if asked.stdout.strip() == "true" else ()
    return run(worktree, "commit-tree", *sign, f"{head}^{{tree}}", "-p", parent, "-m", message).strip()


def push_ref(repo: Path, remote: str, branch: str) -> Completed:
    """Push refs/heads/<branch> to the same name on `remote`, never forced."""
    return attempt(repo, "push", "--porcelain", "--", remote, f"refs/heads/{branch}:refs/heads/{branch}")


def remotes(repo: Path) -> list[str]:
    return read(repo, "remote").split()


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


def branches_started(repo: Path, fmt: str, *patterns: str) -> Callable[[], str]:
    """Start listing the refs under `patterns` in `fmt` (for-each-ref); call the result for its stdout."""
    return started(repo, "for-each-ref", f"--format={fmt}", *patterns)


def any_commit_started(repo: Path) -> Callable[[], str]:
    """Start looking for one commit that a branch, remote branch or tag names ("" when there is none)."""
    return started(
        repo, "for-each-ref", "--count=1", "--format=%(objectname)", "refs/heads/", "refs/remotes/", "refs/tags/"
    )


def readable_started(repo: Path) -> Callable[[], str]:
    """Start the cheapest question git can answer of a repository (its git dir): whether it is readable."""
    return started(repo, "rev-parse", "--git-dir")


def checked_out_branch(worktree: Path) -> str | None:
    """The full name of the branch checked out (refs/heads/x), None on a detached HEAD or a failure."""
    done = attempt(worktree, "symbolic-ref", "--quiet", "HEAD", read_only=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def is_clean(worktree: Path) -> bool:
    """Whether git can read the worktree's status and it shows nothing at all, untracked files
    included whatever `status.showUntrackedFiles` says."""
    done = attempt(worktree, "status", "--porcelain", "-z", "--untracked-files=all", read_only=True)
    return done.returncode == 0 and not done.stdout


def delete_ref_if_at(repo: Path, ref: str, commit: str) -> Completed:
    """Delete `ref` only while it is still at `commit` (git's compare-and-swap)."""
    return attempt(repo, "update-ref", "-d", ref, commit)


def move_worktree(repo: Path, source: Path, target: Path) -> None:
    run(repo, "worktree", "move", "--", str(source), str(target))


def current_branch(worktree: Path) -> str:
    """The short name of the branch checked out ("" on a detached HEAD)."""
    return read(worktree, "branch", "--show-current").strip()
