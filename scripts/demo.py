"""`make demo`: the main job on a generated sample workspace, through the Taskfile targets.

Makes .demo/ (gitignored) afresh: a workspace root with three small clones, then runs
`task builder:new` in the root and `task builder:init` inside the new builder, installs the git
hooks and makes a second builder with plain `git worktree add`, commits a change in it, runs a
command in every repo of the first, lands the second (its base fast-forwarded, the builder removed)
and prints the sibling layout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sample_workspace import IDENTITY, make_workspace
from workspace_builders.base import output

HERE = Path(__file__).resolve().parent.parent
DEMO = HERE / ".demo"


def step(cwd: Path, *command: str, **env: str) -> None:
    """Print the step as a line that works pasted into a shell (every word quoted where it must be),
    then run it."""
    assignments = "".join(f"{key}={shlex.quote(value)} " for key, value in env.items())
    where = output.command("cd", cwd.relative_to(HERE))
    print(f"\n$ {where} && {assignments}{output.command(*command)}", flush=True)
    subprocess.run(command, cwd=cwd, check=True, env={**os.environ, **env})


def tree(folder: Path, prefix: str = "", depth: int = 0) -> None:
    entries = sorted(p for p in folder.iterdir() if p.name not in {".git", ".task"})
    for index, entry in enumerate(entries):
        last = index == len(entries) - 1
        note = ""
        if (entry / ".git").is_file():
            note = "   <- worktree: " + (entry / ".git").read_text(encoding="utf-8").strip().replace(
                str(DEMO) + "/", ""
            )
        print(f"{prefix}{'└── ' if last else '├── '}{entry.name}{'/' if entry.is_dir() else ''}{note}")
        if entry.is_dir() and depth < 2 and entry.name != "src":
            tree(entry, prefix + ("    " if last else "│   "), depth + 1)


def main() -> int:
    if shutil.which("task") is None or shutil.which("builders") is None:
        print("error: task or builders is not on PATH\nhint: run it as: make demo", file=sys.stderr)
        return 2
    shutil.rmtree(DEMO, ignore_errors=True)
    root = make_workspace(DEMO)
    print(f"sample workspace: {root.relative_to(HERE)} with repos/ai-dev, repos/domain-apis, repos/k8s-lab")
    # `make demo` puts .venv/bin first on PATH; a shell of the user's own has neither builders nor task.
    print("to paste the steps below into your shell, from this folder first: source .venv/bin/activate")
    step(root, "task", "builder:new", "NAME=slack", "REPOS=ai-dev,domain-apis")
    builder = DEMO / "workspace-root.builders" / "slack"
    step(builder, "task", "builder:init", "REPOS=k8s-lab")
    step(root, "builders", "hooks", "install")
    step(
        root,
        "git",
        "worktree",
        "add",
        "-b",
        "builder/agent2",
        "../workspace-root.builders/agent2",
        BUILDER_REPOS="ai-dev",
    )
    work = DEMO / "workspace-root.builders" / "agent2" / "repos" / "ai-dev"
    (work / "FEATURE.md").write_text("a change made in a session\n", encoding="utf-8")
    step(work, "git", "add", "FEATURE.md")
    step(work, "git", *IDENTITY, "commit", "--quiet", "-m", "a change made in a session")
    step(root, "builders", "exec", "slack", "--", "git", "log", "-1", "--format=%h %s")
    step(root, "task", "builder:status", "NAME=agent2")
    step(root, "builders", "land", "agent2", "--remove")
    step(root / "repos" / "ai-dev", "git", "log", "-2", "--format=%h %s")
    step(root, "builders", "list")
    print(f"\n{DEMO.relative_to(HERE)}/workspace-root.builders/  (.git and src/ not shown)")
    tree(DEMO / "workspace-root.builders")
    print(f"\nthe root's repos/ still holds only the clones: {sorted(os.listdir(root / 'repos'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
