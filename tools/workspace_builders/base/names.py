"""Validation of builder names, repo names and `REPOS` specs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workspace_builders.base import interface
from workspace_builders.base.errors import bad_input

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_REF_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|^[-/.]|[/.]$|\.lock$|//")


def name_problem(name: str) -> str | None:
    """Why `name` is no good as a builder or repo name, or None when it is."""
    if not name:
        return "it is empty"
    if not _NAME.fullmatch(name):
        if len(name) > 63:
            return "it is longer than 63 characters"
        return "use ASCII letters, digits, '.', '_' and '-', starting with a letter or digit"
    if ".." in name:
        return "it contains '..'"
    if name.endswith(".lock") or name.endswith("."):
        return "it ends in '.lock' or '.'"
    return None


def check_builder_name(name: str) -> str:
    problem = name_problem(name)
    if problem:
        raise bad_input(
            f"invalid builder name {name!r}: {problem}",
            "pick a name like 'slack' or 'fix-123' (letters, digits, '.', '_', '-'; at most 63)",
        )
    return name


def ref_problem(ref: str) -> str | None:
    """Why `ref` cannot be a base revision, or None. The revision itself is resolved by git."""
    if not ref:
        return "it is empty"
    if ref.startswith("-"):
        return "it starts with '-'"
    if any(c.isspace() or ord(c) < 0x20 for c in ref):
        return "it contains white space or control characters"
    return None


def check_ref(ref: str, what: str) -> str:
    problem = ref_problem(ref)
    if problem:
        raise bad_input(f"invalid {what} {ref!r}: {problem}", "name a branch, tag or commit, e.g. origin/main")
    return ref


def branch_prefix_problem(prefix: str) -> str | None:
    if prefix and (_REF_BAD.search(prefix.rstrip("/") or "/") or prefix.startswith("-")):
        return "it must be usable as the start of a branch name, e.g. 'builder/'"
    if prefix.startswith(("refs/", "heads/")):
        return "it is the start of a branch name, not of a ref: 'builder/' gives refs/heads/builder/NAME"
    return None


@dataclass(frozen=True)
class RepoSpec:
    name: str
    base: str | None  # None: the configured or default base


def parse_repo_specs(text: str) -> list[RepoSpec]:
    """`a,b:origin/dev, c` -> specs; `all` stays a spec named 'all' for the caller to expand."""
    specs: list[RepoSpec] = []
    seen: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, base = item.partition(":")
        name = name.removesuffix("/")  # `click/`, as tab completion gives it
        problem = name_problem(name)
        if problem:
            raise bad_input(
                f"invalid repo {item!r} in {interface.called('--repos', 'REPOS')}: {problem}",
                "list repos as name or name:base, separated by commas, e.g. "
                + interface.option("--repos", "REPOS", "ai-dev,k8s-lab:origin/main"),
            )
        if sep:
            check_ref(base, f"base for repo {name!r}")
        if name in seen:
            given = interface.called("--repos", "REPOS")
            raise bad_input(f"repo {name!r} is listed twice in {given}", "name each repo once")
        seen.add(name)
        specs.append(RepoSpec(name, base if sep else None))
    return specs


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name that `name` most likely misspells, or None. A switch's leading dashes are
    left out of the comparison: they would make any two switches look alike."""
    import difflib

    choices = sorted(set(known))
    by_case = {choice.lower().lstrip("-"): choice for choice in choices}  # ALPHA for alpha, too
    found = difflib.get_close_matches(name.lower().lstrip("-"), list(by_case), n=1)
    return by_case[found[0]] if found else None


def did_you_mean(names: Sequence[str], known: Iterable[str]) -> str:
    """The start of a hint: `did you mean 'alpha'? ` for one name, `did you mean 'alpha' for
    'alpah', 'beta' for 'bta'? ` for several; '' when no known name is close."""
    choices = sorted(set(known))
    matches = [(name, match) for name in names if (match := closest(name, choices))]
    if not matches:
        return ""
    if len(names) == 1:
        return f"did you mean {matches[0][1]!r}? "
    return "did you mean " + ", ".join(f"{m!r} for {n!r}" for n, m in matches) + "? "
