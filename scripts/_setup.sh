# Shared set-up for scripts/run and scripts/test: sourced, not executed.
#
# Goes to the repository root, makes sure .venv exists with the project installed
# (re-installing only when pyproject.toml changed), and builds the front-end assets.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.dantoc-installed"

die() {
    echo "error: $*" >&2
    exit 1
}

check_python() {
    command -v "$PYTHON" >/dev/null 2>&1 \
        || die "$PYTHON not found. Install Python 3.11 or newer (Debian/Ubuntu: apt install python3 python3-venv)."
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "Python 3.11 or newer is needed, $PYTHON is $("$PYTHON" -V 2>&1)."
    "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 \
        || die "the Python venv module is missing (Debian/Ubuntu: apt install python3-venv)."
}

ensure_venv() {
    if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c '' >/dev/null 2>&1; then
        return
    fi
    check_python
    echo "==> creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "could not create $VENV (Debian/Ubuntu: apt install python3-venv)."
}

ensure_installed() {
    local wanted
    wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then
        return
    fi
    echo "==> installing Python packages into .venv (pyproject.toml changed)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    echo "$wanted" >"$STAMP"
}

setup() {
    ensure_venv
    ensure_installed
    export PATH="$VENV/bin:$PATH"
    "$ROOT/scripts/build-assets"
}
