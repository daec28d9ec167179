"""Web pages and their static assets; no business rules.

``install_web(app)`` adds the browser's session endpoint and serves the built front end
(``frontend/``, built by ``make web``) at ``/``. Without a build, ``/`` says how to make one.
"""

from __future__ import annotations

from onegrid.web.mount import install_web

__all__ = ["install_web"]
