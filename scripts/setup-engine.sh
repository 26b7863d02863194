#!/usr/bin/env bash
# Installs the embedded ClickHouse engine (chDB, from PyPI's pinned chdb-core wheel) into a
# project-local virtual environment, ./.venv. Idempotent: does nothing when already there.
set -euo pipefail
cd "$(dirname "$0")/.."

CHDB_VERSION="${CHDB_VERSION:-26.9.0}"
VENV="${NUMU_VENV:-.venv}"
STAMP="$VENV/.chdb-core-$CHDB_VERSION"

if [[ -f "$STAMP" ]]; then
  exit 0
fi

# chDB needs a Python built with a shared libpython (Debian's /usr/bin/python3 is static:
# then its libpython3.X package provides the shared library).
PYTHON="${PYTHON:-python3}"
libpython=$("$PYTHON" -c "import sysconfig, os; print(os.path.join(sysconfig.get_config_var('LIBDIR') or '', sysconfig.get_config_var('INSTSONAME') or ''))")
if [[ ! -f "$libpython" ]]; then
  version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  echo "setup: $libpython is missing; installing libpython$version (Debian)" >&2
  if command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "libpython$version" >/dev/null
  else
    echo "setup: install a shared libpython$version, or a Python built with --enable-shared" >&2
    exit 1
  fi
fi

echo "setup: installing chdb-core==$CHDB_VERSION into $VENV (about 180 MB, once)" >&2
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "chdb-core==$CHDB_VERSION"
touch "$STAMP"
