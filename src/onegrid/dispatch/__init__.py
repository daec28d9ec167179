"""Dispatch: classification, routing, the 12345 hotline desk and duplicates.

- ``classifier``: suggests a category for a message before an operator dispatches it;
- ``routing``: which unit a case goes to and why, and direct dispatch (直派);
- ``hotline``: calls and messages, the knowledge base, callbacks and the three rates;
- ``duplicates``: a new report near an open case of the same category, proposed for merging.

Cases are written only through ``onegrid.cases.services``.
"""
