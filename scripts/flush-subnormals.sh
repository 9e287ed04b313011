#!/usr/bin/env bash
# Run a command with subnormal floats flushed to zero in Mesa's CPU driver threads (lavapipe,
# llvmpipe), e.g.  scripts/flush-subnormals.sh node bin/cortical-rnn.js sweep ...
# Why and how: scripts/flush-subnormals/flush_subnormals.c. Builds the shim once with cc into
# $CORTICAL_RNN_CACHE (default ~/.cache/cortical-rnn), rebuilding when the source changes.
# Linux on x86-64 only; a GPU adapter needs none of this. `cortical-rnn info` says whether the
# adapter flushes subnormals.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)/flush-subnormals/flush_subnormals.c
if [ $# -eq 0 ]; then echo "usage: scripts/flush-subnormals.sh COMMAND [ARGS...]" >&2; exit 2; fi
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) echo "flush-subnormals: Linux on x86-64 only (this is $(uname -s)/$(uname -m))" >&2; exit 2 ;;
esac
cache=${CORTICAL_RNN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cortical-rnn}
so="$cache/flush-subnormals-$(sha256sum "$src" | cut -c1-12).so"
if [ ! -f "$so" ]; then
  command -v cc >/dev/null || { echo "flush-subnormals: needs a C compiler (cc) to build $src" >&2; exit 2; }
  mkdir -p "$cache"
  tmp=$(mktemp "$cache/.build.XXXXXX")
  cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$tmp" "$src" -ldl
  mv -f "$tmp" "$so"
fi
export LD_PRELOAD="$so${LD_PRELOAD:+ $LD_PRELOAD}"
exec "$@"
