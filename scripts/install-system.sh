#!/usr/bin/env bash
# Installs the system packages a fresh Debian bookworm machine lacks for WebGPU on the CPU:
# Mesa 25 (llvmpipe + lavapipe Vulkan ICD) from bookworm-backports (stock Mesa 22 is too old
# for Dawn's Vulkan backend), and a C compiler for scripts/flush-subnormals.sh. With --browser,
# also Chromium for the browser tests (tests/browser.test.ts drive the web workbench in it,
# headless, on its own WebGPU adapter); with --peers, Debian's PyTorch and OpenBLAS for the benchmark peers (bench peers, the native
# ceilings of bench profile): with only the reference BLAS (libblas3) torch's matmuls run about
# 12x slower, and the peer would measure that BLAS; with --services, Redis and Slurm (with
# munge) for the distributed-sweep tests, which scripts/services.sh starts, and Python's venv,
# pip, setuptools and NumPy for the Python client's tests. .ci/run asks for
# --browser, --services and --peers. Idempotent; needs root (or sudo).
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
dpkg-query -W -f='[install-system] ${Package} ${Version}\n' mesa-vulkan-drivers libvulkan1
# A C compiler for scripts/flush-subnormals.sh (llvmpipe's threads flush subnormal floats).
command -v cc >/dev/null 2>&1 || $SUDO apt-get install -y -qq gcc libc6-dev >/dev/null

want() { case " $* " in *" $flag "*) return 0 ;; esac; return 1; }
flag=--browser
if want "${@:-}"; then
  command -v chromium >/dev/null 2>&1 || $SUDO apt-get install -y -qq chromium >/dev/null
  dpkg-query -W -f='[install-system] ${Package} ${Version}\n' chromium
fi

# PyTorch (under /usr/bin/python3) and OpenBLAS for the benchmark peers. Installing
# libopenblas0-pthread makes it the libblas.so.3 alternative (priority 100 over libblas3's 10).
flag=--peers
if want "${@:-}"; then
  $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
  dpkg-query -W -f='[install-system] ${Package} ${Version}\n' python3-torch libopenblas0-pthread
  arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
  blas=$(update-alternatives --query "libblas.so.3-${arch}" 2>/dev/null | sed -n 's/^Value: *//p')
  echo "[install-system] libblas.so.3 -> ${blas:-unknown}"
  case "$blas" in
    *openblas*) ;;
    *) echo "[install-system] WARNING: libblas.so.3 is not OpenBLAS; PyTorch's matmuls will be slow" \
         "(sudo update-alternatives --config libblas.so.3-${arch})" >&2 ;;
  esac
fi

# Redis and Slurm for the queue and Slurm tests (scripts/services.sh starts them on 127.0.0.1),
# and Python's venv, pip, setuptools and NumPy for the Python client's tests (offline install).
flag=--services
want "${@:-}" || exit 0
missing=()
for p in redis-server munge slurmctld slurmd slurm-client python3-venv python3-pip python3-setuptools python3-numpy; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
dpkg-query -W -f='[install-system] ${Package} ${Version}\n' redis-server munge slurmctld slurmd slurm-client \
  python3-venv python3-pip python3-setuptools python3-numpy
