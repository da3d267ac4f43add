"""Where the application's files live, for the modules that read them (no imports of the
package itself, so reading a path never pulls in the application factory)."""

from __future__ import annotations

from pathlib import Path

#: The repository root: templates/, static/, translations/ and migrations/ live here.
ROOT = Path(__file__).resolve().parent.parent
