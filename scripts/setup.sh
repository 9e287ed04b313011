#!/usr/bin/env bash
# Installs what a fresh Debian bookworm machine lacks to run cortical-rnn: Mesa 25 from
# bookworm-backports (a WebGPU adapter on the CPU through Vulkan/llvmpipe), the npm packages
# from the lockfile, the compiled library (dist/, what `import … from 'cortical-rnn/…'` loads)
# and the web workbench's bundle (dist/web, for `cortical-rnn serve`).
# Skips whatever is already there and up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(uname -s)" = "Linux" ] && command -v apt-get >/dev/null 2>&1; then
  if ! dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '~bpo12\|^2[4-9]\.'; then
    bash scripts/install-system.sh
  fi
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Rebuilt when any of its sources is newer than the last build.
if [ ! -f dist/engine/node.js ] || [ -n "$(find engine tasks connectome analysis experiments bench cli shaders package.json tsconfig.json tsconfig.build.json -newer dist/engine/node.js -print -quit)" ]; then
  npm run build
fi
if [ ! -f dist/web/index.html ]; then
  npm run build:web
fi
