"""`workspaces.yaml` and its gitignored overlay `workspaces.local.yaml`, validated into a frozen Config.

Every key is optional and the defaults work with no file at all. Each file is checked on its own, so
an error names the file, the line and the key; then the overlay is deep-merged over the main file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from workspace_builders.base.errors import BuildersError, bad_input
from workspace_builders.base.names import branch_prefix_problem, name_problem, ref_problem
from workspace_builders.model.sparse import folders as sparse_folders

TYPE_CHECKING = False  # typing would cost an import at every start; annotations are never evaluated
if TYPE_CHECKING:
    from typing import Any

CONFIG_FILE = "workspaces.yaml"
LOCAL_FILE = "workspaces.local.yaml"


@dataclass(frozen=True)
class RepoConfig:
    url: str | None = None
    base: str | None = None
    sparse: tuple[str, ...] | None = None  # the folders its worktrees check out; None: all of it


@dataclass(frozen=True)
class Config:
    builders_dir: str = "../{root}.builders"
    branch_prefix: str = "builder/"
    default_repos: tuple[str, ...] = ()
    repos: dict[str, RepoConfig] | None = None  # None: every git repo under repos/
    copy: tuple[str, ...] = ()
    setup: str | None = None
    archive: str | None = None
    pre_land: str | None = None  # the gate `builders land` runs in the builder before any base moves
    read_from: tuple[Path, ...] = field(default=())  # the config files read, for messages
    setup_file: Path | None = None  # the file scripts.setup comes from, for messages
    ports: tuple[int, int] | None = None  # builders.ports: (first, size) of each builder's block
    start: str | None = None  # scripts.start
    builder_files: dict[str, str] = field(default_factory=dict)  # files: path in a builder -> template
    submodules: bool = True  # builders.submodules: `git submodule update --init --recursive` in new worktrees


# The shape of a file: a dict is a mapping with these keys, "*" any key; a list holds one type.
_ANY_KEY = "*"
_ANY_PATH = "**"  # any key, a path rather than a repo name
_SCHEMA: dict[str, Any] = {
    "version": int,
    "builders": {
        "dir": str,
        "branch_prefix": str,
        "default_repos": [str],
        "ports": {"first": int, "size": int},
        "submodules": bool,
    },
    "repos": {_ANY_KEY: {"url": str, "base": str, "sparse": [str]}},
    "copy": [str],
    "scripts": {"setup": str, "archive": str, "pre_land": str, "start": str},
    "files": {_ANY_PATH: str},
}
_TYPE_NAMES = {int: "a whole number", str: "a string", list: "a list", dict: "a mapping", bool: "true or false"}


def load(root: Path) -> Config:
    """The root's config (workspaces.yaml, then workspaces.local.yaml over it), checked. A command reads
    it once: through the one Workspace the CLI boundary found (`commands.base.Command.location`)."""
    merged: dict[str, Any] = {}
    files = []
    setup_file = None
    for name in (CONFIG_FILE, LOCAL_FILE):
        path = root / name
        if path.is_file():
            data = _read(path)
            if "setup" in (data.get("scripts") or {}):
                setup_file = path  # the later file wins, as in the merge
            merged = _merge(merged, data)
            files.append(path)
    return replace(_build(merged, tuple(files)), setup_file=setup_file)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        # One parse gives both the nodes (for line numbers) and the data; libyaml's parser when present.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            lines: dict[tuple[str, ...], int] = {}
            _record_lines(node, (), lines, path, set())  # before building: it refuses aliases
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as exc:
        raise bad_input(f"{path}: not UTF-8 text ({exc.reason})", f"save {path.name} as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise bad_input(f"{where}: malformed YAML: {problem}", f"fix the YAML syntax in {path.name}") from None
    if data is None:
        return {}
    _check(data, _SCHEMA, (), path, lines)
    assert isinstance(data, dict)
    if "version" in data and data["version"] != 1:
        raise _wrong(path, lines, ("version",), "must be 1")
    return data


def _record_lines(
    node: yaml.Node | None, at: tuple[str, ...], lines: dict[tuple[str, ...], int], path: Path, seen: set[int]
) -> None:
    if node is None:
        return
    if id(node) in seen and not isinstance(node, yaml.ScalarNode):
        # An alias (*name) of a mapping or a list: one may refer to itself, or multiply (a "billion
        # laughs"); nothing in these files needs one.
        raise bad_input(
            f"{path}:{node.start_mark.line + 1}: a YAML alias of a mapping or list ({'.'.join(at) or 'top'})",
            f"write the value out in full in {path.name}",
        )
    seen.add(id(node))
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*at, str(key.value))
            lines[here] = key.start_mark.line + 1
            _record_lines(value, here, lines, path, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*at, str(index)), lines, path, seen)


def _check(value: Any, shape: Any, at: tuple[str, ...], path: Path, lines: dict[tuple[str, ...], int]) -> None:
    if isinstance(shape, dict):
        if value is None and at and _ANY_KEY not in shape:
            return  # `scripts:` with nothing under it
        if not isinstance(value, dict):
            raise _wrong(path, lines, at, f"must be {_TYPE_NAMES[dict]}")
        for key, item in value.items():
            key = str(key)
            if unusable_text(key):
                shown = (*at, key.encode("unicode_escape").decode("ascii"))
                lines[shown] = lines.get((*at, key), 1)
                raise _wrong(path, lines, shown, f"as a key {unusable_text(key)}")
            if _ANY_PATH in shape:
                _check(item, shape[_ANY_PATH], (*at, key), path, lines)
            elif _ANY_KEY in shape:
                problem = name_problem(key)
                if problem:
                    raise _wrong(path, lines, (*at, key), f"is not a valid repo name: {problem}")
                if item is not None:  # `ai-dev:` alone declares a repo
                    _check(item, shape[_ANY_KEY], (*at, key), path, lines)
            elif key not in shape:
                known = ", ".join(shape)
                raise _wrong(path, lines, (*at, key), f"is not a known key (known here: {known})")
            else:
                _check(item, shape[key], (*at, key), path, lines)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise _wrong(path, lines, at, f"must be {_TYPE_NAMES[list]}")
        for index, item in enumerate(value):
            _check(item, shape[0], (*at, str(index)), path, lines)
    elif not isinstance(value, shape) or (isinstance(value, bool) and shape is not bool):
        raise _wrong(path, lines, at, f"must be {_TYPE_NAMES[shape]}, not {type(value).__name__}")
    elif isinstance(value, str):
        problem = unusable_text(value) or _value_problem(at, value)
        if problem:
            raise _wrong(path, lines, at, problem)


def unusable_text(text: str) -> str | None:
    """Why `text` cannot reach git or the OS as it is (an argument, a path, an environment value): a
    NUL byte ends it early or is refused, and a lone surrogate (a `\\ud800` escape) has no bytes."""
    if "\0" in text:
        return "holds a NUL byte (\\0), which no path, argument or script can carry"
    if any("\ud800" <= c <= "\udfff" for c in text):
        return "holds a lone surrogate (\\ud800 to \\udfff), which is no character"
    return None


# The forms of a url that make git run something rather than fetch: a remote helper `ext::` runs
# its command line; `fd::` talks over descriptors; a url that starts with '-' would be an option.
_RUNNING_URLS = ("ext::", "fd::")


def _value_problem(at: tuple[str, ...], value: str) -> str | None:
    if len(at) == 3 and at[0] == "repos" and at[2] == "url":
        if value.startswith("-"):
            return "starts with '-', which git would read as an option: write the url in full"
        if value.lower().startswith(_RUNNING_URLS):
            return "uses the ext:: or fd:: transport, which runs a command: use an ssh, https or file url"
    if at == ("builders", "dir") and value.startswith("-"):
        return "starts with '-': write it as ./-... or name another folder"
    return None


def _wrong(path: Path, lines: dict[tuple[str, ...], int], at: tuple[str, ...], problem: str) -> BuildersError:
    line = lines.get(at) or lines.get(at[:-1]) or 1
    key = ".".join(at) or "(top level)"
    return bad_input(
        f"{path}:{line}: key '{key}' {problem}", f"fix or remove '{key}' in {path.name} (README: Configuration)"
    )


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(data: dict[str, Any], files: tuple[Path, ...]) -> Config:
    builders = data.get("builders") or {}
    scripts = data.get("scripts") or {}
    where = " or ".join(str(f) for f in files) or CONFIG_FILE
    prefix = builders.get("branch_prefix", Config.branch_prefix)
    problem = branch_prefix_problem(prefix)
    if problem:
        raise bad_input(f"{where}: builders.branch_prefix {prefix!r}: {problem}", "use a prefix like 'builder/'")
    builders_dir = builders.get("dir", Config.builders_dir)
    # `{root}` is the one placeholder; a misspelt one would otherwise make a folder named with braces.
    unknown = sorted(set(re.findall(r"\{[^{}]*\}", builders_dir)) - {"{root}"})
    if unknown:
        raise bad_input(
            f"{where}: builders.dir {builders_dir!r}: unknown placeholder {unknown[0]} (the only one is {{root}})",
            'fix builders.dir, e.g. dir: "../{root}.builders"',
        )
    for name in builders.get("default_repos", []):
        problem = name_problem(name)
        if problem:
            raise bad_input(f"{where}: builders.default_repos: {name!r} {problem}", "list repo names")
    repos = None
    if "repos" in data:
        repos = {}
        for name, entry in (data["repos"] or {}).items():
            entry = entry or {}
            base = entry.get("base")
            if base is not None and ref_problem(base):
                raise bad_input(f"{where}: repos.{name}.base {base!r}: {ref_problem(base)}", "name a branch or commit")
            sparse = entry.get("sparse")
            if sparse is not None:
                sparse = sparse_folders(sparse, f"{where}: repos.{name}.sparse")
            repos[str(name)] = RepoConfig(url=entry.get("url"), base=base, sparse=sparse)
    ports = _ports(builders.get("ports"), where)
    return Config(
        ports=ports,
        start=scripts.get("start"),
        builder_files={str(k): v for k, v in (data.get("files") or {}).items()},
        submodules=builders.get("submodules", Config.submodules),
        builders_dir=builders_dir,
        branch_prefix=prefix,
        default_repos=tuple(builders.get("default_repos", ())),
        repos=repos,
        copy=tuple(data.get("copy") or ()),
        setup=scripts.get("setup"),
        archive=scripts.get("archive"),
        pre_land=scripts.get("pre_land"),
        read_from=files,
    )


MAX_PORT = 65535


def _ports(entry: dict[str, int] | None, where: str) -> tuple[int, int] | None:
    """builders.ports as (first, size): blocks of `size` ports from `first` on."""
    if entry is None:
        return None
    first, size = entry.get("first", 20000), entry.get("size", 10)
    if not 1024 <= first <= MAX_PORT or not 1 <= size <= 1000 or first + size - 1 > MAX_PORT:
        raise bad_input(
            f"{where}: builders.ports {{first: {first}, size: {size}}}: first must be 1024 to {MAX_PORT},"
            " size 1 to 1000, and one block must fit below 65536",
            "use for example: builders: {ports: {first: 20000, size: 10}}",
        )
    return first, size
