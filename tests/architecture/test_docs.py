"""The docs stand on their own and stay true to the code: every setting the code reads, every
secret file and every CLI command appears in docs/reference.md or docs/configuration.md, and no
doc points outside the repository."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from aiops.cli import build_parser
from app.config import _FIELD_TO_ENV, SECRET_NAMES, Settings

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
DOCS = REFERENCE + (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "aiops") -> list[str]:
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found += _commands(sub, f"{prefix} {name}")
    return found


@pytest.mark.parametrize("env", sorted({_FIELD_TO_ENV[f] for f in Settings.model_fields}))
def test_every_setting_is_documented(env: str) -> None:
    assert re.search(rf"`{re.escape(env)}`", DOCS), f"{env} is read by app/config.py but not documented"


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_every_secret_file_is_documented(name: str) -> None:
    assert f"`{name}`" in DOCS, f"secret file {name} is read but not documented"


@pytest.mark.parametrize("command", _commands(build_parser()))
def test_every_cli_command_is_in_the_reference(command: str) -> None:
    assert f"`{command}" in REFERENCE, f"`{command}` is in the CLI parser but not in docs/reference.md"


def test_the_parser_has_the_contract_commands() -> None:
    assert {"aiops serve", "aiops worker", "aiops migrate", "aiops demo"} <= set(_commands(build_parser()))


def test_docs_do_not_point_outside_the_repository() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text and "BRIEF.md" not in text, path.name
