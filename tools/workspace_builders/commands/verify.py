"""`builders verify`: layout, links and state checks, one row each; exit 1 when any fails.

Gitignore answers come from git itself (`git check-ignore`), so nested `.gitignore` files,
`info/exclude`, `core.excludesFile` and "nothing under an excluded directory can be re-included"
are git's own.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from plumbum import cli

from workspace_builders.base import interface, output, parallel
from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import check_builder_name, closest, did_you_mean
from workspace_builders.commands.base import WithJson
from workspace_builders.engine import agent_search, prune
from workspace_builders.gitlayer import git, links, locks
from workspace_builders.model import state
from workspace_builders.model.state import BuilderState
from workspace_builders.model.workspace import REPOS, ROOT, Workspace

WORKSPACE = "(workspace)"
GIT_FAILED = "git can read it"  # the check row of a repository or builder where git failed


def _fix_then_verify(repo: Path, *look: str) -> str:
    return f"fix what git says, then run again: builders verify  (look: {output.command('git', '-C', repo, *look)})"


@dataclass
class Check:
    builder: str
    worktree: str
    check: str
    ok: bool
    detail: str = ""
    hint: str = ""

    def __post_init__(self) -> None:
        if self.ok:  # detail and hint explain a failure
            self.detail = self.hint = ""


def verify(ws: Workspace, names: list[str], as_json: bool, show_all: bool = False) -> int:
    for name in names:
        check_builder_name(name)
    if names:
        targets, nested, checks = named_targets(ws, names)
    else:
        checks = workspace_checks(ws)
        root_worktrees = git.worktrees(ws.root)
        targets = all_targets(ws, root_worktrees)
        nested, unread = nested_worktrees(ws)
        checks += unread
    items = list(targets.items())
    outcomes = parallel.each(items, lambda item: builder_checks(ws, item[0], *item[1], nested))
    # git failed on a builder: a failed row for it, and the others are still checked
    for (name, _), error in parallel.failures(outcomes):
        checks.append(Check(name, ROOT, GIT_FAILED, False, error.message, error.hint or ""))
    for _, outcome in outcomes:
        if not isinstance(outcome, BaseException):
            checks += outcome
    if not names:
        checks += unregistered_folders(ws, {w.path for w in root_worktrees})
        checks += orphan_landings(ws, set(state.builder_names(ws)))
    failed = [c for c in checks if not c.ok]
    if as_json:
        output.json_document({"ok": not failed, "checks": [asdict(c) for c in checks]})
    else:
        _print(checks, failed, show_all)
    return 1 if failed else 0


def _print(checks: list[Check], failed: list[Check], show_all: bool) -> None:
    """The failures (every row with --all), each with its fix, then one line that sums up; said once,
    on stdout (nothing repeated on stderr)."""
    shown = checks if show_all else failed
    if shown:
        rows = [[c.builder, c.worktree, c.check, "ok" if c.ok else "FAIL", c.detail, c.hint] for c in shown]
        output.result(output.table(rows, ["builder", "worktree", "check", "result", "detail", "fix"]))
    builders = len({c.builder for c in checks if c.builder != WORKSPACE})
    counted = f"{len(checks)} checks of {builders} builder(s) and the workspace"
    if failed:
        output.result(f"{counted}: {len(failed)} failed, {len(checks) - len(failed)} ok")
    else:
        output.result(f"{counted}: all ok" + ("" if show_all else " (builders verify --all lists them)"))


Targets = dict[str, tuple[git.Worktree | None, BuilderState | None]]
Nested = dict[Path, list[tuple[Path, git.Worktree]]]  # folder -> (clone, worktree entry)


def all_targets(ws: Workspace, root_worktrees: list[git.Worktree]) -> Targets:
    """Every builder: each worktree of the root, each state file."""
    records = {r.name: r for r in state.load_all(ws)}
    by_path: dict[Path, BuilderState] = {}
    for one in records.values():
        by_path.setdefault(Path(one.path), one)  # the first by name, where two claim one path
    targets: Targets = {}
    for entry in root_worktrees[1:]:
        record = by_path.get(entry.path)
        targets[record.name if record else entry.path.name] = (entry, record)
    for name, record in records.items():
        if name not in targets:
            targets[name] = (None, record)
    return targets


def named_targets(ws: Workspace, names: list[str]) -> tuple[Targets, Nested, list[Check]]:
    """The builders named, and their nested worktrees, as `all_targets` and `nested_worktrees` would
    find them, at the cost of these builders alone: each worktree is read from its own admin dir;
    a repository is listed in full (one git call) only where a link does not hold at both ends."""
    targets: Targets = {}
    nested: Nested = {}
    unread: list[Check] = []
    listed: dict[Path, list[git.Worktree]] = {}
    # Every clone must be readable, as when all are listed; a cheap call each, side by side.
    readable = git.side_by_side(ws.clones(), git.readable_started)

    def listing(repository: Path) -> list[git.Worktree]:
        if repository not in listed:
            listed[repository] = git.worktrees(repository)
        return listed[repository]

    for name in names:
        record = state.load(ws, name)
        path = state.path_of(ws, name, record)
        entry = links.entry_of(path, ws.common_dir)
        if entry is None:
            entry = next((w for w in listing(ws.root)[1:] if w.path == path), None)
        if entry is None and record is None:
            known = state.builder_names(ws)
            match = closest(name, known)
            hint = interface.meant(name, match, f"builders verify {match}") if match else None
            raise bad_input(
                f"no builder named {name!r}", hint or f"{did_you_mean([name], known) or 'see them all: '}builders list"
            )
        targets[name] = (entry, record)
        folder = path / REPOS
        on_disk = [p.name for p in folder.iterdir()] if folder.is_dir() and not folder.is_symlink() else []
        recorded = [r.name for r in record.repos] if record else []
        for repo in sorted({*on_disk, *recorded}):
            clone = ws.clone(repo)
            found = links.entry_of(folder / repo, clone / ".git")
            if found is not None:
                nested.setdefault(folder, []).append((clone, found))
            elif (clone / ".git").is_dir():
                try:
                    entries = listing(clone)[1:]
                except BuildersError as exc:
                    hint = _fix_then_verify(clone, "worktree", "list")
                    unread.append(Check(WORKSPACE, f"{REPOS}/{clone.name}", GIT_FAILED, False, exc.message, hint))
                    continue
                seen = {w.path for _, w in nested.get(folder, [])}
                nested.setdefault(folder, []).extend(
                    (clone, w) for w in entries if w.path.parent == folder and w.path not in seen
                )
    named = {row.worktree for row in unread}
    for clone, outcome in readable:
        if isinstance(outcome, BuildersError) and f"{REPOS}/{clone.name}" not in named:
            hint = _fix_then_verify(clone, "status")
            unread.append(Check(WORKSPACE, f"{REPOS}/{clone.name}", GIT_FAILED, False, outcome.message, hint))
    return targets, nested, unread


def workspace_checks(ws: Workspace) -> list[Check]:
    checks = []
    ignored = git.is_ignored(ws.root, f"{REPOS}/")
    checks.append(
        Check(
            WORKSPACE,
            ROOT,
            "repos/ ignored",
            ignored,
            "" if ignored else "clones would show as embedded repositories",
            f"echo '{REPOS}/' >> {ws.root}/.gitignore",
        )
    )
    checks.append(search_sees_repos(ws))
    try:
        ws.check_builders_dir()
        checks.append(Check(WORKSPACE, ROOT, "builders folder outside the root", True, str(ws.builders_dir)))
    except BuildersError as exc:
        checks.append(Check(WORKSPACE, ROOT, "builders folder outside the root", False, exc.message, exc.hint or ""))
    return checks


SEES_REPOS = "repos/ visible to agents' search"


def search_sees_repos(ws: Workspace) -> Check:
    """The root's committed .ignore re-includes repos/: every builder made from it lets agents'
    ripgrep-based search find the repo worktrees."""
    committed = [git.file_text(ws.root, f"HEAD:{name}") for name in agent_search.SEARCH_IGNORE_FILES]
    if agent_search.shows_repos(committed):
        return Check(WORKSPACE, ROOT, SEES_REPOS, True)
    ignore = agent_search.IGNORE
    if agent_search.shows_repos_in(ws.root):
        return Check(
            WORKSPACE,
            ROOT,
            SEES_REPOS,
            False,
            f"the root's {ignore} re-includes {REPOS}/ but is not committed: new builders will not have it",
            f"{output.command('git', '-C', ws.root, 'add', ignore)} && "
            + output.command("git", "-C", ws.root, "commit", "-m", f"let search tools see {REPOS}/", ignore),
        )
    return Check(
        WORKSPACE,
        ROOT,
        SEES_REPOS,
        False,
        f"ripgrep-based search (agents' find and grep) skips {REPOS}/ in builders: no {agent_search.RULE} in {ignore}",
        agent_search.fix_command(ws.root),
    )


def unregistered_folders(ws: Workspace, registered: set[Path]) -> list[Check]:
    """Folders in the builders folder that git does not list as worktrees of the root. The fix is
    prune only for one it can prove was a builder here; prune leaves anything else alone."""
    if not ws.builders_dir.is_dir():
        return []
    found = [f for f in sorted(ws.builders_dir.iterdir()) if f.is_dir() and f.name != ".trash" and f not in registered]
    recorded = {Path(r.path) for r in state.load_all(ws)} if found else set()
    checks = []
    for folder in found:
        repair = output.command("git", "-C", ws.root, "worktree", "repair", folder)
        if prune.orphan_proof(ws, folder, recorded) is not None:
            fix = f"if it is one whose link broke: {repair}; else: builders prune"
        else:
            away = output.command("mv", folder, ws.builders_dir.parent)
            fix = f"no builder of this workspace (prune leaves it alone): move it out of the builders folder: {away}"
        detail = f"{folder} is not a worktree git knows"
        checks.append(Check(folder.name, ROOT, "registered with git", False, detail, fix))
    return checks


def nested_worktrees(ws: Workspace) -> tuple[dict[Path, list[tuple[Path, git.Worktree]]], list[Check]]:
    """Every clone's linked worktrees by the folder they sit in: one `git worktree list` per clone;
    and a failed check for each clone where git failed."""
    by_folder: dict[Path, list[tuple[Path, git.Worktree]]] = {}
    unread: list[Check] = []
    outcomes = parallel.each(ws.clones(), git.worktrees)
    for clone, error in parallel.failures(outcomes):
        hint = _fix_then_verify(clone, "worktree", "list")
        unread.append(Check(WORKSPACE, f"{REPOS}/{clone.name}", GIT_FAILED, False, error.message, hint))
    for clone, outcome in outcomes:
        if not isinstance(outcome, BaseException):
            for w in outcome[1:]:
                by_folder.setdefault(w.path.parent, []).append((clone, w))
    return by_folder, unread


def builder_checks(
    ws: Workspace,
    name: str,
    entry: git.Worktree | None,
    record: BuilderState | None,
    nested_by_folder: dict[Path, list[tuple[Path, git.Worktree]]],
) -> list[Check]:
    checks: list[Check] = []

    def add(worktree: str, check: str, ok: bool, detail: str = "", hint: str = "") -> None:
        checks.append(Check(name, worktree, check, ok, detail, hint))

    if entry is None:
        assert record is not None
        # A run stopped after its worktree went (or before it came) is completed by its own command:
        # prune leaves such a state alone.
        fix = state.completing_command(record) or "builders prune"
        detail = f"state records {record.path}, which git does not know"
        if record.status != state.READY and locks.builder_busy(ws, name):
            detail = f"{record.status}: under way (a run holds the builder now)"
            fix = f"wait for it to end, then: builders verify {name}"
        add(ROOT, "state has a builder", False, detail, fix)
        return checks
    path = entry.path
    add(
        ROOT,
        "layout: a folder, not a symlink",
        not path.is_symlink(),
        f"{path} was replaced by a symlink to {os.path.realpath(path)}",
        f"put the folder back in place: {output.command('rm', path)} && "
        + output.command("mv", os.path.realpath(path), path),
    )
    nested = path.is_relative_to(ws.root)
    add(
        ROOT,
        "layout: sibling, not nested",
        not nested,
        f"{path} is inside the root (deprecated nested layout)" if nested else "",
        "builders migrate",
    )
    covered = nested and git.is_ignored(ws.root, str(path.relative_to(ws.root)) + "/")
    if nested:
        add(ROOT, "layout: not ignored by the root", not covered, "the root's gitignore covers it", "builders migrate")
    if path.is_dir():
        ok = git.is_ignored(path, f"{REPOS}/")
        add(ROOT, "repos/ ignored", ok, "" if ok else "nested repos show as embedded", "ignore repos/ on this branch")
        sees = agent_search.shows_repos_in(path)
        add(
            ROOT,
            SEES_REPOS,
            sees,
            f"agents' search tools skip {REPOS}/ here: its {agent_search.IGNORE} lacks {agent_search.RULE}",
            f"bring in the root's committed {agent_search.IGNORE}: builders sync {name}",
        )
    expected = record.branch if record else None
    checks += [Check(name, ROOT, c, ok, d, h) for c, ok, d, h in link_checks(ws.common_dir, entry, expected)]
    found: dict[str, git.Worktree] = {}
    for clone, w in nested_by_folder.get(path / REPOS, []):
        found[w.path.name] = w
        repo = record.repo(w.path.name) if record else None
        for check, ok, detail, hint in link_checks(clone / ".git", w, repo.branch if repo else expected):
            add(w.path.name, check, ok, detail, hint)
    # A nested worktree whose clone no longer lists it here (moved without a repair): only the disk knows.
    repos_folder = path / REPOS
    listed_here = sorted(repos_folder.iterdir()) if repos_folder.is_dir() and not repos_folder.is_symlink() else []
    for folder in [p for p in listed_here if p.name not in found and (p / ".git").is_file()]:
        for check, ok, detail, hint in _both_ends(ws.clone(folder.name) / ".git", folder):
            add(folder.name, check, ok, detail, hint)
    if record is None and state.restoring_mark(ws, name).exists():
        if locks.builder_busy(ws, name):
            add(ROOT, "state", False, "a restore under way", f"wait for it to end, then: builders verify {name}")
        else:
            add(ROOT, "state", False, "a restore that was stopped half-way", f"builders restore {name} (completes it)")
        return checks
    if record is None:
        detail = "no state file: a plain worktree (builders init never ran here, or failed)"
        add(ROOT, "state", False, detail, f"make it a builder: builders init --builder {name} --repos ...")
        return checks
    add(ROOT, "state: path", Path(record.path) == path, f"state says {record.path}", "builders migrate or prune")
    if record.status != state.READY and locks.builder_busy(ws, name):
        # A run at work (new, init, remove, migrate): what it has not made yet is no fault to fix.
        detail = f"{record.status}: under way (a run holds the builder now)"
        add(ROOT, "state: status", False, detail, f"wait for it to end, then: builders verify {name}")
        return checks
    setup_again = f"fix scripts.setup, then run it again: builders init --builder {name}"  # setup-failed
    completes = state.completing_command(record) or setup_again
    add(ROOT, "state: status", record.status == state.READY, record.status, completes)
    checks += landing_checks(ws, record)
    if record.status == state.REMOVING:
        return checks  # its worktrees go one by one: remove (named above) completes it
    recorded = {r.name for r in record.repos}
    on_disk = set(found)
    agree = recorded == on_disk
    detail = "" if agree else f"state: {sorted(recorded) or '-'}, git: {sorted(on_disk) or '-'}"
    # A recorded repo git no longer has is made again on its branch, commits and all.
    lost = ",".join(sorted(recorded - on_disk)) or "..."
    add(ROOT, "state: repos agree with git", agree, detail, f"builders init --builder {name} --repos {lost}")
    return checks


def orphan_landings(ws: Workspace, builders: set[str]) -> list[Check]:
    """Journals of landings stopped half-way whose builder is gone: their bases are partly moved."""
    folder = ws.admin_dir / "landing"
    journals = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [
        Check(
            journal.stem,
            ROOT,
            "landing: none stopped half-way",
            False,
            f"a landing of a builder that is gone was stopped after its first base moved ({journal})",
            f"see which bases it moved ({output.command('cat', journal)}); land the rest by hand, then: "
            + output.command("mv", journal, f"{journal}.done"),
        )
        for journal in journals
        if journal.stem not in builders
    ]


def landing_checks(ws: Workspace, record: BuilderState) -> list[Check]:
    """A landing or a sync that was stopped half-way, named with the command that completes it."""
    from workspace_builders.engine import (
        landing_journal,  # only verify of a builder pays
        landing_rebase,  # only verify of a builder pays
    )

    journal = landing_journal.pending_landing(ws, record.name)
    stopped_sync = landing_rebase.record_file(ws, record.name)
    if (journal is not None or stopped_sync.exists()) and locks.builder_busy(ws, record.name):
        return [
            Check(
                record.name,
                ROOT,
                "landing: none under way",
                False,
                "a run holds the builder now: its landing or sync is under way",
                f"wait for it to end, then: builders verify {record.name}",
            )
        ]
    return [
        Check(
            record.name,
            ROOT,
            "landing: none stopped half-way",
            journal is None,
            f"a landing was stopped after its first base moved ({journal}); land completes it, bases only move forward",
            f"builders land {record.name}",
        ),
        Check(
            record.name,
            ROOT,
            "sync: none stopped mid-rebase",
            not stopped_sync.exists(),
            f"a sync or land was stopped while it rebased ({stopped_sync}); sync aborts that rebase, then syncs",
            f"builders sync {record.name}",
        ),
    ]


def link_checks(common_dir: Path, entry: git.Worktree, branch: str | None) -> list[tuple[str, bool, str, str]]:
    """Both ends of a worktree's link, its branch, and that git would not prune it."""
    moved_or_gone = (
        "if you moved the folder, link it again first: "
        f"{output.command('git', '-C', common_dir.parent, 'worktree', 'repair')} NEW_PATH; else: builders prune"
    )
    if os.path.lexists(entry.path):
        results = _both_ends(common_dir, entry.path)
    else:  # `git worktree repair` of a folder that is not there fails: the fix is the one for a gone folder
        results = [(check, False, f"{entry.path} is gone", moved_or_gone) for check in _LINK_CHECKS]
    results.append(
        (
            "complete (not left half-made)",
            not entry.unfinished,
            "its creation never finished",
            "run the command that made it again (builders new/init), or remove it: builders remove NAME",
        )
    )
    gone = f"git would prune it: {entry.path} is gone"
    results.append(("link: not prunable", not entry.prunable, gone, moved_or_gone))
    short = entry.short_branch
    results.append(("HEAD on a branch", short is not None, *_detached(entry.path, common_dir, branch)))
    if short is not None and branch is not None:
        switch = output.command("git", "-C", entry.path, "switch", branch)
        results.append(
            ("branch", short == branch, f"on {short}, expected {branch}", switch)
        )
    return results


def _detached(worktree: Path, common_dir: Path, branch: str | None) -> tuple[str, str]:
    """Why a worktree's HEAD is detached, and the command that puts it back on its branch: while a
    rebase is under way there, `git switch` cannot, and the rebase's own end does."""
    admin = links.link_of(worktree, common_dir).admin
    if admin is not None and any((admin / d).is_dir() for d in ("rebase-merge", "rebase-apply")):
        return "detached HEAD: a rebase is under way", output.command("git", "-C", worktree, "rebase", "--abort")
    return "detached HEAD", output.command("git", "-C", worktree, "switch", branch or "BRANCH")


_LINK_CHECKS = ("link: .git names its admin dir", "link: admin dir names it back")


def _both_ends(common_dir: Path, worktree: Path) -> list[tuple[str, bool, str, str]]:
    link = links.link_of(worktree, common_dir)
    to_admin = link.admin is not None and link.admin.is_dir()
    repair = output.command("git", "-C", common_dir.parent, "worktree", "repair", worktree)
    return [
        (
            _LINK_CHECKS[0],
            to_admin,
            "" if to_admin else f"{worktree / '.git'} does not name a dir in {common_dir}/worktrees",
            repair,
        ),
        (
            _LINK_CHECKS[1],
            link.names_back,
            "" if link.names_back else "the admin dir's gitdir names another place",
            repair,
        ),
    ]


class Verify(WithJson):
    DESCRIPTION = "check layout, links and state of every builder (or those named); exit 1 on a failure"
    USAGE = "    {progname} [SWITCHES] [NAME...]\n"

    show_all = cli.Flag("--all", help="list every check, not only the failures")

    def main(self, *names: str) -> int:
        return verify(self.location().workspace, list(names), self.as_json, self.show_all)

