"""Accounts: users, roles as sets of permission verbs, scopes, sign-in."""
