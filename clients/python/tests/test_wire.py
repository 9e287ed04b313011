"""The client's requests and its Server-Sent Events parsing, against a stub server (no node needed)."""

import io
import json
import os
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cortical_rnn_client import ApiError, Client
from cortical_rnn_client.client import _parse_sse

EVENTS = [
    (1, "queued", {"run": "r"}),
    (2, "started", {"run": "r"}),
    (3, "step", {"run": "r", "step": 1}),
    (4, "epoch", {"run": "r", "epoch": 1}),
    (5, "done", {}),
]


def sse(events):
    return "".join("id: %d\nevent: %s\ndata: %s\n\n" % (i, t, json.dumps(d)) for i, t, d in events).encode()


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []  # (method, raw path, headers, body) of every request
    drops = 0  # how many event streams to cut after two events

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        # Header names as urllib sends them are capitalised ("Last-event-id"); compare them lowercased.
        Stub.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self.headers.get("Authorization") != "Bearer t":
            return self.reply(401, {"error": "missing or wrong token"})
        path = self.path
        if path.endswith("/events"):
            last = int(self.headers.get("Last-Event-ID", "0"))
            todo = [e for e in EVENTS if e[0] > last]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b": hello\n\n")
            if Stub.drops > 0:
                Stub.drops -= 1
                self.wfile.write(sse(todo[:2]))
                self.wfile.write(b"id: 99\nevent: step\ndata: {\"half\":")  # cut mid-event
            else:
                self.wfile.write(sse(todo))
            self.wfile.flush()
            self.close_connection = True
            return
        if path == "/api/v1/info":
            return self.reply(200, {"name": "stub"})
        if path.startswith("/api/v1/runs/") and path.endswith("/metrics.csv"):
            return self.reply(200, b"epoch,step,mean_loss,eval_loss\n1,2,0.5,\n", "text/csv")
        if path == "/api/v1/runs" and self.command == "GET":
            return self.reply(200, {"runs": ["a.b"]})
        if path == "/api/v1/boom":
            return self.reply(500, b"plain failure\nsecond line", "text/plain")
        return self.reply(200, {"ok": True})

    do_GET = do_POST = do_DELETE = handle_any


class WireTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            os.environ.pop(var, None)
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        Stub.seen.clear()
        Stub.drops = 0
        self.client = Client(self.url + "/", token="t", timeout=10)

    def test_urls_and_token(self):
        for url in (self.url, self.url + "/", self.url + "/api/v1", self.url + "/api/v1/"):
            self.assertEqual(Client(url, token="t").info(), {"name": "stub"})
        self.assertTrue(all(s[1] == "/api/v1/info" and s[2]["authorization"] == "Bearer t" for s in Stub.seen))
        with self.assertRaises(ApiError) as ctx:
            Client(self.url).info()
        self.assertEqual((ctx.exception.status, ctx.exception.message), (401, "missing or wrong token"))
        self.assertNotIn("authorization", Stub.seen[-1][2])

    def test_error_without_json(self):
        with self.assertRaises(ApiError) as ctx:
            self.client._json("GET", "/boom")
        self.assertEqual((ctx.exception.status, ctx.exception.message), (500, "plain failure"))

    def test_train_body(self):
        self.client.train("5_3_4", "gonogo", "W*D*C", seed=2, lambda_=0.1, preset="quick", epochs=1, batch_size=64, train_trials=128, n_null=2, mu=None)
        method, path, headers, body = Stub.seen[-1]
        self.assertEqual((method, path), ("POST", "/api/v1/runs"))
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(
            body,
            {
                "spec": {"field": "5_3_4", "task": "gonogo", "variant": "W*D*C", "seed": 2, "mode": "corrected", "positive": False, "lambda": 0.1},
                "preset": "quick",
                "protocol": {"epochs": 1, "batchSize": 64, "trainTrials": 128, "nNull": 2},
            },
        )
        self.client.train("f", "t", "W")
        self.assertEqual(Stub.seen[-1][3], {"spec": {"field": "f", "task": "t", "variant": "W", "seed": 1, "mode": "corrected", "positive": False}, "preset": "paper", "protocol": {}})
        with self.assertRaises(TypeError):
            self.client.train("f", "t", "W", epoch=1)

    def test_sweep_body(self):
        self.client.sweep("5_3_4", "gonogo, pdm", ["W", "W*D*C"], seeds=2, lambdas="0.1,0.3", val_trials=64)
        method, path, _, body = Stub.seen[-1]
        self.assertEqual((method, path), ("POST", "/api/v1/sweeps"))
        self.assertEqual(
            body,
            {
                "field": "5_3_4",
                "tasks": ["gonogo", "pdm"],
                "variants": ["W", "W*D*C"],
                "seeds": 2,
                "seedStart": 1,
                "mode": "corrected",
                "positive": False,
                "lambdas": [0.1, 0.3],
                "preset": "paper",
                "protocol": {"valTrials": 64},
            },
        )
        self.client.sweep("f", "t", "W")
        self.assertNotIn("lambdas", Stub.seen[-1][3])

    def test_paths_are_escaped(self):
        key = "corrected.5_3_4.gonogo.WsDsC.seed-1"
        self.client.record(key)
        self.client.weights_bytes(key, "a/b c?.npy")
        self.client.cancel(key)
        self.client.cancel("s-1")
        self.client.status("s-1/../x")
        self.client.report("sweeps/a b&c=d")
        self.assertEqual(
            [(s[0], s[1]) for s in Stub.seen],
            [
                ("GET", "/api/v1/runs/" + key),
                ("GET", "/api/v1/runs/%s/weights/a%%2Fb%%20c%%3F.npy" % key),
                ("DELETE", "/api/v1/runs/" + key),
                ("DELETE", "/api/v1/submissions/s-1"),
                ("GET", "/api/v1/submissions/s-1%2F..%2Fx"),
                ("GET", "/api/v1/report?dir=sweeps%2Fa%20b%26c%3Dd"),
            ],
        )

    def test_metrics_and_runs(self):
        self.assertEqual(self.client.metrics("a.b"), [{"epoch": 1, "step": 2, "mean_loss": 0.5, "eval_loss": None}])
        self.assertEqual(self.client.runs(), ["a.b"])

    def test_watch_routes_and_ends_at_done(self):
        events = list(self.client.watch("s-1"))
        self.assertEqual(events, [{"id": i, "event": t, "data": d} for i, t, d in EVENTS])
        self.assertEqual(Stub.seen[-1][1], "/api/v1/submissions/s-1/events")
        self.assertEqual(Stub.seen[-1][2]["accept"], "text/event-stream")
        list(self.client.watch("corrected.f.t.W.seed-1"))
        self.assertEqual(Stub.seen[-1][1], "/api/v1/runs/corrected.f.t.W.seed-1/events")

    def test_watch_replays_after_last_event_id(self):
        self.assertEqual([e["id"] for e in self.client.watch("s-1", last_event_id=3)], [4, 5])
        self.assertEqual(Stub.seen[-1][2]["last-event-id"], "3")

    def test_watch_reconnects_without_loss(self):
        Stub.drops = 2
        events = list(self.client.watch("s-1"))
        self.assertEqual([e["id"] for e in events], [1, 2, 3, 4, 5])
        self.assertEqual([s[2].get("last-event-id") for s in Stub.seen], [None, "2", "4"])

    def test_watch_gives_up(self):
        Stub.drops = 100
        with self.assertRaises(ConnectionError):
            list(self.client.watch("s-1", retries=0))


class SseTest(unittest.TestCase):
    def parse(self, text):
        return list(_parse_sse(io.BytesIO(text.encode())))

    def test_wire_format(self):
        text = (
            ": heartbeat\n\n"
            "id: 7\r\nevent: step\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
            "data:no space\n\n"
            "id: 8\nevent: done\n:comment between fields\ndata: {}\n\n"
            "event: ignored-without-data\n\n"
            "retry: 1500\n"
            "id: 9\ndata: {\"x\": 1}\n"  # no closing blank line: incomplete, dropped
        )
        self.assertEqual(
            self.parse(text),
            [
                {"id": 7, "event": "step", "data": {"a": 1}},
                {"id": None, "event": "message", "data": "no space"},
                {"id": 8, "event": "done", "data": {}},
                {"retry": 1500},
            ],
        )

    def test_multiline_text_data(self):
        self.assertEqual(self.parse("data: a\ndata:\ndata:  b\n\n"), [{"id": None, "event": "message", "data": "a\n\n b"}])


if __name__ == "__main__":
    unittest.main()
