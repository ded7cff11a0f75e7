"""Names: what is accepted is always a safe single path component and a valid branch name."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workspace_builders.base.errors import BuildersError
from workspace_builders.base.names import check_builder_name, parse_repo_specs
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.quick  # every test here runs in `make check`


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=70))
def test_accepted_names_are_safe(name: str) -> None:
    try:
        check_builder_name(name)
    except BuildersError as exc:
        assert exc.exit_code == 2
        return
    assert Path(name).name == name and name not in {".", ".."} and not name.startswith("-")
    assert git.branch_name_ok_started(f"builder/{name}")()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_repo_specs_never_leak_an_option_or_a_path(text: str) -> None:
    try:
        specs = parse_repo_specs(text)
    except BuildersError as exc:
        assert exc.exit_code == 2
        return
    for spec in specs:
        assert "/" not in spec.name and ".." not in spec.name and not spec.name.startswith("-")
        assert spec.base is None or (spec.base and not spec.base.startswith("-") and " " not in spec.base)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("a", [("a", None)]),
        (" a , b:origin/main ,", [("a", None), ("b", "origin/main")]),
        ("a:v1.2^{commit}", [("a", "v1.2^{commit}")]),
    ],
)
def test_parse_repo_specs(text: str, parsed: list[tuple[str, str | None]]) -> None:
    assert [(s.name, s.base) for s in parse_repo_specs(text)] == parsed
