"""`builders new`: the builder and its nested repo worktrees, created as one unit.

Everything is planned first (names, repos, bases, paths, branches), then applied; a failure undoes
what this run made. Re-running after a crash takes up what the crashed run left.
"""

from __future__ import annotations

from pathlib import Path

from workspace_builders import builder_init, output, state
from workspace_builders.locks import builder_lock
from workspace_builders.names import RepoSpec, check_builder_name
from workspace_builders.sibling_worktree_add import new_record, plan_builder
from workspace_builders.workspace import discover


def new(start: Path, name: str, repos: str | None, base: str | None, dry_run: bool, as_json: bool) -> int:
    ws = discover(start).workspace
    check_builder_name(name)
    specs = builder_init.select_repos(ws, repos)
    with builder_lock(ws, name):
        previous = state.load(ws, name)
        if previous is not None:  # take up a crashed run: what it made stays part of the builder
            named = {s.name for s in specs}
            specs += [RepoSpec(r.name, r.base_commit) for r in previous.repos if r.name not in named]
        builder = plan_builder(ws, name, base, previous)
        checkouts = [builder, *builder_init.plan_repos(ws, builder.target, builder.branch, specs, previous)]
        record = new_record(name, builder)
        builder_init.record_repos(record, checkouts)
        if not dry_run:
            output.say(f"builder {name}: creating {builder.target} with {len(checkouts) - 1} repo(s)")
            builder_init.build(ws, record, checkouts, previous)
            builder_init.finish(ws, record)
        builder_init.show(checkouts, record, dry_run, as_json)
    return 0
