"""Rule and data files a city replaces are YAML mappings; one reader gives every context the
same refusals (unreadable, not YAML, not a mapping) naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from onegrid.core.errors import InvalidInput


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput.one("file", "readable", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput.one("file", "yaml", f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput.one("file", "mapping", f"{path} must hold a mapping at the top")
    return data
