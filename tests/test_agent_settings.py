"""`builders hooks install|uninstall --claude|--opencode`: our entries merged into the agent runtimes' JSON
settings of the root, everything else kept, idempotent, a broken file refused before anything is written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import Builders, Unchanged
from workspace_builders.gitlayer import git

CREATE = {"type": "command", "command": "builders hook worktree-create"}
REMOVE = {"type": "command", "command": "builders hook worktree-remove"}
THEIRS = {
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./check.sh"}]}],
        "WorktreeCreate": [{"hooks": [{"type": "command", "command": "echo theirs"}]}],
    },
    "model": "opus",
}


def read(path: Path) -> object:
    return json.loads(path.read_text())


def test_install_claude_creates_the_settings_and_the_mcp_registration(root: Path, builders: Builders) -> None:
    result = builders("hooks", "install", "--claude")
    assert result.code == 0, result.err
    assert read(root / ".claude/settings.json") == {
        "hooks": {"WorktreeCreate": [{"hooks": [CREATE]}], "WorktreeRemove": [{"hooks": [REMOVE]}]}
    }
    assert read(root / ".mcp.json") == {"mcpServers": {"builders": {"command": "builders", "args": ["mcp"]}}}
    assert (root / ".git/hooks/post-checkout").is_file()  # the git hooks too
    assert f"next: commit them, so every builder and clone of the root has them: git -C {root} add" in result.err
    assert not (root / "opencode.json").exists()


def test_the_readme_shows_what_install_writes(root: Path, builders: Builders) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use with agent runtimes") : readme.index("### MCP server")]
    shown = json.loads(section.split("```json\n")[1].split("```")[0])
    assert builders("hooks", "install", "--claude", "--opencode").code == 0
    assert read(root / ".claude/settings.json") == shown
    assert '`{"mcpServers": {"builders": {"command": "builders",\n"args": ["mcp"]}}}`' in section
    assert read(root / ".mcp.json") == {"mcpServers": {"builders": {"command": "builders", "args": ["mcp"]}}}
    assert '`"mcp": {"builders": {"type": "local", "command": ["builders", "mcp"]}}`' in section
    assert read(root / "opencode.json") == {"mcp": {"builders": {"type": "local", "command": ["builders", "mcp"]}}}


def test_install_keeps_every_other_key_and_hook_and_is_idempotent(root: Path, builders: Builders) -> None:
    settings = root / ".claude/settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(THEIRS, indent=4) + "\n")
    assert builders("hooks", "install", "--claude").code == 0
    merged = read(settings)
    assert isinstance(merged, dict)
    assert merged["permissions"] == THEIRS["permissions"] and merged["model"] == "opus"
    assert merged["hooks"]["PreToolUse"] == THEIRS["hooks"]["PreToolUse"]  # type: ignore[index]
    assert merged["hooks"]["WorktreeCreate"] == [*THEIRS["hooks"]["WorktreeCreate"], {"hooks": [CREATE]}]  # type: ignore[index]
    assert merged["hooks"]["WorktreeRemove"] == [{"hooks": [REMOVE]}]
    assert '\n    "permissions"' in settings.read_text()  # the file's own indent
    text = settings.read_text()
    again = builders("hooks", "install", "--claude")
    assert again.code == 0 and ".claude/settings.json: already has ours" in again.err
    assert settings.read_text() == text
    assert builders("hooks", "uninstall", "--claude").code == 0
    assert read(settings) == THEIRS
    assert not (root / ".mcp.json").exists()  # it held only ours


def test_uninstall_takes_out_only_ours_from_a_shared_entry(root: Path, builders: Builders) -> None:
    settings = root / ".claude/settings.json"
    settings.parent.mkdir()
    shared = {"hooks": {"WorktreeRemove": [{"hooks": [{"type": "command", "command": "echo bye"}, REMOVE]}]}}
    settings.write_text(json.dumps(shared))
    assert builders("hooks", "install", "--claude").code == 0
    assert read(settings)["hooks"]["WorktreeRemove"] == shared["hooks"]["WorktreeRemove"]  # type: ignore[index]
    assert builders("hooks", "uninstall", "--claude").code == 0
    assert read(settings) == {"hooks": {"WorktreeRemove": [{"hooks": [{"type": "command", "command": "echo bye"}]}]}}


def test_opencode_registration_keeps_other_servers(root: Path, builders: Builders) -> None:
    config = root / "opencode.json"
    other = {"type": "remote", "url": "http://x"}
    theirs = {"$schema": "https://opencode.ai/config.json", "mcp": {"other": other}}
    config.write_text(json.dumps(theirs))
    result = builders("hooks", "install", "--opencode")
    assert result.code == 0, result.err
    ours = {"type": "local", "command": ["builders", "mcp"]}
    assert read(config) == {"$schema": theirs["$schema"], "mcp": {"other": other, "builders": ours}}
    assert not (root / ".claude").exists() and not (root / ".mcp.json").exists()
    assert builders("hooks", "uninstall", "--opencode").code == 0
    assert read(config) == theirs


def test_a_server_named_builders_that_is_not_ours_is_kept(root: Path, builders: Builders) -> None:
    mine = {"mcpServers": {"builders": {"command": "/opt/my-builders", "args": []}}}
    (root / ".mcp.json").write_text(json.dumps(mine))
    result = builders("hooks", "install", "--claude")
    assert result.code == 0 and "kept the server named 'builders'" in result.err
    assert read(root / ".mcp.json") == mine
    assert builders("hooks", "uninstall", "--claude").code == 0
    assert read(root / ".mcp.json") == mine


def test_the_registration_claude_mcp_add_writes_is_taken_as_ours(root: Path, builders: Builders) -> None:
    """`claude mcp add --scope project builders -- builders mcp` writes the longer form of our entry."""
    theirs = {"mcpServers": {"builders": {"type": "stdio", "command": "builders", "args": ["mcp"], "env": {}}}}
    (root / ".mcp.json").write_text(json.dumps(theirs, indent=2) + "\n")
    result = builders("hooks", "install", "--claude")
    assert result.code == 0 and ".mcp.json: already has ours" in result.err and "kept the server" not in result.err
    assert read(root / ".mcp.json") == theirs
    assert builders("hooks", "uninstall", "--claude").code == 0
    assert not (root / ".mcp.json").exists()
    other = {"mcpServers": {"builders": {"type": "stdio", "command": "builders", "args": ["mcp"], "env": {"A": "1"}}}}
    (root / ".mcp.json").write_text(json.dumps(other))
    assert "kept the server named 'builders'" in builders("hooks", "install", "--claude").err
    assert builders("hooks", "uninstall", "--claude").code == 0
    assert read(root / ".mcp.json") == other  # an env of its own: not ours to take out


@pytest.mark.parametrize(
    "file, text, message",
    [
        (
            ".claude/settings.json",
            '{\n  "hooks": {\n    "a": 1,\n  }\n}\n',
            ".claude/settings.json:4:3: not valid JSON",
        ),
        (".claude/settings.json", "[]", ".claude/settings.json:1: holds JSON list, not an object"),
        (".claude/settings.json", '{"hooks": []}', "'hooks' is not a JSON object"),
        (".claude/settings.json", '{"hooks": {"WorktreeCreate": {}}}', "'hooks.WorktreeCreate' is not a JSON array"),
        (".claude/settings.json", '{"a": 1, "a": 2}', "the key 'a' is there twice"),
        (".mcp.json", "{,}", ".mcp.json:1:2: not valid JSON"),
        (".mcp.json", '{"mcpServers": 3}', "'mcpServers' is not a JSON object"),
    ],
)
def test_a_broken_file_is_refused_with_its_line_and_nothing_is_written(
    root: Path, builders: Builders, unchanged: Unchanged, file: str, text: str, message: str
) -> None:
    (root / file).parent.mkdir(exist_ok=True)
    (root / file).write_text(text)
    with unchanged():  # not the other file, not the git hooks
        result = builders("hooks", "install", "--claude")
    assert result.code == 2
    assert message in result.err and "error: " in result.err
    assert "hint: fix " in result.err


def test_opencode_jsonc_is_left_to_the_user(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    (root / "opencode.jsonc").write_text('{ // mine\n  "mcp": {},\n}\n')
    with unchanged():
        result = builders("hooks", "install", "--opencode")
    assert result.code == 2 and "opencode.jsonc" in result.err
    assert 'hint: add to its "mcp" object by hand: "builders": {"type": "local"' in result.err


def test_dry_run_changes_nothing(root: Path, builders: Builders, unchanged: Unchanged) -> None:
    with unchanged():
        result = builders("hooks", "install", "--claude", "--opencode", "--dry-run")
    assert result.code == 0
    assert ".claude/settings.json: would add ours to" in result.err and "opencode.json: would add ours" in result.err


def test_the_settings_are_written_when_the_git_hooks_cannot_be(root: Path, builders: Builders) -> None:
    hooks = root / ".git/hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("post-checkout", "post-checkout.legacy"):  # a foreign hook, and nowhere to keep it
        (hooks / name).write_text("#!/bin/sh\nexit 0\n")
    result = builders("hooks", "install", "--claude")
    assert result.code == 1
    assert "error: git hooks not installed: " in result.err and "is taken" in result.err
    assert read(root / ".claude/settings.json") == {
        "hooks": {"WorktreeCreate": [{"hooks": [CREATE]}], "WorktreeRemove": [{"hooks": [REMOVE]}]}
    }
    assert (hooks / "post-checkout").read_text() == "#!/bin/sh\nexit 0\n"
    assert not (hooks / "pre-commit").exists()  # the git hooks are all or none, as before
    assert builders("hooks", "install").code == 1  # alone, the refusal is as before


def test_the_next_step_after_install_and_uninstall_works_pasted(root: Path, builders: Builders) -> None:
    def next_step(err: str) -> str | None:
        line = next((x for x in err.splitlines() if x.startswith("next: commit ")), None)
        return line.partition(": ")[2].partition(": ")[2] if line else None

    installed = builders("hooks", "install", "--claude")
    step = next_step(installed.err)
    assert step is not None
    uninstalled = builders("hooks", "uninstall", "--claude")  # never committed: nothing to commit
    assert uninstalled.code == 0, uninstalled.err
    assert next_step(uninstalled.err) is None and not (root / ".mcp.json").exists()
    assert builders("hooks", "install", "--claude").code == 0
    assert subprocess.run(["sh", "-c", step], capture_output=True, text=True).returncode == 0  # committed
    uninstalled = builders("hooks", "uninstall", "--claude")
    step = next_step(uninstalled.err)  # the deletions are to commit now
    assert step is not None
    done = subprocess.run(["sh", "-c", step], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert git.run(root, "ls-files", ".mcp.json", ".claude/settings.json") == ""
