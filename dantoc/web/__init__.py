"""Shared web plumbing with no domain logic: page/fragment rendering, errors, headers."""
