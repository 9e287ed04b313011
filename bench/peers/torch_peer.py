#!/usr/bin/env python3
"""PyTorch peer of the canonical workload (../shared/peers/WORKLOAD.md), and of any workload
handed over as a file (`--data`, written by bench/peers/peer_data.ts: the paper workload).

One BPTT training step of the rate RNN (with and without the communicability regulariser),
timed per the WORKLOAD protocol; one JSON line per configuration on stdout, with the BLAS
torch loaded (`blas`; a loud warning on stderr when it is Debian's reference BLAS).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/torch_peer.py --N 100,256 --reg both --budget 2
    /usr/bin/python3 bench/peers/torch_peer.py --data paper.bin --workload paper --reg both   # the engine's data and weights
    /usr/bin/python3 bench/peers/torch_peer.py --device cuda --N 1024          # GPU machines (eager)
    /usr/bin/python3 bench/peers/torch_peer.py --device cuda --compile         # torch.compile when it works
    /usr/bin/python3 bench/peers/torch_peer.py --fixture ../shared/fixtures/rnn_bptt_ref.json  # check only

Needs Debian's python3-torch under /usr/bin/python3 (apt-get install python3-torch); this
script installs nothing. OMP_WAIT_POLICY=PASSIVE is set before torch is imported unless
--omp-default is given (spinning OpenMP workers fight OpenBLAS for the cores).
"""
import argparse
import json
import math
import os
import sys
import time

N_IN, N_OUT, S_FLOOR = 3, 3, 1e-4
TENSOR_ID = {"x": 1, "labels": 2, "W_in": 3, "W_rec": 4, "W_out": 5, "coords": 6}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", default="100,256")
    ap.add_argument("--reg", default="both", choices=["false", "true", "both"])
    ap.add_argument("--budget", type=float, default=5.0, help="seconds of timed steps per configuration")
    ap.add_argument("--B", type=int, default=32)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.2)
    ap.add_argument("--lambda", dest="lam", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--min-steps", type=int, default=None)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--compile", action="store_true", help="torch.compile the loss (PyTorch >= 2)")
    ap.add_argument("--omp-default", action="store_true", help="keep the environment's OpenMP wait policy")
    ap.add_argument("--fixture", default=None, help="only check the loss/gradients against a fixture JSON")
    ap.add_argument("--data", default=None,
                    help="train on this workload file (bench/peers/peer_data.ts) instead of the canonical one; "
                         "N, B, T, alpha, inputs, classes, output bias and loss mask come from it")
    ap.add_argument("--workload", default=None, help="name of the workload in the output lines")
    return ap.parse_args()


ARGS = parse_args()
if not ARGS.omp_default:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # must precede the torch import

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from blas_info import blas_info, warn_if_reference  # noqa: E402


# ---------------------------------------------------------------- workload data (hash-based)
def uniforms(seed, tensor_id, n):
    """u_k = (hash(k + stream * 0x9E3779B9) + 0.5) / 2^32, stream = seed*256 + tensor_id."""
    m = np.uint64(0xFFFFFFFF)
    stream = np.uint64(((seed * 256 + tensor_id) * 0x9E3779B9) & 0xFFFFFFFF)
    x = (np.arange(n, dtype=np.uint64) + stream) & m
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & m
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & m
    x ^= x >> np.uint64(16)
    return (x.astype(np.float64) + 0.5) / 4294967296.0


def make_workload(seed, N, B, T, g=1.0):
    f32 = np.float32
    x = (2 * uniforms(seed, TENSOR_ID["x"], T * B * N_IN) - 1).astype(f32).reshape(T, B, N_IN)
    labels = np.floor(3 * uniforms(seed, TENSOR_ID["labels"], T * B)).astype(np.int64).reshape(T, B)
    W_in = (2 * uniforms(seed, TENSOR_ID["W_in"], N * N_IN) - 1).astype(f32).reshape(N, N_IN)
    W_rec = ((2 * uniforms(seed, TENSOR_ID["W_rec"], N * N) - 1) * g * math.sqrt(3 / N)).astype(f32).reshape(N, N)
    W_out = ((2 * uniforms(seed, TENSOR_ID["W_out"], N_OUT * N) - 1) * math.sqrt(3 / N)).astype(f32).reshape(N_OUT, N)
    coords = uniforms(seed, TENSOR_ID["coords"], N * 3).astype(f32).reshape(N, 3)
    c64 = coords.astype(np.float64)
    D = np.sqrt(((c64[:, None, :] - c64[None, :, :]) ** 2).sum(-1)).astype(f32)
    np.fill_diagonal(D, 0)
    return dict(x=x, labels=labels, W_in=W_in, W_rec=W_rec, b=np.zeros(N, f32), W_out=W_out, D=D)


def load_peer_data(path):
    """A workload file of bench/peers/peer_data.ts: (config, data, params) as numpy arrays."""
    with open(path, "rb") as f:
        raw = f.read()
    nl = raw.index(b"\n")
    header = json.loads(raw[:nl].decode("utf8"))
    if header.get("format") != "cortical-rnn peer data 1":
        raise ValueError("%s: not a peer data file (format %r)" % (path, header.get("format")))
    body = raw[nl + 1:]

    def get(name):
        t = header["tensors"][name]
        n = int(np.prod(t["shape"]))
        dtype = np.int32 if t["dtype"] == "int32" else np.float32
        return np.frombuffer(body, dtype=dtype, count=n, offset=t["offset"]).reshape(t["shape"]).copy()

    names = ["W_in", "W_rec", "b", "W_out"] + (["b_out"] if header["outputBias"] else [])
    data = dict(x=get("x"), labels=get("labels").astype(np.int64), loss_mask=get("lossMask"), D=get("D"))
    return header, data, {k: get(k) for k in names}


# ---------------------------------------------------------------- model
class Peer:
    """The rate RNN's loss. Canonical (WORKLOAD.md): loss at every step, mean over T*B. With a
    loss mask (`data["loss_mask"]`, [T, B]): read-out only at the steps the mask scores, loss
    sum(mask * CE) / sum(mask) (the engine's masked mean). alpha = 1 is the Elman cell."""

    def __init__(self, data, params, alpha, lam, reg, device, dtype=torch.float32):
        T, B, n_in = data["x"].shape
        N = params["W_rec"].shape[0]
        self.T, self.B, self.N, self.alpha, self.lam, self.reg = T, B, N, alpha, lam, reg
        t = lambda a: torch.tensor(np.asarray(a), dtype=dtype, device=device)  # noqa: E731
        self.x = t(data["x"]).reshape(T * B, n_in)
        labels = np.asarray(data["labels"]).reshape(T, B)
        mask = data.get("loss_mask")
        if mask is None:
            self.scored, self.weights = None, None
            self.labels = torch.tensor(labels, dtype=torch.long, device=device).reshape(T * B)
        else:
            mask = np.asarray(mask, np.float32).reshape(T, B)
            self.scored = [s for s in range(T) if mask[s].any()]
            self.labels = torch.tensor(labels[self.scored], dtype=torch.long, device=device).reshape(-1)
            self.weights = t(mask[self.scored]).reshape(-1)
            self.weight_sum = self.weights.sum()
        self.D = t(data["D"])
        self.off_diag = 1 - torch.eye(N, dtype=dtype, device=device)
        names = ("W_in", "W_rec", "b", "W_out") + (("b_out",) if "b_out" in params else ())
        self.params = {k: t(params[k]).requires_grad_(True) for k in names}

    def reg_term(self, W_rec):
        A = W_rec.abs()
        s = A.sum(0).clamp_min(S_FLOOR)  # column sums: out-strength of unit j
        r = s.rsqrt()
        M = A * r[:, None] * r[None, :]
        C0 = torch.linalg.matrix_exp(M) * self.off_diag
        return self.lam * (A * self.D * C0).sum()

    def loss(self, W_in, W_rec, b, W_out, b_out=None):
        T, B, N, a = self.T, self.B, self.N, self.alpha
        us = (self.x @ W_in.t() + b).reshape(T, B, N).unbind(0)  # input drive: one matmul, then unbind
        h = torch.zeros(B, N, dtype=W_rec.dtype, device=W_rec.device)
        hs = []
        W_rec_t = W_rec.t()
        for t in range(T):
            if a == 1:
                h = torch.relu(h @ W_rec_t + us[t])  # Elman
            else:
                h = (1 - a) * h + a * torch.relu(h @ W_rec_t + us[t])
            hs.append(h)
        if self.scored is None:
            H = torch.stack(hs).reshape(T * B, N)
        elif len(self.scored) == 1:
            H = hs[self.scored[0]]  # read-out at the one scored step only
        else:
            H = torch.stack([hs[s] for s in self.scored]).reshape(-1, N)
        logits = H @ W_out.t()
        if b_out is not None:
            logits = logits + b_out
        if self.weights is None:
            ce = F.cross_entropy(logits, self.labels)
        else:
            ce = (F.cross_entropy(logits, self.labels, reduction="none") * self.weights).sum() / self.weight_sum
        if not self.reg:
            return ce, ce, None
        r = self.reg_term(W_rec)
        return ce + r, ce, r


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_config(N, reg, a, blas, loaded=None):
    """One configuration: the canonical workload at N, or `loaded` = load_peer_data(--data)."""
    header = loaded[0] if loaded else None
    info = dict(peer="torch-" + ("cpu" if a.device == "cpu" else a.device) + ("-compile" if a.compile else ""),
                workload=a.workload or ("data" if loaded else "canonical"),
                N=header["N"] if header else N, reg=reg, steps_per_s=None, ms_per_step=None,
                B=header["B"] if header else a.B, T=header["T"] if header else a.T,
                torch=torch.__version__, threads=torch.get_num_threads(),
                omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), blas=blas)
    try:
        if loaded:
            _, data, params = loaded
            peer = Peer(data, params, header["alpha"], a.lam, reg, a.device)
            N = header["N"]
        else:
            data = make_workload(a.seed, N, a.B, a.T)
            peer = Peer(data, data, a.alpha, a.lam, reg, a.device)
        P = peer.params
        opt = torch.optim.Adam(list(P.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        loss_fn = peer.loss
        if a.compile:
            if not hasattr(torch, "compile"):
                raise RuntimeError("torch.compile needs PyTorch >= 2 (have %s)" % torch.__version__)
            loss_fn = torch.compile(peer.loss)

        def step():
            opt.zero_grad(set_to_none=True)
            total, _, _ = loss_fn(*P.values())
            total.backward()
            opt.step()
            return total.item()  # read back: ends the step

        big = N >= 1024
        warm = a.warmup if a.warmup is not None else (2 if (a.device != "cpu" or a.compile) else 1)
        min_steps = a.min_steps if a.min_steps is not None else (2 if big else 3)
        max_steps = a.max_steps if a.max_steps is not None else (3 if big else 200)
        loss_first, last_warm = float("nan"), 0.0
        for i in range(warm):
            t0 = time.perf_counter()
            l = step()
            last_warm = time.perf_counter() - t0
            if i == 0:
                loss_first = l
        one_only = last_warm > 10.0
        steps, loss_last, times = 0, float("nan"), []
        sync(a.device)
        t0 = time.perf_counter()
        while True:
            ts = time.perf_counter()
            loss_last = step()
            sync(a.device)
            times.append(time.perf_counter() - ts)
            if steps == 0 and warm == 0:
                loss_first = loss_last
            steps += 1
            if one_only or steps >= max_steps:
                break
            if steps >= min_steps and time.perf_counter() - t0 >= a.budget:
                break
        sync(a.device)
        ms = (time.perf_counter() - t0) * 1000 / steps
        info.update(steps_per_s=1000 / ms, ms_per_step=ms, ms_median=float(np.median(times)) * 1000,
                    timed_steps=steps, warmup_steps=warm, loss_first=loss_first, loss_last=loss_last)
    except Exception as e:  # a configuration that cannot run gets an error line
        info["error"] = "%s: %s" % (type(e).__name__, e)
    return info


def check_fixture(path, a):
    """Loss parts and gradients of the fixture's initial weights, float32, vs its float64 values."""
    with open(path) as f:
        fx = json.load(f)
    cfg, inp, out = fx["config"], fx["inputs"], fx["outputs"]
    data = dict(x=np.array(inp["x"], np.float32), labels=np.array(inp["labels"]), D=np.array(inp["D"], np.float32))
    params = {k: np.array(v, np.float32) for k, v in fx["params"].items()}
    peer = Peer(data, params, cfg["alpha"], cfg["lambda"], True, a.device)
    P = peer.params
    total, ce, r = peer.loss(P["W_in"], P["W_rec"], P["b"], P["W_out"])
    total.backward()
    rel = lambda x, ref: abs(x - ref) / abs(ref)  # noqa: E731
    res = dict(check="torch-fixture", fixture=path,
               rel_err_total=rel(total.item(), out["total_loss"]), rel_err_ce=rel(ce.item(), out["ce_loss"]),
               rel_err_reg=rel(r.item(), out["reg_value"]))
    for k in P:
        res["max_abs_err_grad_" + k] = float(np.abs(P[k].grad.cpu().numpy() - np.array(out["grads_total"][k])).max())
    res["pass"] = bool(max(res["rel_err_total"], res["rel_err_ce"], res["rel_err_reg"]) < 1e-5
                       and max(v for k, v in res.items() if k.startswith("max_abs_err_grad_")) < 1e-6)
    return res


def main():
    a = ARGS
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print(json.dumps(dict(peer="torch-" + a.device, N=None, reg=None, steps_per_s=None, ms_per_step=None,
                              probe=True, error="CUDA not available to this PyTorch (%s)" % torch.__version__)))
        return 0
    if a.device == "cpu":
        torch.set_num_threads(a.threads)
    if a.fixture:
        print(json.dumps(check_fixture(a.fixture, a)), flush=True)
        return 0
    blas = blas_info()
    warn_if_reference(blas)
    regs = {"both": [False, True], "true": [True], "false": [False]}[a.reg]
    if a.data:
        loaded = load_peer_data(a.data)
        for reg in regs:
            print(json.dumps(run_config(None, reg, a, blas, loaded)), flush=True)
        return 0
    Ns = [int(s) for s in a.N.split(",") if s.strip()]
    for N in Ns:
        for reg in regs:
            print(json.dumps(run_config(N, reg, a, blas)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
