"""Dispatch: routing rules, classification, duplicates and escalation.

So far it holds the text classifier (``onegrid.dispatch.classifier``), which suggests a category
for a message before an operator dispatches it.
"""
