#!/usr/bin/env bash
# Best-effort install of the system packages the end-to-end tests use: Debian's Chromium (browser
# tests of the app) and PostgreSQL (store tests against a real server). Tests that need them skip
# with a clear message when they are absent, so a machine without root or apt still runs the rest.
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages for end-to-end tests: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${need[@]}" >/dev/null 2>&1; } \
    || echo "could not install ${need[*]}; the tests that need them will be skipped"
else
  echo "not root or no apt-get: ${need[*]} not installed; the tests that need them will be skipped"
fi
exit 0
