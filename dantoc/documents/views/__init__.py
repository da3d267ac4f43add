"""Views of the document library: :mod:`.public` (citizens) and :mod:`.staff`."""

from . import public, staff  # noqa: F401  (attach the routes)
from .blueprint import bp

__all__ = ["bp", "home_page"]

home_page = public.home_page
