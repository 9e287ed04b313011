"""Client of the cortical-rnn HTTP API (``cortical-rnn serve``), standard library only."""

import csv
import io
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException

__all__ = ["Client", "ApiError"]

# Events after which the server closes a stream.
TERMINAL_EVENTS = frozenset({"done", "failed", "cancelled"})

# The protocol overrides the server accepts, by their Python spelling. A whitelist (rather
# than a generic snake-to-camel rewrite) turns a misspelt keyword into a TypeError here.
PROTOCOL_KEYS = {
    "epochs": "epochs",
    "steps": "steps",
    "lr": "lr",
    "batch_size": "batchSize",
    "train_trials": "trainTrials",
    "test_trials": "testTrials",
    "val_trials": "valTrials",
    "n_null": "nNull",
    "n_matched": "nMatched",
    "mu": "mu",
}

# metrics.csv columns that count things; every other column is a float.
INT_COLUMNS = frozenset({"epoch", "step"})


class ApiError(Exception):
    """A non-2xx answer: ``status`` is the HTTP status, ``message`` the server's one-line error."""

    def __init__(self, status, message):
        super().__init__("HTTP %d: %s" % (status, message))
        self.status = status
        self.message = message


def _segment(value):
    """One URL path segment, every reserved character escaped (ids, run keys, file names)."""
    return urllib.parse.quote(str(value), safe="")


def _names(value):
    """A list from a list or a comma-separated string."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _protocol(kwargs, where):
    out = {}
    for key, value in kwargs.items():
        if value is None:
            continue
        if key in PROTOCOL_KEYS:
            out[PROTOCOL_KEYS[key]] = value
        elif key in PROTOCOL_KEYS.values():
            out[key] = value
        else:
            raise TypeError("%s() got an unexpected protocol override %r (known: %s)" % (where, key, ", ".join(sorted(PROTOCOL_KEYS))))
    return out


def _error_message(err):
    """The server's ``{"error": ...}`` when the body has one, else the body's first line or the reason."""
    try:
        body = err.read()
    except Exception:
        body = b""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            return parsed["error"]
    except ValueError:
        pass
    if text:
        return text.splitlines()[0][:300]
    return str(getattr(err, "reason", "") or "HTTP error")


def _number(column, text):
    if text == "":
        return None
    try:
        return int(text) if column in INT_COLUMNS else float(text)
    except ValueError:
        return text


class Client:
    """The API at ``url`` (``http://host:port``, with or without ``/api/v1``)."""

    def __init__(self, url, token=None, timeout=60):
        base = url.rstrip("/")
        if base.endswith("/api/v1"):
            base = base[: -len("/api/v1")]
        self.base = base + "/api/v1"
        self.token = token
        self.timeout = timeout

    def __repr__(self):
        return "Client(%r)" % self.base

    # -- transport -----------------------------------------------------------------------

    def _request(self, method, path, body=None, headers=None):
        """Opens ``path`` (under /api/v1); raises ApiError on a non-2xx answer."""
        hdrs = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, headers=hdrs, method=method)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            with err:
                raise ApiError(err.code, _error_message(err)) from None

    def _bytes(self, method, path, body=None):
        with self._request(method, path, body) as res:
            return res.read()

    def _json(self, method, path, body=None):
        raw = self._bytes(method, path, body)
        return json.loads(raw.decode("utf-8")) if raw.strip() else None

    @staticmethod
    def _stream_path(id):
        # Submission ids start with "s-"; run keys are dotted (mode.field.task.variant.seed-k).
        if id.startswith("s-") or "." not in id:
            return "/submissions/" + _segment(id)
        return "/runs/" + _segment(id)

    # -- API -----------------------------------------------------------------------------

    def info(self):
        """The server's description (GET /info)."""
        return self._json("GET", "/info")

    def train(self, field, task, variant, seed=1, mode="corrected", positive=False, lambda_=None, preset="paper", **protocol):
        """Submits one run; returns ``{"submission", "runs", "status"}``.

        Protocol overrides are keywords in snake_case (epochs, steps, lr, batch_size,
        train_trials, test_trials, val_trials, n_null, n_matched, mu).
        """
        spec = {"field": field, "task": task, "variant": variant, "seed": seed, "mode": mode, "positive": bool(positive)}
        if lambda_ is not None:
            spec["lambda"] = lambda_
        body = {"spec": spec, "preset": preset, "protocol": _protocol(protocol, "train")}
        return self._json("POST", "/runs", body)

    def sweep(self, field, tasks, variants, seeds=1, seed_start=1, mode="corrected", positive=False, lambdas=None, preset="paper", **protocol):
        """Submits a grid of runs (tasks × variants × seeds [× lambdas]); lists or comma-separated strings."""
        body = {
            "field": field,
            "tasks": _names(tasks),
            "variants": _names(variants),
            "seeds": seeds,
            "seedStart": seed_start,
            "mode": mode,
            "positive": bool(positive),
        }
        if lambdas is not None:
            body["lambdas"] = [float(x) for x in _names(lambdas)]
        body["preset"] = preset
        body["protocol"] = _protocol(protocol, "sweep")
        return self._json("POST", "/sweeps", body)

    def status(self, id):
        """A submission's state (GET /submissions/{id})."""
        return self._json("GET", "/submissions/" + _segment(id))

    def cancel(self, id):
        """Cancels a submission (``s-…``) or one run (its key)."""
        return self._json("DELETE", self._stream_path(id))

    def runs(self):
        """The runs the server knows."""
        return self._json("GET", "/runs")["runs"]

    def record(self, key):
        """A finished run's final.json."""
        return self._json("GET", "/runs/" + _segment(key))

    def metrics(self, key):
        """A run's metrics.csv as a list of dicts (epoch and step int, other columns float)."""
        text = self._bytes("GET", "/runs/%s/metrics.csv" % _segment(key)).decode("utf-8")
        return [{k: _number(k, v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]

    def weight_files(self, key):
        """Names of a run's weight files (``W_rec_init.npy``, ``W_rec_epoch01.npy``, …)."""
        return self._json("GET", "/runs/%s/weights" % _segment(key))["files"]

    def weights_bytes(self, key, name):
        """A weight file's raw .npy bytes."""
        return self._bytes("GET", "/runs/%s/weights/%s" % (_segment(key), _segment(name)))

    def weights(self, key, name):
        """A weight file as a NumPy array (needs NumPy)."""
        import numpy  # optional dependency: only this method needs it

        return numpy.load(io.BytesIO(self.weights_bytes(key, name)), allow_pickle=False)

    def report(self, dir=""):
        """The report of a results directory (relative to the server's results root)."""
        return self._json("GET", "/report?dir=" + urllib.parse.quote(dir, safe=""))

    def watch(self, id, last_event_id=None, retries=3):
        """Yields ``{"id", "event", "data"}`` from a submission's or a run's event stream.

        Ends after ``done``, ``failed`` or ``cancelled``. A dropped connection is reopened with
        ``Last-Event-ID`` so that no event is missed or repeated; ``retries`` failures in a row
        without a new event raise the last error.
        """
        path = self._stream_path(id) + "/events"
        last = last_event_id
        failures = 0
        delay = 0.5
        while True:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            try:
                res = self._request("GET", path, headers=headers)
                with res:
                    for event in _parse_sse(res):
                        if "retry" in event:
                            delay = event["retry"] / 1000.0
                            continue
                        if event["id"] is not None:
                            last = event["id"]
                        failures = 0
                        yield event
                        if event["event"] in TERMINAL_EVENTS:
                            return
                # The server closed the stream before a terminal event: reconnect.
                failures += 1
                if failures > retries:
                    raise ConnectionError("event stream of %s closed before a terminal event" % id)
            except ApiError:
                raise  # a real answer (404, 401, …), not a dropped connection
            except (OSError, HTTPException, socket.timeout):
                failures += 1
                if failures > retries:
                    raise
            time.sleep(delay * failures)


def _parse_sse(stream):
    """Server-Sent Events from a binary file-like stream, as the HTML spec parses them.

    Yields ``{"id", "event", "data"}`` per dispatched event, or ``{"retry": ms}`` for a
    reconnection-time field. ``data`` is the parsed JSON when it parses, else the raw text.
    """
    event_id = None
    event_type = ""
    data = []
    seen_data = False
    while True:
        raw = stream.readline()
        if not raw:
            return  # EOF; an event without its blank line is incomplete and dropped
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line == "":
            if seen_data:
                text = "\n".join(data)
                try:
                    payload = json.loads(text)
                except ValueError:
                    payload = text
                yield {"id": event_id, "event": event_type or "message", "data": payload}
            event_id, event_type, data, seen_data = None, "", [], False
            continue
        if line.startswith(":"):
            continue  # comment / heartbeat
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
            seen_data = True
        elif field == "event":
            event_type = value
        elif field == "id":
            if "\0" not in value:
                try:
                    event_id = int(value)
                except ValueError:
                    event_id = value or None
        elif field == "retry" and value.isdigit():
            yield {"retry": int(value)}
