from tests.api.grid.admin_city import admin_city, as_, cheap_hashing

__all__ = ["admin_city", "as_", "cheap_hashing"]
