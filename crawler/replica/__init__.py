"""The offline replica of the portals: a real HTTP server built from the snapshots."""
