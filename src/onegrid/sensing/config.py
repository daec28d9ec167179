"""The sensing context's data files: device kinds and the default rules, read once and kept."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from onegrid.core.errors import InvalidInput
from onegrid.sensing.domain.devices import DeviceKind, parse_kinds
from onegrid.sensing.settings import SensingSettings, sensing_settings

_lock = threading.Lock()
_kinds: dict[Path, dict[str, DeviceKind]] = {}


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


def device_kinds(settings: SensingSettings | None = None) -> dict[str, DeviceKind]:
    path = (settings or sensing_settings()).device_kinds_file
    found = _kinds.get(path)
    if found is None:
        with _lock:
            found = _kinds.get(path)
            if found is None:
                found = _kinds[path] = parse_kinds(read_yaml(path))
    return found


def default_rule_specs(settings: SensingSettings | None = None) -> list[Any]:
    data = read_yaml((settings or sensing_settings()).rules_file)
    rules = data.get("rules")
    if not isinstance(rules, list):
        raise InvalidInput.one("rules", "list", "the rules file holds a list under 'rules'")
    return rules
