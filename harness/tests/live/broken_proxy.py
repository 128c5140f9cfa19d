# SPDX-License-Identifier: Apache-2.0
#
# broken_proxy.py - an HTTP proxy in front of `etch serve` that turns it into a broken
# emulator in one chosen way, to show that `etch run --endpoint` catches the breakage.
#
# Each request is read whole (Content-Length or chunked body) and sent on an upstream
# connection of its own; the answer is read whole (Content-Length, chunked, or up to the
# close) and sent back, the client's connection kept alive. Bytes go through unchanged
# unless the mode changes them; a request whose head cannot be framed turns the rest of
# its connection into a plain byte tunnel. Test control requests (contract section 9,
# under /_etch/control/v1) are never changed, nor their answers.
#
# A changed request is signed again with the secret of the principal that signed it
# (contract section 7), at its own X-Amz-Date and with its own signed headers, but only
# when its signature held: a request broken on purpose stays broken.
#
# Standard library only. Used as a module by test_live_broken.py, or by hand:
#     python3 broken_proxy.py MODE BACKEND_PORT
# prints "listening on http://127.0.0.1:PORT" and serves until interrupted.

import datetime
import hashlib
import json
import re
import socket
import sys
import threading
import urllib.parse

from live_util import LoopbackServer, pipe_bytes, serve_util

MODES = {
    "pass": "forwards everything unchanged (through the same parsing as the other modes)",
    "drop-page-token": "NextPageToken is null in every List answer",
    "ignore-pause": "UpdatePipelineStatus Paused is sent on as Active (signed again), and "
                    "the pipeline reads as Paused: its jobs start anyway",
    "cancel-progressing": "CancelJob of a Progressing job answers 202 (the job goes on)",
    "cancel-ignored": "every CancelJob answers 202 and is not sent on: nothing is canceled",
}

# Contract section 7: the secret of each test principal, by access key.
SECRETS = {
    serve_util.MAIN_KEY: serve_util.MAIN_SECRET,
    "AKIDREADONLY": "readonly/secret/key/EXAMPLEKEY0000000000000",
    "AKIDSESSION": "session/secret/key/EXAMPLEKEY00000000000000",
}

CONTROL_PREFIX = "/_etch/control/v1"
STATUS_PATH = re.compile(r"^/2012-09-25/pipelines/([^/?]+)/status/?$")
JOB_PATH = re.compile(r"^/2012-09-25/jobs/([^/?]+)/?$")
AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,]+)/(\d{8})/([^/,]+)/([^/,]+)/aws4_request,"
                  r"\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$")

HEAD_LIMIT = 65536
BARE_LF = re.compile(rb"(?<!\r)\n")
BODY_LIMIT = 16 * 1024 * 1024
REQUEST_BODY_LIMIT = 1024 * 1024  # a larger declared body is tunnelled, not waited for
UPSTREAM_TIMEOUT_S = 60


class Unframed(Exception):
    """The bytes cannot be split into HTTP messages."""


class Reader:
    """Buffered reads from one socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.taken = b""  # what the message being read has consumed so far

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk
        if len(self.buf) > BODY_LIMIT:
            raise Unframed("message larger than %d bytes" % BODY_LIMIT)

    def until(self, marker, limit=HEAD_LIMIT):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise Unframed("no %r within %d bytes" % (marker, limit))
            self._more()
        i = self.buf.index(marker) + len(marker)
        part, self.buf = self.buf[:i], self.buf[i:]
        self.taken += part
        return part

    def exactly(self, n):
        while len(self.buf) < n:
            self._more()
        part, self.buf = self.buf[:n], self.buf[n:]
        self.taken += part
        return part

    def chunked(self):
        """A chunked body as it came (sizes, extensions and trailers included)."""
        raw = b""
        while True:
            line = self.until(b"\r\n")
            raw += line
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise Unframed("bad chunk size %r" % line[:40])
            if size == 0:
                break
            raw += self.exactly(size + 2)
        while True:  # trailers up to the empty line
            line = self.until(b"\r\n")
            raw += line
            if line == b"\r\n":
                return raw

    def to_close(self):
        try:
            while True:
                self._more()
        except EOFError:
            pass
        part, self.buf = self.buf, b""
        self.taken += part
        return part


def dechunk(raw):
    out = b""
    while True:
        line, raw = raw.split(b"\r\n", 1)
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            return out
        out += raw[:size]
        raw = raw[size + 2:]


class Message:
    """One request or answer: its first line, headers in order, and its body bytes (raw as
    framed: chunked bodies keep their chunks)."""

    def __init__(self, start, headers, body, is_chunked):
        self.start = start
        self.headers = headers
        self.body = body
        self.is_chunked = is_chunked
        self.changed = False

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def set_header(self, name, value):
        self.headers = [(n, value if n.lower() == name.lower() else v) for n, v in self.headers]

    def payload(self):
        return dechunk(self.body) if self.is_chunked else self.body

    def set_payload(self, data):
        """Replaces the body; it goes out with a Content-Length."""
        self.headers = [(n, v) for n, v in self.headers
                        if n.lower() not in ("transfer-encoding", "content-length")]
        self.headers.append(("Content-Length", str(len(data))))
        self.body = data
        self.is_chunked = False
        self.changed = True

    def wants_close(self):
        return "close" in (self.header("Connection") or "").lower()

    def to_bytes(self, raw):
        if not self.changed:
            return raw
        head = self.start + "\r\n" + "".join("%s: %s\r\n" % h for h in self.headers) + "\r\n"
        return head.encode("latin-1") + self.body


def read_message(reader, is_request, method=None):
    """(Message, raw bytes) of the next message; None at a clean end of the connection.
    Unframed leaves every byte read in reader.buf, for a tunnel to send on; so does a
    timeout, for the next try."""
    reader.taken = b""
    try:
        return _read_message(reader, is_request, method)
    except (Unframed, socket.timeout):
        reader.buf = reader.taken + reader.buf
        reader.taken = b""
        raise


def _read_message(reader, is_request, method):
    try:
        while b"\r\n\r\n" not in reader.buf:
            if BARE_LF.search(reader.buf):
                raise Unframed("a line ends in a bare LF")
            if len(reader.buf) > HEAD_LIMIT:
                raise Unframed("no head within %d bytes" % HEAD_LIMIT)
            reader._more()
        head = reader.until(b"\r\n\r\n")
    except EOFError:
        if reader.buf:
            raise Unframed("the connection ended inside a head")
        return None, b""
    lines = head[:-4].decode("latin-1").split("\r\n")
    start, headers = lines[0], []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise Unframed("bad header line %r" % line[:60])
        headers.append((name, value.strip()))
    msg = Message(start, headers, b"", False)
    te = (msg.header("Transfer-Encoding") or "").lower()
    cl = msg.header("Content-Length")
    if len([n for n, _ in headers if n.lower() == "content-length"]) > 1 or (te and cl):
        raise Unframed("ambiguous framing")
    if is_request:
        if not re.match(r"^[A-Z]+ \S+ HTTP/1\.[01]$", start):
            raise Unframed("bad request line %r" % start[:60])
    else:
        m = re.match(r"^HTTP/1\.[01] (\d{3})", start)
        if not m:
            raise Unframed("bad status line %r" % start[:60])
        status = int(m.group(1))
        if status < 200 or status in (204, 304) or method == "HEAD":
            return msg, head
    try:
        if te == "chunked":
            msg.is_chunked = True
            msg.body = reader.chunked()
        elif te:
            raise Unframed("transfer coding %r" % te)
        elif cl is not None:
            if not cl.isdigit():
                raise Unframed("bad Content-Length %r" % cl)
            if is_request and int(cl) > REQUEST_BODY_LIMIT:
                raise Unframed("a declared body of %s bytes" % cl)
            msg.body = reader.exactly(int(cl))
        elif not is_request:
            msg.body = reader.to_close()
            msg.headers.append(("Connection", "close"))
    except EOFError:
        raise Unframed("the connection ended inside a body")
    return msg, head + msg.body


def _json_body(msg):
    try:
        v = json.loads(msg.payload().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return v if isinstance(v, dict) else None


def _set_json(msg, value):
    msg.set_payload(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def signature_of(method, target, msg, body, names, amz_date, secret, region):
    """The SigV4 signature (contract section 5) over the headers named, as the test signer
    computes it."""
    headers = [(n, v) for n, v in msg.headers
               if n.lower() in names and n.lower() not in ("x-amz-date", "authorization")]
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)
    signed = serve_util.sign(method, target, headers, body, "", secret, region, when)
    return signed[-1][1].rsplit("Signature=", 1)[1]


def resign(method, target, msg, old_body, new_body):
    """Replaces msg's body by new_body and signs it again; False (msg untouched) when its
    signature did not hold or cannot be checked."""
    m = AUTH.match(msg.header("Authorization") or "")
    amz_date = msg.header("X-Amz-Date")
    if m is None or amz_date is None or m.group(1) not in SECRETS:
        return False
    key, _, region, _, names, sig = m.groups()
    names = set(names.split(";"))
    secret = SECRETS[key]
    if signature_of(method, target, msg, old_body, names, amz_date, secret, region) != sig:
        return False
    msg.set_payload(new_body)
    if msg.header("x-amz-content-sha256") == hashlib.sha256(old_body).hexdigest():
        msg.set_header("x-amz-content-sha256", hashlib.sha256(new_body).hexdigest())
    new_sig = signature_of(method, target, msg, new_body, names, amz_date, secret, region)
    msg.set_header("Authorization", msg.header("Authorization")[:-64] + new_sig)
    return True


class BrokenProxy(LoopbackServer):
    """The proxy on a free loopback port, in background threads; `found` lists what each
    mode changed (for the test's report)."""

    def __init__(self, backend_port, mode):
        if mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        super().__init__(backlog=32)
        self.backend_port = backend_port
        self.mode = mode
        self.paused = set()  # ignore-pause: pipelines this proxy "paused"
        self.changes = {}  # what was changed -> how often

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _count(self, what):
        with self.lock:
            self.changes[what] = self.changes.get(what, 0) + 1

    def _handle(self, client):
        client.settimeout(1.0)
        reader = Reader(client)
        try:
            while not self.stopping.is_set():
                try:
                    req, raw = read_message(reader, True)
                except socket.timeout:
                    continue
                except Unframed:
                    self._tunnel(client, reader.buf)
                    return
                if req is None:
                    return
                client.settimeout(None)
                answer, close = self._exchange(req, raw)
                client.sendall(answer)
                if close or req.wants_close():
                    return
                client.settimeout(1.0)
        except (OSError, EOFError, Unframed):
            pass
        finally:
            try:
                client.close()
            except OSError:
                pass

    def _tunnel(self, client, pending):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.backend_port), timeout=10)
            upstream.sendall(pending)
        except OSError:
            client.close()
            return
        client.settimeout(None)
        t = threading.Thread(target=pipe_bytes, args=(upstream, client, self.stopping),
                             daemon=True)
        t.start()
        pipe_bytes(client, upstream, self.stopping)
        t.join(10)

    def _send_upstream(self, raw, method):
        with socket.create_connection(("127.0.0.1", self.backend_port),
                                      timeout=UPSTREAM_TIMEOUT_S) as up:
            up.sendall(raw)
            reader = Reader(up)
            while True:
                resp, resp_raw = read_message(reader, False, method)
                if resp is None:
                    raise Unframed("the backend closed without answering")
                if not resp.start[9:].startswith("1"):
                    return resp, resp_raw
                # An interim answer: the client does not need it, the body is already sent.

    def _exchange(self, req, raw):
        """Forwards one request; returns the answer's bytes and whether to close."""
        method, target, _ = req.start.split(" ", 2)
        path = urllib.parse.urlsplit(target).path
        control = path.startswith(CONTROL_PREFIX)
        if self.mode == "cancel-ignored" and method == "DELETE" and JOB_PATH.match(path):
            self._count("CancelJob answered 202 and not sent on")
            body = b'{"Success":"true"}'
            return (b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                    b"x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)), False
        note = None
        if not control:
            note = self._change_request(method, target, path, req)
            raw = req.to_bytes(raw)
        resp, resp_raw = self._send_upstream(raw, method)
        if not control:
            self._change_answer(method, path, req, resp, note)
            resp_raw = resp.to_bytes(resp_raw)
        return resp_raw, resp.wants_close()

    # --- the misbehaviours ---------------------------------------------------------

    def _change_request(self, method, target, path, req):
        if self.mode != "ignore-pause" or method != "POST":
            return None
        m = STATUS_PATH.match(path)
        if m is None:
            return None
        body = _json_body(req)
        if body is None or body.get("Status") != "Paused":
            return ("status", urllib.parse.unquote(m.group(1)), False)
        old = req.payload()
        new = old.replace(b'"Paused"', b'"Active"')
        if new == old or not resign(method, target, req, old, new):
            return None
        self._count("UpdatePipelineStatus Paused sent as Active")
        return ("status", urllib.parse.unquote(m.group(1)), True)

    def _change_answer(self, method, path, req, resp, note):
        status = int(resp.start[9:12])
        if self.mode == "drop-page-token" and status == 200:
            body = _json_body(resp)
            if body is not None and isinstance(body.get("NextPageToken"), str):
                body["NextPageToken"] = None
                _set_json(resp, body)
                self._count("NextPageToken dropped")
        elif self.mode == "ignore-pause":
            if note is not None and 200 <= status < 300:
                with self.lock:
                    (self.paused.add if note[2] else self.paused.discard)(note[1])
            self._show_paused(resp)
        elif self.mode == "cancel-progressing" and method == "DELETE" and status == 409:
            m = JOB_PATH.match(path)
            if m is not None and self._job_status(req, m.group(1)) == "Progressing":
                resp.start = "HTTP/1.1 202 Accepted"
                resp.headers = [(n, v) for n, v in resp.headers
                                if n.lower() != "x-amzn-errortype"]
                resp.set_payload(b"{}")
                self._count("CancelJob of a Progressing job answered 202")

    def _show_paused(self, resp):
        body = _json_body(resp)
        if body is None or not self.paused:
            return
        pipelines = [body["Pipeline"]] if isinstance(body.get("Pipeline"), dict) else []
        if isinstance(body.get("Pipelines"), list):
            pipelines += [p for p in body["Pipelines"] if isinstance(p, dict)]
        changed = False
        with self.lock:
            for p in pipelines:
                if p.get("Id") in self.paused and p.get("Status") == "Active":
                    p["Status"] = "Paused"
                    changed = True
        if changed:
            _set_json(resp, body)
            self._count("pipeline shown as Paused")

    def _job_status(self, req, job_id):
        """The job's status, read with the main principal at the cancel's own date (the
        endpoint's clock may be virtual)."""
        amz_date = req.header("X-Amz-Date")
        try:
            when = datetime.datetime.strptime(amz_date or "", "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return None
        raw = serve_util.build_request(self.backend_port, "GET", "/2012-09-25/jobs/" + job_id,
                                       when=when)
        try:
            resp, _ = self._send_upstream(raw, "GET")
        except (OSError, EOFError, Unframed):
            return None
        body = _json_body(resp)
        job = body.get("Job") if body else None
        return job.get("Status") if isinstance(job, dict) else None


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODES or not sys.argv[2].isdigit():
        print("usage: broken_proxy.py MODE BACKEND_PORT\nmodes:", file=sys.stderr)
        for name, what in MODES.items():
            print("  %-18s %s" % (name, what), file=sys.stderr)
        return 2
    with BrokenProxy(int(sys.argv[2]), sys.argv[1]) as proxy:
        print("listening on %s" % proxy.url, flush=True)
        try:
            proxy.thread.join()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
