#!/usr/bin/env bash
# The install step of the msk-reconciler action (action.yml): the pinned release, into a venv
# of its own under $RUNNER_TEMP, from outside every checkout and in isolated mode (`python -I`
# never puts the working directory on sys.path and ignores PYTHON* variables). So no file of
# the repository (a pull request's `pip/` or `reconciler/` folder at its root) can stand in
# for pip or the reconciler; run.sh runs that venv's python the same way.
set -euo pipefail
cd "$RUNNER_TEMP"
python -I -m venv "$VENV"
"$VENV/bin/python" -I -m pip install --disable-pip-version-check --quiet "$REQUIREMENT"
