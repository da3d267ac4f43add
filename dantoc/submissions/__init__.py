"""Village-head data entry: submissions, their versions and values (review comes in #5)."""
