"""Config: defaults with no file, the local overlay, and errors that name file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workspace_builders.base.errors import BuildersError
from workspace_builders.model import config

pytestmark = pytest.mark.quick  # every test here runs in `make check`


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
    assert config.load(tmp_path) == config.Config(read_from=(tmp_path / config.CONFIG_FILE,))


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


# Every string the config holds, each written with a NUL escape in it: (YAML text, the key named).
_STRINGS = [
    ('builders:\n  dir: "../x\\0y"\n', "builders.dir", 2),
    ('builders:\n  branch_prefix: "b\\0/"\n', "builders.branch_prefix", 2),
    ('builders:\n  default_repos: ["al\\0pha"]\n', "builders.default_repos.0", 2),
    ('repos:\n  alpha:\n    url: "/tmp/u\\0p"\n', "repos.alpha.url", 3),
    ('repos:\n  alpha:\n    base: "ma\\0in"\n', "repos.alpha.base", 3),
    ('copy:\n  - ".env\\0"\n', "copy.0", 2),
    ('scripts:\n  setup: "echo a\\0b"\n', "scripts.setup", 2),
    ('scripts:\n  archive: "echo\\0"\n', "scripts.archive", 2),
    ('scripts:\n  pre_land: "make\\0 test"\n', "scripts.pre_land", 2),
    ('scripts:\n  start: "serve\\0"\n', "scripts.start", 2),
    ('files:\n  .env: "PORT={port}\\0"\n', "files..env", 2),
    ('files:\n  "a\\0b": "x"\n', "files.a\\x00b", 2),
    ('repos:\n  alpha:\n    sparse: ["sr\\0c"]\n', "repos.alpha.sparse.0", 3),
]


def _string_places(shape: object, at: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every place of the schema that holds a string: "*" a repo name, "**" a path, "0" a list item."""
    if isinstance(shape, dict):
        return {place for key, inner in shape.items() for place in _string_places(inner, (*at, key))}
    if isinstance(shape, list):
        return _string_places(shape[0], (*at, "0"))
    return {at} if shape is str else set()


def test_the_nul_cases_cover_every_string_of_the_schema() -> None:
    def general(key: str) -> tuple[str, ...]:
        parts = key.split(".", 2) if key.startswith("repos.") else key.split(".", 1)
        if parts[0] == "repos":
            return ("repos", "*", *parts[2].split("."))
        if parts[0] == "files":
            return ("files", "**")
        if parts[0] == "copy":
            return ("copy", "0")
        return (parts[0], *parts[1].split("."))

    assert {general(key) for _, key, _ in _STRINGS} == _string_places(config._SCHEMA)


@pytest.mark.parametrize(("text", "key", "line"), _STRINGS, ids=[key for _, key, _ in _STRINGS])
def test_a_nul_byte_in_any_string_is_refused_with_file_line_and_key(
    tmp_path: Path, text: str, key: str, line: int
) -> None:
    (tmp_path / config.CONFIG_FILE).write_text(text)
    with pytest.raises(BuildersError) as raised:
        config.load(tmp_path)
    assert raised.value.exit_code == 2
    assert raised.value.message.startswith(f"{tmp_path / config.CONFIG_FILE}:{line}: key '{key}' ")
    assert "NUL byte" in raised.value.message
    assert raised.value.hint is not None and config.CONFIG_FILE in raised.value.hint


def test_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    """libyaml refuses the escape itself; the pure-Python parser reads it, and the check refuses it."""
    (tmp_path / config.CONFIG_FILE).write_text('scripts:\n  setup: "echo \\ud800"\n')
    with pytest.raises(BuildersError) as raised:
        config.load(tmp_path)
    said = raised.value.message
    assert raised.value.exit_code == 2 and f"{config.CONFIG_FILE}:2: " in said
    assert "invalid Unicode character" in said or "key 'scripts.setup' holds a lone surrogate" in said
    assert config.unusable_text("echo \ud800") is not None and config.unusable_text("echo é") is None
