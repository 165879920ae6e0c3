"""Read a small YAML settings file, turning every problem into one `ConfigError` line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kernel.errors import ConfigError


def load_yaml(path: Path, *, setting: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(setting, f"cannot read {path} ({type(exc).__name__})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        raise ConfigError(setting, f"{path} is not valid YAML{where}") from None
