"""Config: defaults with no file, the local overlay, and errors that name file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workspace_builders import config
from workspace_builders.errors import BuildersError


def put(datadir: Path, name: str, root: Path, as_name: str = config.CONFIG_FILE) -> None:
    shutil.copy(datadir / name, root / as_name)


def test_defaults_without_any_file(tmp_path: Path) -> None:
    loaded = config.load(tmp_path)
    assert loaded == config.Config()
    assert loaded.builders_dir == "../{root}.builders"
    assert loaded.branch_prefix == "builder/"
    assert loaded.repos is None


def test_full_file(datadir: Path, tmp_path: Path) -> None:
    put(datadir, "full.yaml", tmp_path)
    loaded = config.load(tmp_path)
    assert loaded.builders_dir == "../{root}-trees"
    assert loaded.branch_prefix == "agent/"
    assert loaded.default_repos == ("alpha", "beta")
    assert loaded.repos == {"alpha": config.RepoConfig("/srv/alpha.git", "origin/main"), "beta": config.RepoConfig()}
    assert loaded.copy == (".env.local", "config/*.secret")
    assert (loaded.setup, loaded.archive) == ("make setup", "echo bye")


def test_local_overlay_is_merged_over(datadir: Path, tmp_path: Path) -> None:
    put(datadir, "full.yaml", tmp_path)
    put(datadir, "overlay.yaml", tmp_path, config.LOCAL_FILE)
    loaded = config.load(tmp_path)
    assert loaded.default_repos == ("beta",)  # lists are replaced
    assert loaded.setup == "true"  # keys are merged one by one
    assert loaded.archive == "echo bye"
    assert loaded.branch_prefix == "agent/"


def test_overlay_alone(datadir: Path, tmp_path: Path) -> None:
    put(datadir, "overlay.yaml", tmp_path, config.LOCAL_FILE)
    assert config.load(tmp_path).default_repos == ("beta",)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / config.CONFIG_FILE).write_text("# nothing yet\n")
    assert config.load(tmp_path) == config.Config(files=(tmp_path / config.CONFIG_FILE,))


ERRORS = {
    "wrong_type.yaml": "workspaces.yaml:3: key 'builders.default_repos' must be a list",
    "bad_repo_name.yaml": "workspaces.yaml:3: key 'repos.../evil' is not a valid repo name",
    "bool_for_string.yaml": "workspaces.yaml:2: key 'scripts.setup' must be a string, not bool",
    "version_two.yaml": "workspaces.yaml:1: key 'version' must be 1",
    "bad_prefix.yaml": "builders.branch_prefix '-x/'",
}


@pytest.mark.parametrize(("name", "message"), ERRORS.items(), ids=ERRORS.keys())
def test_invalid_files(datadir: Path, tmp_path: Path, name: str, message: str) -> None:
    put(datadir, name, tmp_path)
    with pytest.raises(BuildersError) as raised:
        config.load(tmp_path)
    assert raised.value.exit_code == 2
    assert message in raised.value.message
    assert raised.value.hint


def test_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / config.CONFIG_FILE).write_text("- a\n- b\n")
    with pytest.raises(BuildersError, match="must be a mapping"):
        config.load(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / config.CONFIG_FILE).write_bytes(b"copy: ['\xff']\n")
    with pytest.raises(BuildersError, match="not UTF-8"):
        config.load(tmp_path)
