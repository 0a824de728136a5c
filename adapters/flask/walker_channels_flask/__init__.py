"""Flask integration for walker-channels (the extension arrives with the web-adapter work)."""
