"""Old import path of the data-entry factories: they live in :mod:`tests.factories`."""

from tests.factories import *  # noqa: F403
from tests.factories import __all__  # noqa: F401
