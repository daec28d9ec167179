"""HTTP: the FastAPI app factory, error mapping, auth and the versioned routers."""
