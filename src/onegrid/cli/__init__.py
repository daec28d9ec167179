"""The ``onegrid`` command. Each concern adds its sub-commands from a module of its own."""

from __future__ import annotations

import importlib
import pkgutil

from onegrid.cli.root import app

# Every module in this package registers its commands on ``app`` when imported.
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name != "root":
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["app"]
