"""Creating builders, the engine behind `new`, `add`, `init` and the post-checkout hook.

Plan everything first (names, repos, bases, target paths, branches), then apply the planned
checkouts as one unit: a failure or an interrupt undoes what this run made, and a re-run after a
crash takes up what the crashed run left. Then copy-in files, mark the builder ready, run setup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from workspace_builders.base import faults, interface, interrupts, output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import (
    RepoSpec,
    check_builder_name,
    check_ref,
    closest,
    did_you_mean,
    parse_repo_specs,
)
from workspace_builders.engine import builder_files, builder_scripts, checkout, copy_in
from workspace_builders.engine.checkout import Checkout
from workspace_builders.gitlayer import git, links, locks
from workspace_builders.gitlayer.locks import builder_lock
from workspace_builders.model import bases, ports, sparse, state
from workspace_builders.model.state import BuilderState, RepoState
from workspace_builders.model.workspace import REPOS, ROOT, Location, Workspace

TYPE_CHECKING = False  # annotations are never evaluated
if TYPE_CHECKING:
    from workspace_builders.model.config import RepoConfig

ALL = "all"


# --- planning ------------------------------------------------------------------------------------


def plan_builder(ws: Workspace, name: str, base: str | None, previous: BuilderState | None) -> Checkout:
    """Validate everything about the builder worktree itself; create nothing."""
    branch = ws.branch(name)
    # Two looks that depend on nothing here run side by side. A root with no commits is refused by
    # the plan below, which resolves its base.
    name_ok, root_branches = git.branch_name_ok_started(branch), bases.started(ws.root)
    if not name_ok():
        raise bad_input(f"{branch!r} is not a valid branch name", "pick a simpler builder name")
    ws.check_builders_dir()
    ws.require_repos_ignored()
    if previous is not None and previous.status == state.READY:
        raise BuildersError(
            f"builder {name!r} already exists at {previous.path}",
            f"add repos to it with: {output.command('builders', 'init', '--builder', name, '--repos')} REPOS,"
            " or pick another name",
        )
    branches = root_branches()
    planned = checkout.plan(
        ROOT,
        ws.root,
        ws.common_dir,
        ws.builder_path(name),
        branch,
        [check_ref(base, "--base")] if base else [branches.default_base()],
        explicit=base is not None,
        trash=ws.trash_dir,
        resumable=previous.base_commit if previous else None,
    )
    return _with_remote_note(planned, branches)


def _with_remote_note(planned: Checkout, branches: bases.Branches) -> Checkout:
    """Say when the local base branch and its remote differ: the builder starts from the local one."""
    note = branches.remote_note(planned.base_ref) if planned.base_ref.startswith(bases.HEADS) else None
    return replace(planned, note=note) if note else planned


def new_record(name: str, builder: Checkout) -> BuilderState:
    return BuilderState(name, str(builder.target), builder.branch, builder.base_ref, builder.base_commit)



def select_repos(ws: Workspace, text: str | None, seen: dict[str, bases.Branches] | None = None) -> list[RepoSpec]:
    """The repos named by REPOS (`a,b:base`, `all`), or the configured default repos.

    `seen` is given the branches read on the way (`all` reads every clone's), for planning to use."""
    named = (text or "").strip()
    if named or ws.config.default_repos:
        ws.require_repos_dir()  # a builder of no repos needs none
    specs = parse_repo_specs(named) if named else [RepoSpec(name, None) for name in ws.config.default_repos]
    known = ws.known_repos()
    if named and not specs:  # `--repos ,`: something was typed, and it names nothing
        example = ",".join(sorted(known)[:2]) or "NAME"
        raise bad_input(
            f"{named!r} in {interface.called('--repos', 'REPOS')} names no repo",
            f"name them: {interface.option('--repos', 'REPOS', example)}; or leave it out for the default repos",
        )
    if any(s.name == ALL for s in specs) and ALL not in known:
        if len(specs) > 1 or specs[0].base is not None:
            raise bad_input(
                f"'all' stands alone in {interface.called('--repos', 'REPOS')}",
                f"use {interface.option('--repos', 'REPOS', 'all')}, or list the repos by name",
            )
        specs = _usable(ws, known, {} if seen is None else seen)
    unknown = [s.name for s in specs if s.name not in known]
    if unknown:
        where = "workspaces.yaml" if ws.config.repos is not None else f"{ws.repos_dir}/"
        raise bad_input(
            f"unknown repo{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            f"{did_you_mean(unknown, known)}known repos (from {where}): {', '.join(known) or '(none)'}",
        )
    missing = [s.name for s in specs if not (ws.clone(s.name) / ".git").exists()]
    if missing:
        raise bad_input(
            f"declared but not cloned into {ws.repos_dir}/: {', '.join(missing)}",
            "clone them: builders repos sync",
        )
    return specs


def _usable(ws: Workspace, known: Sequence[str], seen: dict[str, bases.Branches]) -> list[RepoSpec]:
    """`all`: every known repo that is cloned and has a commit; the others are named and skipped.

    A clone's branches say it has a commit (they are what planning reads next, so they are kept in
    `seen`); only one with no branch at all is asked again, for a tag."""
    cloned = [name for name in known if (ws.clone(name) / ".git").exists()]
    for name in known:
        if name not in cloned:
            output.say(f"skipping {name}: declared but not cloned into {ws.repos_dir}/ (builders repos sync)")
    usable = []
    for name, outcome in git.side_by_side(cloned, lambda name: bases.started(ws.clone(name))):
        if isinstance(outcome, bases.Branches):
            seen[name] = outcome
            if not outcome.tips and not git.any_commit_started(ws.clone(name))().strip():
                output.say(f"skipping {name}: {ws.clone(name)} has no commits")
                continue
        usable.append(RepoSpec(name, None))  # a failure to look is planning's to report
    return usable


def plan_repos(
    ws: Workspace,
    builder_path: Path,
    branch: str,
    specs: Sequence[RepoSpec],
    previous: BuilderState | None,
    taken: list[checkout.BranchTaken] | None = None,
    sparse_overrides: dict[str, sparse.Dirs] | None = None,
    seen: dict[str, bases.Branches] | None = None,
    builder: Callable[[], Checkout] | None = None,
) -> list[Checkout]:
    """The checkout of each repo; `builder` plans the builder's own worktree side by side with them
    (its checkout comes first). `seen`: branches already read, by repo."""

    def plan_one(spec: RepoSpec) -> Checkout:
        source = ws.clone(spec.name)
        common_dir, branches = _repository(source, (seen or {}).get(spec.name))
        configured = ws.config.repos.get(spec.name) if ws.config.repos else None
        base = spec.base or (configured.base if configured else None)
        earlier = previous.repo(spec.name) if previous else None
        # A builder that exists and records this repo owns its branch: a worktree of it that was lost
        # (its folder deleted, then pruned) is made again on the branch, commits and all.
        own = earlier is not None and previous is not None and previous.status != state.CREATING
        planned = checkout.plan(
            spec.name,
            source,
            common_dir,
            builder_path / REPOS / spec.name,
            branch,
            [base] if base else [branches.default_base()],
            explicit=base is not None,
            trash=ws.trash_dir,
            resumable=earlier.base_commit if earlier else None,
            own_branch=own,
        )
        override = (sparse_overrides or {}).get(spec.name)
        return _with_sparse(_with_remote_note(planned, branches), override, earlier, configured)

    jobs: list[Callable[[], Checkout]] = [partial(plan_one, spec) for spec in specs]
    labels = [spec.name for spec in specs]
    if builder is not None:
        jobs.insert(0, builder)
        labels.insert(0, ROOT)
    outcomes = [(label, o) for label, (_, o) in zip(labels, parallel.each(jobs, lambda job: job()), strict=True)]
    first = outcomes[0][1] if builder is not None else None
    if isinstance(first, BaseException) and not isinstance(first, checkout.BranchTaken):
        raise first  # the builder itself cannot be made: that alone is said, as the repos' come after it
    if taken is not None:  # the caller names every taken branch in one error
        taken += [outcome for _, outcome in outcomes if isinstance(outcome, checkout.BranchTaken)]
        outcomes = [(label, o) for label, o in outcomes if not isinstance(o, checkout.BranchTaken)]
    parallel.raise_failures(outcomes)
    return [outcome for _, outcome in outcomes if isinstance(outcome, Checkout)]


def _repository(source: Path, branches: bases.Branches | None) -> tuple[Path, bases.Branches]:
    """A clone's common dir and its branches (those read already, if given), refusing a folder that is
    no repository of its own.

    A clone whose `.git` is a folder (not a linked worktree's, which holds `commondir`) is its own
    common dir: git is asked only when reading its branches fails, or for any other layout."""
    dot_git = source / ".git"
    if dot_git.is_dir() and not dot_git.is_symlink() and not (dot_git / "commondir").exists():
        try:
            return dot_git, branches or bases.read(source)
        except git.GitFailed:
            pass  # said below, as for any folder that is no repository
    found = git.locate(source)
    if found is None or found.toplevel.resolve() != source.resolve():
        raise bad_input(f"{source.name}: {source} is not a git repository", f"re-clone it into {source}")
    return found.common_dir, branches or bases.read(source)


def refuse_taken(taken: Sequence[checkout.BranchTaken]) -> None:
    """One error for every repository where the builder's branch exists already (the root's and each
    repo's), so that one fix, not one round per repository, clears the way."""
    if not taken:
        return
    if len(taken) == 1:
        raise taken[0]
    branch = taken[0].branch
    where = ", ".join(f"{t.label} ({t.source})" for t in taken)
    in_use = [t.label for t in taken if t.in_use]
    if in_use:
        hint = (
            f"pick another builder name: {branch} is checked out or is the base in {', '.join(in_use)},"
            " not a leftover builder branch"
        )
    else:
        deletes = " && ".join(t.delete for t in taken)
        hint = f"pick another builder name, or delete the leftover branches if they hold nothing: {deletes}"
    raise BuildersError(f"branch {branch} already exists in {len(taken)} repositories: {where}", hint)


def _with_sparse(
    planned: Checkout, override: sparse.Dirs | None, earlier: RepoState | None, configured: RepoConfig | None
) -> Checkout:
    """The checkout with its sparse folders: the `--sparse` override, else what a crashed run of this
    builder recorded, else the repo's preset. A folder the base does not have is named, not refused
    (it may come with a later commit)."""
    folders = override
    if folders is None and earlier is not None and earlier.sparse is not None:
        folders = tuple(earlier.sparse)
    if folders is None and configured is not None:
        folders = configured.sparse
    if folders is None or planned.action == checkout.PRESENT:
        return planned
    missing = git.missing_folders(planned.source, planned.base_commit, folders)
    if missing:
        output.say(f"warning: {planned.label}: sparse folder(s) not at its base: {', '.join(missing)}")
    return replace(planned, sparse=folders)


def plan_lines(checkouts: Sequence[Checkout]) -> str:
    rows = [
        [
            c.label,
            f"{c.action} ({sparse.shown(c.sparse)})" if c.sparse is not None else c.action,
            str(c.target),
            c.branch,
            f"{checkout.short_ref(c.base_ref)} ({output.short(c.base_commit)})",
        ]
        for c in checkouts
    ]
    return output.table(rows, ["repo", "action", "path", "branch", "base"])


# --- applying ------------------------------------------------------------------------------------


def build(
    ws: Workspace,
    record: BuilderState,
    checkouts: Sequence[Checkout],
    previous: BuilderState | None,
    copy_root: bool = False,
) -> None:
    """Apply the checkouts (a builder's own first, if listed) and copy-in, as one unit.

    `copy_root`: copy the root's files in too, for a builder git made (a plain `git worktree add`).

    On any failure or interrupt, undo what this run created, put the state back as it was, re-raise.
    """
    done: list[Checkout] = []
    made_builders_dir = not ws.builders_dir.exists()
    try:
        state.save(ws, record)
        faults.point("create:state-saved")
        first = [c for c in checkouts if c.label == ROOT]
        for c in first:
            done.append(c)
            checkout.apply(c)
            output.say(f"  {ROOT}: {_progress(c)}")
            faults.point("create:root")
        repos = [c for c in checkouts if c.label != ROOT]
        done.extend(repos)
        outcomes = parallel.each(repos, checkout.apply, _report)
        parallel.raise_failures([(c.label, r) for c, r in outcomes])
        faults.point("create:repos")
        _require_finished(checkouts)
        # Taking up a crashed run: what it made may not have had its files copied in yet.
        taking_up = previous is not None and previous.status == state.CREATING
        fresh = [c for c in checkouts if c.created_here or taking_up]
        if ws.config.submodules:
            _update_submodules([c for c in fresh if (c.target / ".gitmodules").is_file()])
        record.copied = sorted({*record.copied, *_copy_in(ws, record, fresh, copy_root)})
        if copy_root or any(c.label == ROOT for c in fresh):
            _write_builder_files(ws, record)
        faults.point("create:copied")
        record.status = state.READY  # only now, every worktree finished at both ends; still undone on a stop
        state.save(ws, record)
    except BaseException:
        with interrupts.held_off():  # stopped half-way, the rollback would leave a mess of its own
            _rollback(ws, record, done, previous)
            if made_builders_dir and ws.builders_dir.is_dir() and not any(ws.builders_dir.iterdir()):
                ws.builders_dir.rmdir()
        raise


SUBMODULES_COMMAND = "git submodule update --init --recursive"


def _update_submodules(checkouts: Sequence[Checkout]) -> None:
    """The submodules of each new worktree that has them, as git's own checkout would leave them with
    --recurse-submodules (`builders.submodules: false` leaves their folders empty)."""

    def update(c: Checkout) -> None:
        with locks.repository_lock(c.common_dir):
            git.update_submodules(c.target)

    def report(c: Checkout, outcome: object) -> None:
        said = "FAILED" if isinstance(outcome, BaseException) else "updated"
        output.say(f"  {c.label}: submodules {said} ({SUBMODULES_COMMAND})")

    outcomes = parallel.each(checkouts, update, report)
    parallel.raise_failures([(c.label, r) for c, r in outcomes])


def _require_finished(checkouts: Sequence[Checkout]) -> None:
    """Every worktree of the builder complete, its link holding at both ends: only then can it be ready."""
    broken = [c for c in checkouts if not links.link_of(c.target, c.common_dir).finished]
    if broken:
        raise BuildersError(
            "not complete: " + ", ".join(f"{c.label} ({c.target})" for c in broken),
            "run the same command again: it completes what is missing",
        )


def _report(c: Checkout, outcome: object) -> None:
    if isinstance(outcome, BaseException):
        output.say(f"  {c.label}: FAILED")
    else:
        output.say(f"  {c.label}: {_progress(c)}")
        faults.point(f"create:repo:{c.label}")


def _progress(c: Checkout) -> str:
    where = c.target if c.label == ROOT else f"{REPOS}/{c.label}"
    if c.action == checkout.PRESENT:
        return f"{where} already there"
    line = f"{where} on {c.branch} from {checkout.short_ref(c.base_ref)} ({output.short(c.base_commit)})"
    if c.sparse is not None:
        line = f"{line}, {sparse.shown(c.sparse)}"
    return f"{line}; note: {c.note}" if c.note else line


def _copy_in(ws: Workspace, record: BuilderState, checkouts: Sequence[Checkout], copy_root: bool) -> list[str]:
    """Copy-in for each of `checkouts`; never overwrites, so a second copy adds only what is missing."""
    copied: list[str] = []
    builder = Path(record.path)
    if copy_root or any(c.label == ROOT for c in checkouts):
        wanted = copy_in.patterns(ws.root, ws.config.copy)
        copied += copy_in.copy_ignored(ws.root, builder, wanted, skip=[REPOS])
    for c in checkouts:
        if c.label != ROOT:
            inner = copy_in.copy_ignored(c.source, c.target, copy_in.patterns(c.source))
            copied += [f"{REPOS}/{c.label}/{p}" for p in inner]
    return copied


def _write_builder_files(ws: Workspace, record: BuilderState) -> None:
    """The config's `files:`, templated for this builder; only into paths the builder ignores."""
    if ws.config.builder_files:
        builder_files.write(ws, record, ws.config.builder_files)


def _rollback(ws: Workspace, record: BuilderState, done: list[Checkout], previous: BuilderState | None) -> None:
    repos = [c for c in done if c.label != ROOT]
    left: list[str] = []
    for _, outcome in parallel.each(repos, checkout.undo):
        left += outcome if isinstance(outcome, list) else [str(outcome)]
    for c in done:
        if c.label == ROOT:
            left += checkout.undo(c)
    if previous is not None:
        state.save(ws, previous)
    elif not left:
        state.delete(ws, record.name)
    if left:
        output.say("rollback could not undo: " + "; ".join(left))
    else:
        output.say("rolled back: the workspace is as it was")


def finish(ws: Workspace, record: BuilderState) -> None:
    """Run the setup script in a ready builder; its failure leaves status setup-failed."""
    script = ws.config.setup
    if not script:
        return
    repos = [r.name for r in record.repos]
    again = f"fix scripts.setup in {ws.config.setup_file or 'workspaces.yaml'}, then run it again: " + output.command(
        "builders", "init", "--builder", record.name
    )
    try:
        code = builder_scripts.run(ws, "setup", script, record.name, Path(record.path), repos, record.ports)
    except OSError as exc:  # it could not be started: it did not run
        _setup_failed(ws, record)
        raise BuildersError(
            f"setup script could not be started in {record.path}: {exc.strerror or exc}"
            " (the builder is kept, status setup-failed)",
            again,
        ) from None
    except BaseException:  # stopped while it ran: it did not finish
        _setup_failed(ws, record)
        raise
    if code != 0:
        _setup_failed(ws, record)
        raise BuildersError(
            f"setup script failed with exit {code} in {record.path} (the builder is kept, status setup-failed)", again
        )


def _setup_failed(ws: Workspace, record: BuilderState) -> None:
    with interrupts.held_off():
        record.status = state.SETUP_FAILED
        state.save(ws, record)


def record_repos(record: BuilderState, checkouts: Sequence[Checkout]) -> None:
    for c in checkouts:
        if c.label != ROOT and record.repo(c.label) is None:
            folders = list(c.sparse) if c.sparse is not None else None
            record.repos.append(RepoState(c.label, str(c.target), c.branch, c.base_ref, c.base_commit, folders))


def result_document(record: BuilderState, checkouts: Sequence[Checkout], dry_run: bool) -> dict[str, object]:
    document = record.to_json()
    document["dry_run"] = dry_run
    actions = {c.label: c.action for c in checkouts}
    document["actions"] = actions
    return document




# --- the whole runs ------------------------------------------------------------------------------


def create_builder(
    ws: Workspace,
    name: str,
    repos: str | None,
    base: str | None,
    dry_run: bool,
    as_json: bool,
    with_repos: bool = True,
    sparse_overrides: dict[str, sparse.Dirs] | None = None,
) -> int:
    """The builder and its repo worktrees as one unit (`new`; `add` is the same without repos).

    `sparse_overrides`: repo -> the folders its worktree checks out, over the repo's preset."""
    check_builder_name(name)
    seen: dict[str, bases.Branches] = {}
    specs = select_repos(ws, repos, seen) if with_repos else []
    _require_sparse_repos_named(specs, sparse_overrides or {})
    with builder_lock(ws, name):
        state.refuse_pending_restore(ws, name)
        previous = state.load(ws, name)
        state.refuse_stopped_removal(previous)
        if previous is not None and with_repos:
            # Taking up a crashed run: what it made stays part of the builder.
            named = {s.name for s in specs}
            specs += [RepoSpec(r.name, r.base_commit) for r in previous.repos if r.name not in named]
        taken: list[checkout.BranchTaken] = []
        checkouts = plan_repos(
            ws,
            ws.builder_path(name),
            ws.branch(name),
            specs,
            previous,
            taken,
            sparse_overrides,
            seen,
            builder=partial(plan_builder, ws, name, base, previous),
        )
        refuse_taken(taken)
        builder = checkouts[0]
        assert builder.label == ROOT
        record = new_record(name, builder)
        record.ports = list(previous.ports) if previous else []
        record_repos(record, checkouts)
        if not dry_run:
            ports.assign(ws, record)
            repo_count = f" with {len(checkouts) - 1} repo(s)" if with_repos else ""
            output.say(f"builder {name}: creating {builder.target}{repo_count}")
            build(ws, record, checkouts, previous)
            finish(ws, record)
        show(checkouts, record, dry_run, as_json)
    return 0


def _require_sparse_repos_named(specs: Sequence[RepoSpec], overrides: dict[str, sparse.Dirs]) -> None:
    named = [s.name for s in specs]
    stray = [repo for repo in overrides if repo not in named]
    if stray:
        raise bad_input(
            f"--sparse names {', '.join(stray)}, not among the repos of this builder ({', '.join(named) or 'none'})",
            f"add it to --repos, or drop --sparse {stray[0]}=...",
        )


def init_builder(location: Location, repos: str | None, builder: str | None, dry_run: bool, as_json: bool) -> int:
    """Repo worktrees, copy-in and setup for an existing builder (`init`, the post-checkout hook)."""
    ws = location.workspace
    if builder is not None:
        name = check_builder_name(builder)
        path = state.path_of(ws, name, state.load(ws, name))
    elif location.in_builder:
        path = location.worktree
        name = path.name
    else:
        raise bad_input(
            "init adds repos to a builder: run it inside one, or name it",
            'cd "$(builders path NAME)" && builders init --repos ..., or: builders init --builder NAME --repos ...',
        )
    seen: dict[str, bases.Branches] = {}
    specs = select_repos(ws, repos, seen)
    with builder_lock(ws, name):
        state.refuse_pending_restore(ws, name)
        previous = state.load(ws, name)
        state.refuse_stopped_removal(previous)
        record = previous or _adopt(ws, name, path)
        branch = record.branch.removeprefix("refs/heads/")
        checkouts = plan_repos(ws, Path(record.path), branch, specs, previous, seen=seen)
        if dry_run:
            show(checkouts, record, dry_run, as_json)
            return 0
        record = replace(record, repos=list(record.repos), status=state.CREATING)
        record_repos(record, checkouts)
        ports.assign(ws, record)
        output.say(f"builder {name}: adding {len(checkouts)} repo(s)")
        build(ws, record, checkouts, previous, copy_root=previous is None)
        finish(ws, record)
        show(checkouts, record, dry_run, as_json)
    return 0


def _adopt(ws: Workspace, name: str, path: Path) -> BuilderState:
    """State for a builder made without this toolkit (plain `git worktree add`)."""
    entry = next((w for w in git.worktrees(ws.root) if w.path.resolve() == path.resolve()), None)
    if entry is None or entry.path.resolve() == ws.root:
        match = closest(name, state.builder_names(ws))
        hint = interface.meant(name, match, output.command("builders", "init", "--builder", match)) if match else None
        raise bad_input(
            f"no builder {name!r}: {path} is not a worktree of {ws.root}",
            hint or f"create it: {output.command('builders', 'new', name)}",
        )
    if entry.branch is None:
        raise BuildersError(
            f"builder {name!r} at {path} has a detached HEAD",
            f"put it on a branch first: {output.command('git', '-C', path, 'switch', '-c', ws.branch(name))}",
        )
    head = entry.head or git.NULL_SHA
    # Its base by the one rule (what land, sync and status then use), not the bare commit it began at.
    return BuilderState(name, str(entry.path), entry.short_branch or "", bases.read(ws.root).default_base(), head)


def show(checkouts: Sequence[Checkout], record: BuilderState, dry_run: bool, as_json: bool) -> None:
    if as_json:
        output.json_document(result_document(record, checkouts, dry_run))
    elif dry_run:
        output.result(f"plan for builder {record.name} (dry run: nothing changed)")
        output.result(plan_lines(checkouts))
        for c in checkouts:
            if c.note:
                output.say(f"note: {c.label}: {c.note}")
    else:
        output.result(f"builder {record.name} ready: {record.path}")
