#!/usr/bin/env python3
"""PyTorch peer of the canonical workload (../shared/peers/WORKLOAD.md), and of any workload
handed over as a file (`--data`, written by bench/peers/peer_data.ts: the paper workload).

One BPTT training step of the rate RNN (with and without the communicability regulariser),
timed per the WORKLOAD protocol; one JSON line per configuration and variant on stdout, with
the BLAS torch loaded (`blas`; a loud warning on stderr when it is Debian's reference BLAS).

Variants (`--variants`, run one after another in this process, each from the initial weights):
  eager  the hand-written loop (default; WORKLOAD.md's structure)
  cudnn  torch.nn.RNN(nonlinearity='relu'): cuDNN on CUDA, ATen's CPU kernels on CPU (alpha 1 only)
  graph  the eager step, Adam included, captured once in a CUDA graph and replayed (CUDA only)
  bmm    K independent networks (`--bmm-k`) trained at once through batched matmuls; its line
         reports network-steps per second

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/torch_peer.py --N 100,256 --reg both --budget 2
    /usr/bin/python3 bench/peers/torch_peer.py --data paper.bin --workload paper --reg both   # the engine's data and weights
    /usr/bin/python3 bench/peers/torch_peer.py --data paper.bin --variants cudnn,eager,graph,bmm --bmm-k 16
    /usr/bin/python3 bench/peers/torch_peer.py --device cuda --N 1024          # GPU machines (eager)
    /usr/bin/python3 bench/peers/torch_peer.py --device cuda --compile         # torch.compile when it works
    /usr/bin/python3 bench/peers/torch_peer.py --fixture ../shared/fixtures/rnn_bptt_ref.json  # check only
    /usr/bin/python3 bench/peers/torch_peer.py --data small.bin --check-variants --bmm-k 3   # variants vs eager

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
VARIANTS = ("cudnn", "eager", "graph", "bmm")


def variant_list(s):
    names = [v.strip() for v in s.split(",") if v.strip()]
    bad = [v for v in names if v not in VARIANTS]
    if bad or not names:
        raise argparse.ArgumentTypeError("choose from %s, got %r" % (",".join(VARIANTS), s))
    return names


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
    ap.add_argument("--compile", action="store_true", help="torch.compile the eager loss (PyTorch >= 2)")
    ap.add_argument("--variants", type=variant_list, default=["eager"],
                    help="comma-separated, from %s (default eager)" % ",".join(VARIANTS))
    ap.add_argument("--bmm-k", type=int, default=16, help="networks trained at once by the bmm variant")
    ap.add_argument("--omp-default", action="store_true", help="keep the environment's OpenMP wait policy")
    ap.add_argument("--fixture", default=None, help="only check the loss/gradients against a fixture JSON")
    ap.add_argument("--check-variants", action="store_true",
                    help="only train every variant two Adam steps beside the eager loop and print the differences")
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
    sum(mask * CE) / sum(mask) (the engine's masked mean). alpha = 1 is the Elman cell.

    With K, every parameter gets a leading axis of K copies: K independent networks on the same
    data, whose matmuls become batched (bmm) and whose loss is one value per network."""

    def __init__(self, data, params, alpha, lam, reg, device, K=None, expm=None, dtype=torch.float32):
        T, B, n_in = data["x"].shape
        N = params["W_rec"].shape[0]
        self.T, self.B, self.N, self.n_in, self.alpha, self.lam, self.reg = T, B, N, n_in, alpha, lam, reg
        self.device, self.expm = device, expm or torch.linalg.matrix_exp
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
        copies = (lambda p: p) if K is None else (lambda p: p.expand(K, *p.shape).clone())  # noqa: E731
        self.params = {k: copies(t(params[k])).requires_grad_(True) for k in names}

    def normalised(self, W_rec):
        """A = |W_rec| and M = diag(s)^-1/2 A diag(s)^-1/2, s the floored column sums of A."""
        A = W_rec.abs()
        r = A.sum(-2).clamp_min(S_FLOOR).rsqrt()  # column sums: out-strength of unit j
        return A, A * r.unsqueeze(-1) * r.unsqueeze(-2)

    def reg_term(self, W_rec):
        A, M = self.normalised(W_rec)
        C0 = self.expm(M) * self.off_diag
        return self.lam * (A * self.D * C0).sum((-2, -1))

    def states(self, W_in, W_rec, b):
        """The hand-written loop's states h_1 .. h_T, each [..., B, N]."""
        T, B, N, a = self.T, self.B, self.N, self.alpha
        u = self.x @ W_in.transpose(-1, -2) + b.unsqueeze(-2)
        us = u.reshape(*u.shape[:-2], T, B, N).unbind(-3)  # input drive: one matmul, then unbind
        h = torch.zeros(*u.shape[:-2], B, N, dtype=W_rec.dtype, device=W_rec.device)
        hs = []
        W_rec_t = W_rec.transpose(-1, -2)
        for t in range(T):
            if a == 1:
                h = torch.relu(h @ W_rec_t + us[t])  # Elman
            else:
                h = (1 - a) * h + a * torch.relu(h @ W_rec_t + us[t])
            hs.append(h)
        return hs

    def pick(self, hs):
        """The states the loss reads out, [..., S*B, N]; hs[t] = h_{t+1} (a list or a [T, ...] tensor)."""
        steps = range(self.T) if self.scored is None else self.scored
        if len(steps) == 1:
            return hs[steps[0]]  # read-out at the one scored step only
        H = torch.stack([hs[s] for s in steps], dim=-3)
        return H.reshape(*H.shape[:-3], -1, self.N)

    def cross_entropy(self, H, W_out, b_out):
        """The (masked) mean cross-entropy of the read-out, one value per network."""
        logits = H @ W_out.transpose(-1, -2)
        if b_out is not None:
            logits = logits + b_out.unsqueeze(-2)
        lead = logits.shape[:-2]
        labels = self.labels.repeat(math.prod(lead)) if lead else self.labels
        if self.weights is None and not lead:
            return F.cross_entropy(logits, labels)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels, reduction="none").reshape(*lead, -1)
        return ce.mean(-1) if self.weights is None else (ce * self.weights).sum(-1) / self.weight_sum

    def objective(self, H, W_rec, W_out, b_out=None):
        """(total, cross-entropy, regulariser or None) of the read-out states H."""
        ce = self.cross_entropy(H, W_out, b_out)
        if not self.reg:
            return ce, ce, None
        r = self.reg_term(W_rec)
        return ce + r, ce, r

    def loss(self, W_in, W_rec, b, W_out, b_out=None):
        return self.objective(self.pick(self.states(W_in, W_rec, b)), W_rec, W_out, b_out)


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def read(total):
    """The loss to the host (this ends a step): a float, or one per network."""
    return total.item() if total.dim() == 0 else total.tolist()


class Trainer:
    """Adam (WORKLOAD.md's hyper-parameters) on the trainable tensors of `params` (name -> leaf)
    against `loss_fn()`; several networks' losses are summed, so each gets its own gradient."""

    def __init__(self, loss_fn, params, capturable=False, info=None):
        self.loss_fn, self.P, self.info = loss_fn, params, info or {}
        extra = {"capturable": True} if capturable else {}
        self.opt = torch.optim.Adam([p for p in params.values() if p.requires_grad],
                                    lr=1e-3, betas=(0.9, 0.999), eps=1e-8, **extra)

    def forward_backward(self):
        self.opt.zero_grad(set_to_none=True)
        total = self.loss_fn()
        (total if total.dim() == 0 else total.sum()).backward()
        return total

    def train_step(self):
        total = self.forward_backward()
        self.opt.step()
        return total

    def step(self):
        return read(self.train_step())

    def extras(self):
        return dict(self.info)


# ---------------------------------------------------------------- variants
class Unavailable(Exception):
    """A variant that cannot run in this process; its line says why."""


def eager_variant(make_peer, a):
    """The hand-written loop (WORKLOAD.md's structure); --compile wraps its loss in torch.compile."""
    if a.compile and not hasattr(torch, "compile"):
        raise RuntimeError("torch.compile needs PyTorch >= 2 (have %s)" % torch.__version__)
    peer = make_peer()
    P = peer.params
    loss = torch.compile(peer.loss) if a.compile else peer.loss
    return Trainer(lambda: loss(*P.values())[0], P)


def rnn_module_variant(make_peer, a):
    """torch.nn.RNN(relu) over the same weights: W_in -> weight_ih, W_rec -> weight_hh, b -> bias_ih.
    The engine's cell has one bias, so bias_hh is 0 and frozen. h_0 = 0, as in the engine."""
    peer = make_peer()
    if peer.alpha != 1:
        raise Unavailable("nn.RNN is the Elman cell (alpha 1); this workload has alpha %g" % peer.alpha)
    rnn = torch.nn.RNN(peer.n_in, peer.N, nonlinearity="relu", batch_first=False).to(peer.device)
    src = peer.params
    with torch.no_grad():
        for name, key in (("weight_ih_l0", "W_in"), ("weight_hh_l0", "W_rec"), ("bias_ih_l0", "b")):
            getattr(rnn, name).copy_(src[key])
        rnn.bias_hh_l0.zero_()
    rnn.bias_hh_l0.requires_grad_(False)
    P = dict(W_in=rnn.weight_ih_l0, W_rec=rnn.weight_hh_l0, b=rnn.bias_ih_l0)
    P.update({k: src[k] for k in ("W_out", "b_out") if k in src})
    x = peer.x.reshape(peer.T, peer.B, peer.n_in)

    def loss():
        out, _ = rnn(x)  # out[t] = h_{t+1}
        return peer.objective(peer.pick(out), P["W_rec"], P["W_out"], P.get("b_out"))[0]

    impl = "cuDNN" if torch.backends.cudnn.is_acceptable(x) else "ATen %s kernels" % x.device.type
    return Trainer(loss, P, info={"impl": "torch.nn.RNN, " + impl})


def bmm_variant(make_peer, a):
    """K copies of the network trained at once: weights [K, N, N], states [K, B, N], batched matmuls
    and a batched matrix_exp; all start from the same weights, so every network's loss is the same."""
    if a.bmm_k < 1:
        raise ValueError("--bmm-k must be at least 1")
    peer = make_peer(K=a.bmm_k)
    P = peer.params
    return Trainer(lambda: peer.loss(*P.values())[0], P, info={"K": a.bmm_k})


def one_norm(M):
    return M.abs().sum(-2).max()


class FixedSquaringExpm:
    """expm by scaling and squaring a degree-8 Taylor polynomial, the number of squarings fixed
    from the initial weights with 2x headroom: torch.linalg.matrix_exp reads the norm back to the
    host to choose its degree, which a CUDA graph cannot hold. The largest 1-norm met stays on
    the device to check the truncation bound ||M||_1 / 2^s <= 0.5 (relative error < 5e-9)."""

    def __init__(self, M0):
        norm = float(one_norm(M0))
        self.squarings = max(0, math.ceil(math.log2(norm / 0.25))) if norm > 0 else 0
        self.norm_max = torch.zeros((), dtype=M0.dtype, device=M0.device)
        self.I = torch.eye(M0.shape[-1], dtype=M0.dtype, device=M0.device)

    def __call__(self, M):
        self.norm_max.copy_(torch.maximum(self.norm_max, one_norm(M.detach())))
        X = M / 2.0 ** self.squarings
        E = self.I + X / 8
        for k in range(7, 0, -1):  # Horner: I + X (I + X/2 (... (I + X/8)))
            E = self.I + X @ E / k
        for _ in range(self.squarings):
            E = E @ E
        return E

    def report(self):
        norm = float(self.norm_max)
        out = {"expm": {"method": "taylor-8, fixed squarings", "squarings": self.squarings, "norm1_max": norm}}
        if norm / 2 ** self.squarings > 0.5:
            out["error"] = "expm truncation bound exceeded: ||M||_1 %.3g with %d squarings" % (norm, self.squarings)
        return out


def graph_parts(make_peer, capturable):
    """The eager loop's trainer with the capture-safe expm (and Adam capturable on CUDA)."""
    peer = make_peer()
    P = peer.params
    expm = FixedSquaringExpm(peer.normalised(P["W_rec"].detach())[1]) if peer.reg else None
    peer.expm = expm or peer.expm
    return Trainer(lambda: peer.loss(*P.values())[0], P, capturable=capturable), expm


class GraphTrainer:
    """The whole eager step (forward, backward, Adam) captured in one CUDA graph and replayed,
    per PyTorch's whole-network capture recipe: warm up on a side stream, capture, replay. The
    warm-up steps move the weights and Adam's moments, so both are put back before capturing."""

    def __init__(self, trainer, expm, warmup=3):
        self.tr, self.expm, self.warmup = trainer, expm, warmup
        start = [p.detach().clone() for p in trainer.P.values()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                trainer.train_step()
        torch.cuda.current_stream().wait_stream(side)
        self.restart(start)
        self.graph = torch.cuda.CUDAGraph()
        trainer.opt.zero_grad(set_to_none=True)  # grads are allocated from the graph's pool
        with torch.cuda.graph(self.graph):
            self.total = trainer.train_step()

    def restart(self, start):
        """Initial weights and fresh Adam moments, in place (the graph holds these tensors)."""
        with torch.no_grad():
            for p, p0 in zip(self.tr.P.values(), start):
                p.copy_(p0)
            for state in self.tr.opt.state.values():
                for v in state.values():
                    if torch.is_tensor(v):
                        v.zero_()
            if self.expm:
                self.expm.norm_max.zero_()

    def step(self):
        self.graph.replay()
        return read(self.total)

    def extras(self):
        out = {"capture_warmup_steps": self.warmup}
        out.update(self.expm.report() if self.expm else {})
        return out


def graph_variant(make_peer, a):
    if not a.device.startswith("cuda"):
        raise Unavailable("CUDA graphs need --device cuda")
    return GraphTrainer(*graph_parts(make_peer, capturable=True))


BUILDERS = {"cudnn": rnn_module_variant, "eager": eager_variant, "graph": graph_variant, "bmm": bmm_variant}


# ---------------------------------------------------------------- timing
def peer_factory(N, reg, a, loaded):
    """make_peer(K=None): a fresh Peer from the initial weights (every variant starts from them)."""
    if loaded:
        header, data, params = loaded
        alpha = header["alpha"]
    else:
        data = params = make_workload(a.seed, N, a.B, a.T)
        alpha = a.alpha
    return lambda K=None: Peer(data, params, alpha, a.lam, reg, a.device, K=K)


def time_steps(trainer, a, N):
    """WORKLOAD.md's protocol: untimed warm-up steps, then steps until the budget is spent."""
    big = N >= 1024
    warm = a.warmup if a.warmup is not None else (2 if (a.device != "cpu" or a.compile) else 1)
    min_steps = a.min_steps if a.min_steps is not None else (2 if big else 3)
    max_steps = a.max_steps if a.max_steps is not None else (3 if big else 200)
    loss_first, last_warm = None, 0.0
    for i in range(warm):
        t0 = time.perf_counter()
        loss = trainer.step()
        last_warm = time.perf_counter() - t0
        if i == 0:
            loss_first = loss
    one_only = last_warm > 10.0
    times = []
    sync(a.device)
    t0 = time.perf_counter()
    while True:
        ts = time.perf_counter()
        loss_last = trainer.step()
        sync(a.device)
        times.append(time.perf_counter() - ts)
        loss_first = loss_last if loss_first is None else loss_first
        if one_only or len(times) >= max_steps:
            break
        if len(times) >= min_steps and time.perf_counter() - t0 >= a.budget:
            break
    sync(a.device)
    ms = (time.perf_counter() - t0) * 1000 / len(times)
    return dict(ms_per_step=ms, ms_median=float(np.median(times)) * 1000, timed_steps=len(times),
                warmup_steps=warm, loss_first=loss_first, loss_last=loss_last)


def per_network(t, K):
    """bmm-K trains K networks per step: times per network-step, network 0's losses and the spread."""
    out = dict(t, batched_ms_per_step=t["ms_per_step"], ms_per_step=t["ms_per_step"] / K,
               ms_median=t["ms_median"] / K)
    for key in ("loss_first", "loss_last"):
        out.update({key: t[key][0], key + "_min": min(t[key]), key + "_max": max(t[key])})
    return out


def run_config(N, reg, variant, a, blas, loaded=None):
    """One configuration and variant: the canonical workload at N, or `loaded` = load_peer_data(--data)."""
    header = loaded[0] if loaded else None
    N = header["N"] if header else N
    info = dict(peer="torch-" + ("cpu" if a.device == "cpu" else a.device) + ("-compile" if a.compile else ""),
                variant="bmm-%d" % a.bmm_k if variant == "bmm" else variant,
                workload=a.workload or ("data" if loaded else "canonical"),
                N=N, reg=reg, steps_per_s=None, ms_per_step=None,
                B=header["B"] if header else a.B, T=header["T"] if header else a.T,
                torch=torch.__version__, threads=torch.get_num_threads(),
                omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), blas=blas)
    if a.device.startswith("cuda"):  # PyTorch's defaults, kept: cuDNN may use TF32 for float32
        info["tf32"] = dict(matmul=torch.backends.cuda.matmul.allow_tf32, cudnn=torch.backends.cudnn.allow_tf32)
    try:
        if a.compile and variant != "eager":
            raise Unavailable("--compile applies to the eager loop only")
        trainer = BUILDERS[variant](peer_factory(N, reg, a, loaded), a)
        t = time_steps(trainer, a, N)
        t = per_network(t, a.bmm_k) if variant == "bmm" else t
        info.update(t, steps_per_s=1000 / t["ms_per_step"], **trainer.extras())
    except Unavailable as e:
        info.update(unavailable=True, error="unavailable: %s" % e)
    except Exception as e:  # a configuration that cannot run gets an error line
        info["error"] = "%s: %s" % (type(e).__name__, e)
    return info


# ---------------------------------------------------------------- checks
def two_steps(trainer):
    """Losses before each of two Adam steps and after both, and the gradients after both."""
    losses = [read(trainer.train_step()) for _ in range(2)]
    losses.append(read(trainer.forward_backward()))
    return losses, {k: p.grad for k, p in trainer.P.items() if p.grad is not None}


def max_diff(x, ref):
    """Largest |x - ref|; a leading axis of networks in x is compared network by network."""
    return float((torch.as_tensor(x) - torch.as_tensor(ref)).abs().max())


def check_variants(a, loaded):
    """The variants that run here, two Adam steps from the initial weights beside the eager loop:
    their losses (before each step and after both) and their largest gradient differences after
    both. "graph_loss" is the graph variant's loss (capture-safe expm) run without a graph."""
    N = loaded[0]["N"] if loaded else int(a.N.split(",")[0])
    res = dict(check="torch-variants", device=a.device, K=a.bmm_k, configs=[])
    builders = (("cudnn", rnn_module_variant), ("bmm", bmm_variant),
                ("graph_loss", lambda make, a: graph_parts(make, a.device.startswith("cuda"))[0]))
    for reg in (False, True):
        make = peer_factory(N, reg, a, loaded)
        ref_losses, ref_grads = two_steps(eager_variant(make, a))
        grad_max = {k: float(g.abs().max()) for k, g in ref_grads.items()}
        cfg = dict(reg=reg, eager=dict(losses=ref_losses, max_abs_grad=grad_max))
        for name, build in builders:
            try:
                losses, grads = two_steps(build(make, a))
            except Unavailable as e:
                cfg[name] = dict(unavailable=str(e))
                continue
            per_net = [list(l) for l in zip(*losses)] if name == "bmm" else losses  # [K][3]
            cfg[name] = dict(losses=per_net, max_abs_loss_diff=max_diff(per_net, ref_losses),
                             max_abs_grad_diff={k: max_diff(grads[k], g) for k, g in ref_grads.items()})
        res["configs"].append(cfg)
    return res


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
    loaded = load_peer_data(a.data) if a.data else None
    if a.check_variants:
        print(json.dumps(check_variants(a, loaded)), flush=True)
        return 0
    blas = blas_info()
    warn_if_reference(blas)
    regs = {"both": [False, True], "true": [True], "false": [False]}[a.reg]
    Ns = [None] if loaded else [int(s) for s in a.N.split(",") if s.strip()]
    for N in Ns:
        for reg in regs:
            for variant in a.variants:
                print(json.dumps(run_config(N, reg, variant, a, blas, loaded)), flush=True)
                if a.device.startswith("cuda"):
                    torch.cuda.empty_cache()  # the next variant starts without this one's cache
    return 0


if __name__ == "__main__":
    sys.exit(main())
