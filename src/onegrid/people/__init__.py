"""People and access: users, roles scoped to areas or departments, API keys."""
