"""FastAPI integration for walker-channels (the router arrives with the web-adapter work)."""
