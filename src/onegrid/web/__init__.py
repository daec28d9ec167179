"""Web pages and their static assets; no business rules."""
