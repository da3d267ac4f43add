"""Province staff screens for the catalogs: units (list, tree, detail, edit), import, lists.

Reading needs ``catalog.view``; every write needs ``catalog.manage``.
"""

from . import lists, units  # noqa: F401  (each attaches its routes to bp)
from .blueprint import bp

__all__ = ["bp"]
