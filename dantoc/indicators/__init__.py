"""Indicator system: catalogue versions, groups, indicators, rules, forms and periods."""
