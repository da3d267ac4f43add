"""The approval workflows' shared core (:mod:`.core`) and who acts in them (:mod:`.actors`)."""

from .core import (
    ABOVE,
    OWNER,
    REASON_MAX,
    Action,
    Lock,
    Workflow,
    insert_first,
    required_reason,
)

__all__ = ["ABOVE", "OWNER", "REASON_MAX", "Action", "Lock", "Workflow", "insert_first",
           "required_reason"]
