"""Synchronisation with another dantoc instance through its API (docs/api.md §Sync)."""
