"""The versioned JSON contract: every `--json` document carries `"version": 1` and validates against its
schema in schemas/, on real workspaces; every command that takes --json has a schema."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import Builders, builders_dir, commit, mounted
from workspace_builders import cli
from workspace_builders.gitlayer import git

pytestmark = pytest.mark.quick  # every test here runs in `make check`

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

# The schema of each command that takes --json (`list --removed` has its own: list-removed).
SCHEMA_OF = {
    ("new",): "new",
    ("add",): "new",
    ("init",): "new",
    ("list",): "list",
    ("verify",): "verify",
    ("remove",): "remove",
    ("prune",): "prune",
    ("repos", "sync"): "repos-sync",
    ("status",): "status",
    ("sync",): "sync",
    ("land",): "land",
    ("push",): "push",
    ("exec",): "exec",
    ("path",): "path",
    ("restore",): "restore",
}


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return loaded


def closed(node: Any) -> Any:
    """`node` with every object it defines closed to any key it does not declare (its own or its
    oneOf branch's). The schemas stay open (a key added later is no change of shape for a reader); the
    tests check that each key a command prints today is in its schema."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    shut = {key: closed(value) for key, value in node.items()}
    if "type" in node and "properties" in node and "additionalProperties" not in node:
        shut["unevaluatedProperties"] = False
    return shut


def valid_document(name: str, document: object) -> dict[str, Any]:
    """`document`, validated against schemas/<name>.schema.json: every key it has is declared there."""
    jsonschema.Draft202012Validator(closed(schema(name))).validate(document)
    assert isinstance(document, dict) and document["version"] == 1
    return document


def valid(name: str, text: str) -> dict[str, Any]:
    """The one JSON document in `text`, validated against schemas/<name>.schema.json."""
    return valid_document(name, json.loads(text))


def test_every_schema_is_a_valid_draft_2020_12_schema_and_pins_version_1() -> None:
    names = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    assert names == sorted({*SCHEMA_OF.values(), "list-removed", "error"})
    for name in names:
        loaded = schema(name)
        jsonschema.Draft202012Validator.check_schema(loaded)
        assert loaded["properties"]["version"]["const"] == 1 and "version" in loaded["required"], name


def test_the_readme_links_every_schema() -> None:
    readme = (SCHEMAS.parent / "README.md").read_text(encoding="utf-8")
    for path in SCHEMAS.glob("*.schema.json"):
        assert f"(schemas/{path.name})" in readme, path.name


def test_every_command_that_takes_json_has_a_schema() -> None:
    with_json = set()
    for path, app in mounted(cli.Builders).items():
        if isinstance(app, str):
            module, _, name = app.rpartition(".")
            app = getattr(importlib.import_module(module), name)
        if hasattr(app, "as_json"):
            with_json.add(path)
    assert with_json == set(SCHEMA_OF)


def test_a_document_that_breaks_its_schema_is_caught() -> None:
    """The schemas do check: a missing key, a wrong type or another version fails."""
    good = {"version": 1, "name": "a", "path": "/x"}
    jsonschema.Draft202012Validator(schema("path")).validate(good)
    for bad in ({**good, "version": 2}, {"version": 1, "name": "a"}, {**good, "path": 3}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft202012Validator(schema("path")).validate(bad)
    with pytest.raises(jsonschema.ValidationError, match="'stray' was unexpected"):
        valid_document("path", {**good, "stray": True})  # a key the schema does not declare
    row = {"name": "root", "path": "/x", "exit_code": 0, "output": []}
    ran = {"version": 1, "builder": "a", "command": ["true"], "ok": True, "repos": [row]}
    valid_document("exec", ran)
    with pytest.raises(jsonschema.ValidationError, match="'stray' was unexpected"):
        valid_document("exec", {**ran, "repos": [{**row, "stray": 1}]})  # in a nested object too


def test_each_commands_document_validates_through_a_whole_session(root: Path, builders: Builders) -> None:
    def doc(name: str, *args: str, code: int = 0) -> dict[str, Any]:
        result = builders(*args)
        assert result.code == code, result.err
        return valid(name, result.out)

    made = doc("new", "new", "s", "--repos", "alpha,beta", "--json")
    assert made["status"] == "ready" and [r["name"] for r in made["repos"]] == ["alpha", "beta"]
    assert doc("new", "new", "d", "--repos", "alpha", "--dry-run", "--json")["dry_run"] is True
    assert doc("new", "add", "a", "--json")["repos"] == []
    assert doc("new", "init", "--builder", "a", "--repos", "gamma", "--json")["repos"][0]["name"] == "gamma"
    builder = builders_dir(root) / "s"
    (builder / "repos/alpha/feature.txt").write_text("f\n")
    commit(builder / "repos/alpha", "feature")
    (root / "NEWS").write_text("n\n")
    commit(root, "the root moves on")
    (builder / "repos/beta/wip.txt").write_text("w\n")

    rows = {r["name"]: r for r in doc("list", "list", "--json")["builders"]}
    assert rows["s"]["ahead"] == 1 and rows["s"]["dirty"] == 1 and rows["s"]["behind"] == 1
    assert doc("list", "list", "--fast", "--json")["builders"][0]["dirty"] is None
    assert doc("verify", "verify", "--json")["ok"] is True
    assert doc("path", "path", "s", "--json")["path"] == str(builder)
    status = doc("status", "status", "s", "--json")
    assert [w["label"] for w in status["worktrees"]] == ["root", "alpha", "beta"]
    refused = doc("remove", "remove", "s", "--dry-run", "--json", code=1)
    assert refused["removed"] is False and any(w["problems"] for w in refused["worktrees"])
    refused = doc("remove", "remove", "s", "--json", code=1)  # refused for real: the same document
    assert refused["dry_run"] is False and refused["removed"] is False
    assert any(w["problems"] for w in refused["worktrees"]) and builder.is_dir()
    ran = doc("exec", "exec", "s", "--json", "--", "git", "status", "--short")
    assert [r["output"] for r in ran["repos"]] == [[], ["?? wip.txt"]]
    (builder / "repos/beta/wip.txt").unlink()

    planned = doc("sync", "sync", "s", "--dry-run", "--json")
    only_root_behind = [("root", 1), ("alpha", 0), ("beta", 0)]
    assert [(w["label"], w["behind"]) for w in planned["worktrees"]] == only_root_behind
    assert not any(w["synced"] for w in planned["worktrees"])
    synced = doc("sync", "sync", "s", "--json")
    assert [w["synced"] for w in synced["worktrees"]] == [True, False, False]
    assert [p["repo"] for p in doc("land", "land", "s", "--dry-run", "--json")["plan"]] == ["alpha"]
    assert [r["repo"] for r in doc("push", "push", "s", "--dry-run", "--json")["repos"]] == ["alpha"]
    pushed = doc("push", "push", "s", "--json")["repos"]
    assert pushed[0]["ok"] is True
    landed = doc("land", "land", "s", "--json")
    assert [m["repo"] for m in landed["landed"]] == ["alpha"] and landed["removed"] is False
    assert git.run(root / "repos/alpha", "log", "-1", "--format=%s").strip() == "feature"

    removed = doc("remove", "remove", "a", "--force", "--json")
    assert removed["removed"] is True and removed["branches"]["deleted"]
    assert [r["name"] for r in doc("list-removed", "list", "--removed", "--json")["removed"]] == ["a"]
    plan = doc("restore", "restore", "a", "--dry-run", "--json")
    assert plan["restored"] is False and plan["worktrees"][0]["label"] == "root"
    assert not (builders_dir(root) / "a").exists()  # a dry run makes nothing
    restored = doc("restore", "restore", "a", "--json")
    assert restored["restored"] is True and restored["worktrees"] == plan["worktrees"]
    assert (builders_dir(root) / "a").is_dir()
    assert doc("remove", "remove", "a", "--force", "--json")["removed"] is True
    (builders_dir(root) / "stray").mkdir()
    assert doc("prune", "prune", "--dry-run", "--json")["dry_run"] is True
    assert doc("prune", "prune", "--json")["dry_run"] is False

    upstream = root.parent / "upstream/alpha"
    (root / "workspaces.local.yaml").write_text(f"repos:\n  alpha:\n    url: '{upstream}'\n")
    assert doc("repos-sync", "repos", "sync", "--dry-run", "--json")["repos"][0]["action"] == "present"
    assert doc("repos-sync", "repos", "sync", "--json")["ok"] is True


def test_land_with_push_and_the_removal_of_a_closed_builder_validate(root: Path, builders: Builders) -> None:
    """The documents of the rarer paths: pushes skipped and failed after a landing, and `remove` of a
    builder whose folder was deleted by hand (prune closed it; its branches are still there)."""
    assert builders("new", "p", "--repos", "alpha").code == 0
    builder = builders_dir(root) / "p"
    for where in (builder, builder / "repos/alpha"):
        (where / "landed.txt").write_text("l\n")
        commit(where, "to land")
    landed = builders("land", "p", "--push", "--json")
    assert landed.code == 4, landed.err  # landed; a push did not complete
    document = valid("land", landed.out)
    assert document["ok"] is False and [m["repo"] for m in document["landed"]] == ["root", "alpha"]
    root_push, alpha_push = document["pushed"]
    assert root_push["ok"] is None and root_push["skipped"] == "no remote 'origin'"
    assert alpha_push["ok"] is False and alpha_push["error"] and alpha_push["command"].startswith("git -C ")

    assert builders("new", "c", "--repos", "alpha,beta").code == 0
    closed = builders_dir(root) / "c"
    (closed / "repos/alpha/kept.txt").write_text("k\n")
    commit(closed / "repos/alpha", "only on the builder's branch")
    shutil.rmtree(closed)
    assert builders("prune").code == 0
    planned = valid("remove", builders("remove", "c", "--dry-run", "--json").out)
    assert planned["dry_run"] is True and planned["removed"] is False and planned["worktrees"] == []
    assert planned["branches"]["deleted"] == ["root: builder/c", "beta: builder/c"]
    assert list(planned["branches"]["kept"]) == ["alpha"]
    finished = builders("remove", "c", "--json")
    assert finished.code == 0, finished.err
    document = valid("remove", finished.out)
    assert document["removed"] is True and document["branches"] == planned["branches"]


def test_a_document_printed_on_failure_still_validates(root: Path, builders: Builders) -> None:
    assert builders("new", "s", "--repos", "alpha").code == 0
    ran = builders("exec", "s", "--json", "--", "git", "rev-parse", "--verify", "no-such-ref")
    assert ran.code == 1
    document = valid("exec", ran.out)
    assert document["ok"] is False and document["repos"][0]["exit_code"] != 0
    (builders_dir(root) / "s/repos/alpha/.git").write_text("gitdir: /nowhere\n")
    checked = builders("verify", "--json")
    assert checked.code == 1
    assert valid("verify", checked.out)["ok"] is False
