#!/usr/bin/env bash
# Installs the system packages a fresh Debian bookworm machine lacks for WebGPU on the CPU:
# Mesa 25 (llvmpipe + lavapipe Vulkan ICD) from bookworm-backports (stock Mesa 22 is too old
# for Dawn's Vulkan backend), and Chromium for the browser tests (tests/browser.test.ts drive
# the web workbench in it, headless, on its own WebGPU adapter). Idempotent; needs root (or sudo).
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Use the same mirror as the main suite.
  mirror=$(grep -rhs -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ \
    | grep -E 'debian/?$|debian ' | grep -v security | head -n1 \
    | sed -E 's/^URIs: *//; s/^deb +(\[[^]]*\] +)?//; s/ .*$//' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "deb ${mirror} bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  echo "[install-system] added bookworm-backports from ${mirror}"
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
dpkg-query -W -f='[install-system] ${Package} ${Version}\n' mesa-vulkan-drivers libvulkan1 chromium
