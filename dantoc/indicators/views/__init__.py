"""Province staff screens for the indicator system (permission ``form.manage``).

Catalogue versions, indicator groups, indicators, rules, forms with their versions, and
reporting periods: one view module per subject, each attaching its routes to :data:`bp`.
"""

from . import (  # noqa: F401  (each attaches its routes to bp)
    catalogue,
    editor,
    indicators,
    overview,
    periods,
    questionnaires,
    rules,
)
from .blueprint import bp

__all__ = ["bp"]
