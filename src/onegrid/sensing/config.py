"""The sensing context's data files: device kinds and the default rules, read once and kept."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from onegrid.core.errors import InvalidInput
from onegrid.core.yamlfile import read_yaml
from onegrid.sensing.domain.devices import DeviceKind, parse_kinds
from onegrid.sensing.settings import SensingSettings, sensing_settings

_lock = threading.Lock()
_kinds: dict[Path, dict[str, DeviceKind]] = {}


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
