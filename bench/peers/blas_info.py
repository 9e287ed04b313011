"""Which BLAS a PyTorch process has loaded (Debian's python3-torch links libblas.so.3, whichever
library `update-alternatives` points that at).

    blas_info()  -> {"kind": "openblas" | "reference" | "mkl" | "blis" | "atlas" | "unknown",
                     "library": the file behind libblas.so.3 in this process, "libraries": [...],
                     "alternative": "/usr/lib/.../libblas.so.3" | None,
                     "torch_blas_info": "generic", "reference": bool}

The loaded libraries are read from /proc/self/maps after a small matmul (which loads the
BLAS); the Debian alternative and torch's own build string are reported beside them. Debian's
reference BLAS (libblas3, netlib) is about 12x slower than OpenBLAS on a 512^3 float32 matmul
on the development machines (2.6 vs 32 GFLOP/s): a peer timed on it measures the BLAS, not
PyTorch. `warn_if_reference(info)` says so on stderr.
"""
import os
import re
import subprocess
import sys
import sysconfig

INSTALL_HINT = "install OpenBLAS (apt-get install libopenblas0-pthread, or scripts/install-system.sh --peers)"


def _loaded_libraries():
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                path = parts[-1]
                base = os.path.basename(path)
                if re.search(r"blas|lapack|mkl_|libmkl|blis|atlas", base):
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def _alternative():
    arch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    try:
        out = subprocess.run(["update-alternatives", "--query", "libblas.so.3-" + arch],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^Value:\s*(\S+)", out, re.M)
    return m.group(1) if m else None


def _classify(path):
    p = path.lower()
    if "openblas" in p:
        return "openblas"
    if "mkl" in p:
        return "mkl"
    if "blis" in p:
        return "blis"
    if "atlas" in p:
        return "atlas"
    # Debian's reference (netlib) BLAS: .../x86_64-linux-gnu/blas/libblas.so.3
    if re.search(r"/blas/libblas\.so", p):
        return "reference"
    return "unknown"


def blas_info():
    import torch

    a = torch.ones(64, 64)
    (a @ a).sum().item()  # loads the BLAS library
    libs = _loaded_libraries()
    alt = _alternative()
    # The library that answers for libblas.so.3 decides (OpenBLAS's liblapack may be mapped
    # beside a reference libblas); then any other BLAS mapped (e.g. MKL linked directly); then
    # what the Debian alternative points at.
    sgemm = [os.path.realpath(p) for p in libs if os.path.basename(p).startswith("libblas.so")]
    kind = _classify(sgemm[0]) if sgemm else "unknown"
    if kind == "unknown":
        kind = next((k for k in map(_classify, libs) if k != "unknown"), "unknown")
    if kind == "unknown" and alt:
        kind = _classify(os.path.realpath(alt))
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return dict(kind=kind, library=sgemm[0] if sgemm else None, libraries=libs, alternative=alt,
                torch_blas_info=m.group(1) if m else None, reference=kind == "reference")


def warn_if_reference(info, out=sys.stderr):
    if info.get("reference"):
        bar = "!" * 78
        print(bar, file=out)
        print("WARNING: PyTorch is using Debian's REFERENCE BLAS (%s)." % (info.get("library") or info.get("alternative")), file=out)
        print("Its matmuls run about 12x slower than with OpenBLAS: PyTorch's timings then measure the", file=out)
        print("reference BLAS, not PyTorch. To fix: %s." % INSTALL_HINT, file=out)
        print(bar, file=out)
        out.flush()
