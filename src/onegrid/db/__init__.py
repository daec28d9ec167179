"""Database plumbing shared by every context: engine, metadata, sessions, migrations."""
