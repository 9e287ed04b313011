"""The client against a real ``cortical-rnn serve`` started from the repository.

Environment: CORTICAL_RNN_ROOT (the repository; default three levels above this file),
CORTICAL_RNN_DATA (the data directory; default <root>/../shared/data), NODE (the node binary).
"""

import os
import queue
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from cortical_rnn_client import ApiError, Client

ROOT = os.path.abspath(os.environ.get("CORTICAL_RNN_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DATA = os.path.abspath(os.environ.get("CORTICAL_RNN_DATA") or os.path.join(ROOT, "..", "shared", "data"))
NODE = os.environ.get("NODE") or shutil.which("node") or "node"
API_LINE = re.compile(r"api: (http://127\.0\.0\.1:\d+/api/v1/)")
START_TIMEOUT_S = 120

# A run of a few steps on tiny splits.
TINY = dict(preset="quick", epochs=1, steps=2, train_trials=128, test_trials=64, val_trials=64, n_null=2, n_matched=2)
SPEC = dict(field="5_3_4", task="gonogo", variant="W*D*C", seed=1, mode="corrected")
RUN_DIR = ("runs", "corrected", "5_3_4", "gonogo", "WsDsC", "seed-1")

try:
    import numpy
except ImportError:
    numpy = None


class ServerTest(unittest.TestCase):
    """One server for the whole class; the tiny run is trained once, by the first test that needs it."""

    @classmethod
    def setUpClass(cls):
        # A proxy from the environment would intercept the requests to 127.0.0.1.
        for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            os.environ.pop(var, None)
        cls.results = tempfile.mkdtemp(prefix="crnn-pyclient-")
        cls.token = secrets.token_hex(16)
        cls.output = []
        cls.proc = subprocess.Popen(
            [NODE, "bin/cortical-rnn.js", "serve", "--port", "0", "--data", DATA, "--results", cls.results, "--token", cls.token],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        lines = queue.Queue()

        # Drains the server's output for as long as it runs: a full pipe would block it.
        def drain():
            for line in cls.proc.stdout:
                cls.output.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        url = None
        while url is None:
            left = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = None
                left = 0
            if line is None or left <= 0:
                cls._stop()
                raise RuntimeError("no 'api: http://127.0.0.1:PORT/api/v1/' line from the server within %d s; output:\n%s" % (START_TIMEOUT_S, "".join(cls.output)))
            m = API_LINE.search(line)
            if m:
                url = m.group(1)
        cls.url = url
        cls.client = Client(url, token=cls.token, timeout=120)
        cls._trained = None

    @classmethod
    def tearDownClass(cls):
        cls._stop()

    @classmethod
    def _stop(cls):
        if cls.proc.poll() is None:
            cls.proc.terminate()
            try:
                cls.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        shutil.rmtree(cls.results, ignore_errors=True)

    def trained(self):
        """(key, events of the submission's stream), training the tiny run on first use."""
        cls = type(self)
        if cls._trained is None:
            sub = self.client.train(**SPEC, **TINY)
            self.assertIsInstance(sub, dict)
            self.assertTrue(sub["submission"].startswith("s-"), sub)
            self.assertEqual(len(sub["runs"]), 1, sub)
            events = list(self.client.watch(sub["submission"]))
            cls._trained = (sub["runs"][0], sub["submission"], events)
        return cls._trained

    def run_file(self, name):
        return os.path.join(self.results, *RUN_DIR, name)

    def server_output(self):
        return "".join(self.output[-40:])

    # -- tests ---------------------------------------------------------------------------

    def test_info_with_token(self):
        info = self.client.info()
        self.assertIsInstance(info, dict)
        # The URL in every spelling reaches the same API.
        for url in (self.url, self.url.rstrip("/"), self.url[: -len("/api/v1/")], self.url[: -len("api/v1/")]):
            self.assertEqual(Client(url, token=self.token).info(), info, url)

    def test_info_without_token_is_401(self):
        for token in (None, "wrong-" + self.token):
            with self.assertRaises(ApiError) as ctx:
                Client(self.url, token=token).info()
            self.assertEqual(ctx.exception.status, 401)
            self.assertTrue(ctx.exception.message)
            self.assertNotIn("\n", ctx.exception.message)

    def test_train_and_watch(self):
        key, submission, events = self.trained()
        kinds = [e["event"] for e in events]
        self.assertIn("step", kinds, self.server_output())
        self.assertIn("epoch", kinds, self.server_output())
        self.assertEqual(kinds[-1], "done", (kinds, self.server_output()))
        self.assertEqual(kinds.count("done"), 1, kinds)
        ids = [e["id"] for e in events]
        self.assertTrue(all(isinstance(i, int) for i in ids), ids)
        self.assertEqual(ids, sorted(set(ids)), "event ids increase")
        for e in events:
            self.assertIsInstance(e["data"], dict, e)
        step = next(e["data"] for e in events if e["event"] == "step")
        for field in ("run", "step", "totalSteps", "epoch", "loss"):
            self.assertIn(field, step)
        epoch = next(e["data"] for e in events if e["event"] == "epoch")
        self.assertEqual(epoch["epoch"], 1)
        self.assertIsInstance(self.client.status(submission), dict)

    def test_record(self):
        key = self.trained()[0]
        self.assertEqual(self.client.record(key)["status"], "ok")
        listed = self.client.runs()
        self.assertIsInstance(listed, list)
        self.assertTrue(any(key == r or (isinstance(r, dict) and key in r.values()) for r in listed), listed)

    def test_weights(self):
        key = self.trained()[0]
        files = self.client.weight_files(key)
        self.assertIn("W_rec_init.npy", files)
        self.assertIn("W_rec_epoch01.npy", files)
        for name in files:
            with open(self.run_file(name), "rb") as f:
                self.assertEqual(self.client.weights_bytes(key, name), f.read(), name)
        if numpy is None:
            sys.stderr.write("[test_client] NumPy not importable: Client.weights() not checked\n")
            return
        for name in files:
            if name.startswith("W_rec"):
                w = self.client.weights(key, name)
                self.assertEqual(w.shape, (70, 70), name)
                self.assertEqual(w.dtype, numpy.float32, name)
                self.assertTrue(numpy.array_equal(w, numpy.load(self.run_file(name))), name)

    def test_metrics(self):
        key = self.trained()[0]
        rows = self.client.metrics(key)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["epoch"], 1)
        self.assertIsInstance(rows[0]["step"], int)
        self.assertIsInstance(rows[0]["mean_loss"], float)

    def test_replay_after_the_end(self):
        key = self.trained()[0]
        full = list(self.client.watch(key))
        self.assertEqual(full[-1]["event"], "done", [e["event"] for e in full])
        self.assertGreaterEqual(len(full), 2)
        for n in (full[len(full) // 2]["id"], full[-2]["id"]):
            replay = list(self.client.watch(key, last_event_id=n))
            self.assertEqual([e["id"] for e in replay], [e["id"] for e in full if e["id"] > n])
            self.assertEqual(replay, [e for e in full if e["id"] > n])

    def test_forged_spec_is_400(self):
        with self.assertRaises(ApiError) as ctx:
            self.client.train(**dict(SPEC, field="../../etc"), **TINY)
        self.assertEqual(ctx.exception.status, 400)
        self.assertTrue(ctx.exception.message)

    def test_unknown_run_is_404(self):
        with self.assertRaises(ApiError) as ctx:
            self.client.record("corrected.5_3_4.gonogo.WsDsC.seed-999")
        self.assertEqual(ctx.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
