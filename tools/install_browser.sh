#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the browser test (tests/test_browser.py).
#
# Playwright drives the system browser at /usr/bin/chromium; it never downloads one of its
# own. As root (CI, a fresh machine) this installs the `chromium` package. As anyone else it
# only explains what to do and exits 0: the browser test itself then fails with the same
# advice, so a missing browser is never silently skipped.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser: $CHROMIUM is missing and this is not root, so nothing was installed." >&2
    echo "install_browser: install it with 'sudo apt-get update && sudo apt-get install -y chromium'" >&2
    echo "install_browser: (the browser test in tests/test_browser.py fails until it is there)." >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: $CHROMIUM is missing and apt-get is not available;" \
         "install Chromium with this system's package manager." >&2
    exit 0
fi

echo "install_browser: installing Debian's chromium (for the browser test)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$CHROMIUM" --version
