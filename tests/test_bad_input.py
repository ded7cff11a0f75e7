"""Every bad input: exit 2, an `error:` and a `hint:`, and nothing created or changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import Builders, Unchanged, builders_dir, commit
from workspace_builders.gitlayer import git

BAD_NAMES = {
    "dots": "..",
    "parent": "../x",
    "slash": "a/b",
    "space": "a b",
    "empty": "",
    "too long": "a" * 64,
    "non-ascii": "café",
    "lock suffix": "x.lock",
    "double dot inside": "a..b",
    "leading dot": ".hidden",
    "trailing dot": "x.",
    "newline": "a\nb",
    "option after --": "-x",
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
@pytest.mark.parametrize("command", ["new", "add", "path"])
def test_bad_builder_names(builders: Builders, unchanged: Unchanged, name: str, command: str) -> None:
    with unchanged():
        result = builders(command, "--", name)
    assert result.code == 2, result.err
    assert "error: invalid builder name" in result.err
    assert "\nhint: " in result.err


def test_bad_name_for_init_builder(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("init", "--builder", "../up", "--repos", "alpha")
    assert result.code == 2 and "invalid builder name" in result.err


def test_leading_dash_is_never_a_name(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("new", "--force")
    assert result.code == 2
    assert result.err == "error: unknown switch --force\nhint: see: builders new --help\n"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["new", "x", "--force"], "see: builders new --help"),
        (["new", "x", "--rep", "alpha"], "did you mean '--repos'? builders new x --repos alpha"),
        (["remove", "x", "--keep-branch"], "did you mean '--keep-branches'? builders remove x --keep-branches"),
    ],
)
def test_unknown_or_shortened_switch(builders: Builders, unchanged: Unchanged, args: list[str], hint: str) -> None:
    with unchanged():
        result = builders(*args)
    assert result.code == 2
    assert result.err == f"error: unknown switch {args[2]}\nhint: {hint}\n"


def test_a_misspelt_command_is_suggested_as_typed(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("lnad", "x")
    assert result.code == 2
    assert result.err == "error: unknown command 'lnad'\nhint: did you mean 'land'? builders land x\n"
    with unchanged():
        result = builders("hooks", "instal")
    assert result.err == "error: unknown command 'instal'\nhint: did you mean 'install'? builders hooks install\n"


BAD_REPOS = {
    "unknown": ("alpha,nope", "unknown repo: nope"),
    "two unknown": ("x1,x2", "unknown repos: x1, x2"),
    "traversal": ("../alpha", "invalid repo '../alpha'"),
    "slash": ("alpha/x", "invalid repo 'alpha/x'"),
    "option as base": ("alpha:--output=/tmp/x", "starts with '-'"),
    "space in base": ("alpha:main x", "white space"),
    "empty base": ("alpha:", "is empty"),
    "twice": ("alpha,alpha", "listed twice"),
    "all with others": ("all,alpha", "'all' stands alone"),
}


@pytest.mark.parametrize(("repos", "message"), BAD_REPOS.values(), ids=BAD_REPOS.keys())
def test_bad_repos(builders: Builders, unchanged: Unchanged, repos: str, message: str) -> None:
    with unchanged():
        result = builders("new", "x", "--repos", repos)
    assert result.code == 2, result.err
    assert message in result.err and "\nhint: " in result.err


def test_unknown_repo_hint_lists_known(builders: Builders) -> None:
    result = builders("new", "x", "--repos", "nope")
    assert "hint: known repos" in result.err and "alpha, beta, gamma" in result.err


def test_base_naming_no_commit(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("new", "x", "--repos", "alpha,beta:no-such-branch")
    assert result.code == 2
    assert "beta: base 'no-such-branch' names no commit" in result.err


def test_bad_root_base(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        assert builders("new", "x", "--base", "-p").code == 2
        assert builders("new", "x", "--base", "nothing-here").code == 2


def test_unknown_config_key(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.local.yaml").write_text("builders:\n  dri: x\n")
    with unchanged():
        result = builders("new", "x")
    assert result.code == 2
    assert "workspaces.local.yaml:2: key 'builders.dri' is not a known key" in result.err


def test_missing_repos_folder(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    shutil.rmtree(root / "repos")
    with unchanged():
        result = builders("new", "x", "--repos", "alpha")
    assert result.code == 2
    assert "has no repos/ folder" in result.err and "builders repos sync" in result.err


def test_declared_repo_not_cloned(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.yaml").write_text("repos:\n  alpha:\n  delta:\n    url: /nowhere\n")
    with unchanged():
        result = builders("new", "x", "--repos", "delta")
    assert result.code == 2 and "not cloned" in result.err


def test_root_with_no_commits(tmp_path: Path, builders: Builders) -> None:
    empty = tmp_path / "fresh"
    (empty / "repos").mkdir(parents=True)
    git.run(empty, "init", "-q")
    (empty / ".gitignore").write_text("repos/\n")
    result = builders("new", "x", cwd=empty)
    assert result.code == 2
    assert "has no commits" in result.err and "commit --allow-empty" in result.err
    assert not (tmp_path / "fresh.builders").exists()
    assert git.run(empty, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_not_inside_a_workspace(tmp_path: Path, builders: Builders) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = builders("new", "x", cwd=outside)
    assert result.code == 2
    assert "not inside a workspace" in result.err and "hint: " in result.err
    assert list(outside.iterdir()) == []


def test_builders_dir_inside_the_root_is_refused(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.yaml").write_text('builders:\n  dir: ".builders"\n')
    commit(root)
    with unchanged():
        result = builders("new", "x", "--repos", "alpha")
    assert result.code == 2
    assert "deprecated nested layout" in result.err and "../{root}.builders" in result.err


def test_builders_dir_inside_a_clone_is_refused(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "workspaces.yaml").write_text('builders:\n  dir: "repos/alpha/trees"\n')
    commit(root)
    with unchanged():
        assert builders("new", "x").code == 2


def test_a_misspelt_placeholder_in_builders_dir_is_refused(
    root: Path, builders: Builders, unchanged: Unchanged
) -> None:
    (root / "workspaces.yaml").write_text('builders:\n  dir: "../{rot}.builders"\n')
    commit(root)
    with unchanged():
        result = builders("new", "x", "--repos", "alpha")
    assert result.code == 2
    assert "builders.dir '../{rot}.builders': unknown placeholder {rot}" in result.err
    assert 'hint: fix builders.dir, e.g. dir: "../{root}.builders"' in result.err
    assert not (root.parent / "{rot}.builders").exists()


def test_repos_not_ignored_in_root(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("repos/\n", ""))
    commit(root)
    with unchanged():
        result = builders("new", "x")
    assert result.code == 2
    assert "repos/ is not ignored" in result.err


def test_init_in_the_root_is_refused(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("init", "--repos", "alpha")
    assert result.code == 2 and "run it inside one, or name it" in result.err


def test_init_of_unknown_builder(builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("init", "--builder", "ghost", "--repos", "alpha")
    assert result.code == 2 and "no builder 'ghost'" in result.err


def test_unknown_command_and_no_command(builders: Builders) -> None:
    result = builders("frobnicate")
    assert result.code == 2 and result.err == "error: unknown command 'frobnicate'\nhint: see: builders --help\n"
    alone = builders()
    assert alone.code == 2 and "\nUsage:\n    builders " in alone.out and alone.err == ""


def test_no_builders_dir_left_behind(root: Path, builders: Builders) -> None:
    assert builders("new", "x", "--repos", "nope").code == 2
    assert not builders_dir(root).exists()


CONFIG_COMMANDS = {
    "new": ["new", "x", "--repos", "alpha"],
    "add": ["add", "x"],
    "init": ["init", "--builder", "made", "--repos", "beta"],
    "remove": ["remove", "made"],
    "remove --force": ["remove", "made", "--force"],
    "prune": ["prune"],
    "verify": ["verify"],
    "migrate": ["migrate"],
    "repos sync": ["repos", "sync"],
    "list": ["list"],
    "list --fast": ["list", "--fast"],
    "list --removed": ["list", "--removed"],
    "path": ["path", "made"],
    "status": ["status", "made"],
    "exec": ["exec", "made", "--", "true"],
    "run": ["run", "made", "--", "true"],
    "start": ["start", "made"],
    "land --dry-run": ["land", "made", "--dry-run"],
    "sync --dry-run": ["sync", "made", "--dry-run"],
    "push --dry-run": ["push", "made", "--dry-run"],
    "hooks install": ["hooks", "install", "--dry-run"],
}


@pytest.fixture
def broken_config(root: Path, builders: Builders) -> None:
    """A builder named 'made', then a workspaces.yaml that is not YAML."""
    assert builders("new", "made", "--repos", "alpha").code == 0
    (root / "workspaces.yaml").write_text("builders:\n  dir: [unclosed\n")


@pytest.mark.parametrize("args", CONFIG_COMMANDS.values(), ids=CONFIG_COMMANDS.keys())
@pytest.mark.usefixtures("broken_config")
def test_malformed_yaml_stops_every_command_that_reads_it(
    builders: Builders, unchanged: Unchanged, args: list[str]
) -> None:
    with unchanged():
        result = builders(*args)
    assert result.code == 2, result.err
    assert "workspaces.yaml:3: malformed YAML" in result.err and "hint: fix the YAML syntax" in result.err


# `make check` runs these four of them; `make test` all.
QUICK_CONFIG = {"new", "list", "status", "land --dry-run"}


@pytest.mark.parametrize(
    "args",
    [pytest.param(v, id=k, marks=[pytest.mark.quick] if k in QUICK_CONFIG else []) for k, v in CONFIG_COMMANDS.items()],
)
def test_a_typo_in_the_config_stops_every_command(
    root: Path, builders: Builders, unchanged: Unchanged, args: list[str]
) -> None:
    assert builders("new", "made", "--repos", "alpha").code == 0
    (root / "workspaces.local.yaml").write_text("builders:\n  branch_prefix: builder/\n  prots: {first: 20000}\n")
    with unchanged():
        result = builders(*args)  # from the root, and from inside the builder
        inside = builders(*args, cwd=builders_dir(root) / "made/repos/alpha")
    for said in (result, inside):
        assert said.code == 2, said.err
        assert f"error: {root / 'workspaces.local.yaml'}:3: key 'builders.prots' is not a known key" in said.err
        assert "hint: fix or remove 'builders.prots' in workspaces.local.yaml" in said.err
        assert said.out == ""


@pytest.mark.quick
@pytest.mark.usefixtures("broken_config")
def test_a_broken_config_does_not_block_help_version_or_scaffold(root: Path, builders: Builders) -> None:
    for args in (["--version"], ["--help"], ["list", "--help"], ["land", "--help"]):
        result = builders(*args)
        assert result.code == 0, (args, result.err)
        assert result.out and result.err == ""
    # scaffold reads no config: it keeps the broken file (or, with --force, sets it aside for the template)
    planned = builders("scaffold", "--dry-run")
    assert planned.code == 0, planned.err
    assert "kept workspaces.yaml" in planned.err


@pytest.mark.parametrize(
    "command",
    [["list"], ["verify"], ["prune"], ["path", "x"], ["remove", "x"], ["new", "x"], ["init", "--builder", "x"]],
)
def test_a_corrupt_state_file_is_named_with_the_fix(
    root: Path, builders: Builders, unchanged: Unchanged, command: list[str]
) -> None:
    assert builders("new", "x", "--repos", "alpha").code == 0
    state_file = root / ".git/builders/state/x.json"
    state_file.write_text('{"name": "x", "path": ')  # cut short, as by a full disk
    with unchanged():
        result = builders(*command)
    assert result.code == 2, result.err
    assert f"error: state file {state_file} is unreadable" in result.err
    assert f"hint: move it aside (mv {state_file} {state_file}.bad), then run: builders verify" in result.err


@pytest.mark.parametrize("content", ['{"name": "x", "removed_at"', "[]", '{"name": "x"}'])
def test_a_corrupt_removal_record_is_named_with_the_fix(
    root: Path, builders: Builders, unchanged: Unchanged, content: str
) -> None:
    assert builders("new", "x").code == 0
    assert builders("remove", "x").code == 0
    (record,) = (root / ".git/builders/removed").glob("x.*.json")
    record.write_text(content)
    for args in (["list", "--removed"], ["list", "--removed", "--json"]):
        with unchanged():
            result = builders(*args)
        assert result.code == 2, result.err
        assert f"error: removal record {record} is unreadable" in result.err
        assert f"hint: move it aside (mv {record} {record}.bad), then run: builders list --removed" in (
            result.err
        )
        assert result.out == ""


USAGE_ERRORS = {
    "missing argument": (["new"], "missing argument: name", "new"),
    "extra argument": (["path", "a", "b"], "unexpected argument: b", "path"),
    "a second name": (["status", "a", "b"], "unexpected argument: b", "status"),
    "switch without its value": (["new", "x", "--repos"], "switch --repos requires an argument", "new"),
    "value of the wrong type": (["repos", "sync", "--jobs", "x"], "--jobs: 'x' is not a valid int", "repos sync"),
    "flag given a value": (["list", "--fast=yes"], "switch --fast does not take an argument", "list"),
    "unknown top switch": (["--frob"], "unknown switch --frob", ""),
    "switch given twice": (["remove", "x", "--force", "--force"], "switch --force already given", "remove"),
}


@pytest.mark.parametrize(("args", "message", "command"), USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_errors(builders: Builders, unchanged: Unchanged, args: list[str], message: str, command: str) -> None:
    with unchanged():
        result = builders(*args)
    assert result.code == 2
    assert result.out == ""
    assert result.err == f"error: {message}\nhint: see: {' '.join(['builders', command]).strip()} --help\n"
