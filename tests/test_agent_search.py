"""Agents' search sees every repo of a builder: the scaffolded .ignore re-includes repos/ for ripgrep
while git still ignores it; verify checks it and names the fix; scaffold adds it once."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git

RULE = "!/repos/"
rg = shutil.which("rg")
needs_rg = pytest.mark.skipif(rg is None, reason="ripgrep (rg) is not installed: apt-get install ripgrep")


def rg_files(folder: Path) -> set[str]:
    assert rg is not None
    done = subprocess.run([rg, "--files"], cwd=folder, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode in (0, 1), done.stderr
    return set(done.stdout.split())


def failed_checks(builders: Builders, *names: str) -> list[dict[str, object]]:
    result = builders("verify", "--json", *names)
    document = json.loads(result.out)
    return [c for c in document["checks"] if not c["ok"]]


def test_scaffold_writes_a_tracked_ignore_that_git_never_reads(root: Path) -> None:
    text = (root / ".ignore").read_text()
    assert RULE in text.splitlines()
    assert git.run(root, "ls-files", "--", ".ignore").strip() == ".ignore"  # committed with the templates
    assert git.is_ignored(root, "repos/")  # git still ignores the clones
    assert git.run(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_builder_sees_its_repos_and_git_status_stays_clean(root: Path, builders: Builders) -> None:
    assert builders("new", "b1", "--repos", "alpha,beta").code == 0
    builder = builders_dir(root) / "b1"
    assert RULE in (builder / ".ignore").read_text().splitlines()
    assert git.is_ignored(builder, "repos/")
    assert git.run(builder, "status", "--porcelain", "--untracked-files=all", "--ignore-submodules=none") == ""
    assert failed_checks(builders, "b1") == []


@needs_rg
def test_ripgrep_finds_repo_files_but_not_what_each_repo_ignores(root: Path, builders: Builders) -> None:
    assert builders("new", "b1", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "b1"
    alpha = builder / "repos/alpha"
    (alpha / ".gitignore").write_text("node_modules/\nbuild/\n")
    commit(alpha, "ignore node_modules and build")
    for junk in ("node_modules/dep/index.js", "build/out.js"):
        (builder / "repos/alpha" / junk).parent.mkdir(parents=True)
        (builder / "repos/alpha" / junk).write_text("x\n")
    found = rg_files(builder)
    assert "repos/alpha/README.md" in found
    assert "repos/alpha/src/pkg00/module00000.py" in found
    assert not any("node_modules" in f or "/build/" in f for f in found)
    assert "repos/beta/README.md" not in found  # not a repo of this builder
    # Without the rule, ripgrep skips repos/ as git does: the rule is what makes the difference.
    (builder / ".ignore").write_text("")
    assert not any(f.startswith("repos/") for f in rg_files(builder))


def test_verify_names_a_root_without_the_rule_and_its_fix_works(root: Path, builders: Builders) -> None:
    (root / ".ignore").unlink()
    commit(root, "drop .ignore")
    failed = failed_checks(builders)
    assert [c["check"] for c in failed] == ["repos/ visible to agents' search"]
    assert "skips repos/" in str(failed[0]["detail"])
    assert builders("verify").code == 1
    subprocess.run(["sh", "-c", str(failed[0]["hint"])], check=True, capture_output=True)
    assert failed_checks(builders) == []


def test_verify_names_a_rule_not_committed(root: Path, builders: Builders) -> None:
    (root / ".ignore").unlink()
    commit(root, "drop .ignore")
    (root / ".ignore").write_text(RULE + "\n")
    failed = failed_checks(builders)
    assert len(failed) == 1 and "not committed" in str(failed[0]["detail"])
    subprocess.run(["sh", "-c", str(failed[0]["hint"])], check=True, capture_output=True)
    assert failed_checks(builders) == []


def test_a_later_rule_that_ignores_repos_again_fails(root: Path, builders: Builders) -> None:
    (root / ".rgignore").write_text("repos/\n")
    commit(root, "hide repos from rg")
    assert [c["check"] for c in failed_checks(builders)] == ["repos/ visible to agents' search"]


def test_a_builder_made_before_the_rule_is_named_and_sync_brings_it(root: Path, builders: Builders) -> None:
    (root / ".ignore").unlink()
    commit(root, "drop .ignore")
    assert builders("new", "old", "--repos", "alpha").code == 0
    (root / ".ignore").write_text(RULE + "\n")
    commit(root, "let search tools see repos/")
    failed = failed_checks(builders, "old")
    assert [c["check"] for c in failed] == ["repos/ visible to agents' search"]
    assert failed[0]["hint"] == "bring in the root's committed .ignore: builders sync old"
    assert builders("sync", "old").code == 0
    assert failed_checks(builders, "old") == []


def test_scaffold_adds_the_block_to_an_existing_ignore_once(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    (root / ".ignore").write_text("*.bak")  # the user's own, no final newline
    with unchanged():
        result = builders("scaffold", "--dry-run", "--no-hooks")
        assert "would add the workspace-builders block to .ignore" in result.err
    assert builders("scaffold", "--no-hooks").code == 0
    text = (root / ".ignore").read_text()
    assert text.startswith("*.bak\n# >>> workspace-builders >>>\n") and RULE in text.splitlines()
    result = builders("scaffold", "--no-hooks")
    assert "kept .ignore (the workspace-builders block is there)" in result.err
    assert (root / ".ignore").read_text() == text


def test_the_pre_commit_hook_takes_the_ignore_and_still_guards_repos(root: Path, builders: Builders) -> None:
    assert builders("hooks", "install").code == 0
    (root / ".ignore").unlink()
    commit(root, "drop .ignore")
    (root / ".ignore").write_text(RULE + "\n")
    git.run(root, "add", ".ignore")
    git.run(root, "commit", "-q", "-m", "let search tools see repos/")  # the hook lets it through
    (root / ".gitignore").write_text("")
    git.run(root, "add", ".gitignore")
    refused = git.attempt(root, "commit", "-q", "-m", "stop ignoring repos/")
    assert refused.returncode != 0 and "repos/" in refused.stderr
