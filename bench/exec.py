"""`builders exec -- git status` over a builder of N repos against the same `git status` run in each
repo worktree one after another by a shell loop.

python bench/exec.py [--repos 10] [--files 2000] [--pairs 5]
"""

from __future__ import annotations

import shutil
import sys

from common import Comparison, compare, fresh_workspace, main, sh


def bench_exec(repos: int, files: int, pairs: int, target: float) -> Comparison:
    place, root, _ = fresh_workspace("exec", repos, files)
    sh(root, "builders", "new", "bench", "--repos", "all")
    builder = place / "workspace-root.builders" / "bench"

    def ours(index: int) -> None:
        sh(root, "builders", "exec", "bench", "--", "git", "status", "--short")

    def shell_loop(index: int) -> None:
        sh(builder, "sh", "-c", 'for repo in repos/*/; do (cd "$repo" && git status --short) || exit 1; done')

    result = compare(
        f"exec git status, {repos} repos x {files} files", ours, shell_loop, target, pairs, "sequential sh loop"
    )
    shutil.rmtree(place, ignore_errors=True)
    return result


def bench_exec_slow_command(repos: int, pairs: int, target: float) -> Comparison:
    """`builders exec` of a command that takes 200 ms in each repo (default --jobs), against a loop."""
    place, root, _ = fresh_workspace("exec-sleep", repos, 20)
    sh(root, "builders", "new", "bench", "--repos", "all")
    builder = place / "workspace-root.builders" / "bench"

    def ours(index: int) -> None:
        sh(root, "builders", "exec", "bench", "--", "sleep", "0.2")

    def shell_loop(index: int) -> None:
        sh(builder, "sh", "-c", 'for repo in repos/*/; do (cd "$repo" && sleep 0.2) || exit 1; done')

    scenario = f"exec of a 200 ms command, {repos} repos"
    result = compare(scenario, ours, shell_loop, target, pairs, "sequential sh loop")
    shutil.rmtree(place, ignore_errors=True)
    return result


if __name__ == "__main__":
    sys.exit(main(bench_exec, 1.0, __doc__))
