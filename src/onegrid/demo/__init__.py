"""The demo city: a synthetic city built by our own code, the same for the same seed."""

from __future__ import annotations

from onegrid.demo.city import DemoReport, build_demo_city, is_empty

__all__ = ["DemoReport", "build_demo_city", "is_empty"]
