#!/usr/bin/env bash
# `manage.py check --deploy` on a production configuration (deploy/check.env: DEBUG off,
# PostgreSQL, a RabbitMQ broker, real allowed hosts, one trusted reverse proxy, the HTTPS
# settings at their defaults) with a secret key from the environment. Fails on any warning.
# CI runs it from the repository root:
#
#     bash deploy/check.sh
#
# Nothing is connected to: `check` reads the settings only. Only the variables of check.env
# (and the key) are set: nothing of the caller's environment leaks into the check.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
VAR_DIR="$(mktemp -d)"
trap 'rm -rf "$VAR_DIR"' EXIT

mapfile -t SETTINGS < <(grep -Ev '^[[:space:]]*(#|$)' deploy/check.env)
SECRET_KEY="${CASEBOOK_SECRET_KEY:-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')}"

env -i \
    PATH="$PATH" \
    HOME="${HOME:-/tmp}" \
    LANG=C.UTF-8 \
    "${SETTINGS[@]}" \
    CASEBOOK_SECRET_KEY="$SECRET_KEY" \
    CASEBOOK_VAR_DIR="$VAR_DIR" \
    "$PYTHON" manage.py check --deploy --fail-level WARNING
