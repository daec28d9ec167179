"""Rule and data files a city replaces are YAML mappings; one reader gives every context the
same refusals (unreadable, not YAML, not a mapping) naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from onegrid.core.errors import InvalidInput


def read_yaml(path: Path, field: str = "file") -> dict[str, Any]:
    """The mapping in ``path``; a refusal names the file, and ``field`` says which of a
    command's inputs it is (a command taking a data file and a spec names the spec "spec")."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput.one(field, "readable", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput.one(field, "yaml", f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput.one(field, "mapping", f"{path} must hold a mapping at the top")
    return data
