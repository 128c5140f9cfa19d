# SPDX-License-Identifier: Apache-2.0
#
# serve_util.py - shared pieces of the `etch serve` tests: start and stop a server of our
# own, a raw HTTP/1.1 client that keeps its connection, and a small SigV4 signer.
#
# Standard library only, so that the server test runs wherever python3 does. The signer
# follows contract section 5 for the simple requests these tests send (no dot segments,
# no repeated headers); the reference's own signer is what the SigV4 suites check.

import datetime
import hashlib
import hmac
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SKIP = 77  # ctest SKIP_RETURN_CODE

REGION = "us-east-1"
SERVICE = "elastictranscoder"
MAIN_KEY = "AKIDEXAMPLE"
MAIN_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ROLE_ARN = "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role"
PRESET_ID = "1351620000001-000010"
ID_PATTERN = re.compile(r"^\d{13}-\w{6}$")
UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

LISTEN_TIMEOUT_S = 15
STOP_TIMEOUT_S = 20


class TestFailure(Exception):
    pass


def check(condition, what):
    """Fails the test with a message when condition is false."""
    if not condition:
        raise TestFailure(what)


def check_pipeline_members(pipeline, what):
    """Contract 1b, as a client reads a pipeline created with an output bucket "etch-out":
    the four notification topics ("" when not set) and both configs filled from it."""
    topics = pipeline.get("Notifications", {})
    check(all(topics.get(k) == "" for k in ("Progressing", "Completed", "Warning", "Error")),
          "%s: Notifications %r" % (what, topics))
    for config in ("ContentConfig", "ThumbnailConfig"):
        c = pipeline.get(config, {})
        check(c.get("Bucket") == "etch-out" and c.get("Permissions") == [],
              "%s: %s %r" % (what, config, c))


# The inputs of the AWS CLI's create-job example.
JOB_INPUTS = [{"Key": "in.mp4", "FrameRate": "auto", "Resolution": "auto", "AspectRatio": "auto",
               "Interlaced": "auto", "Container": "mp4"}]


def check_job_members(job, what):
    """Contract 1b, as a client reads a job created with JOB_INPUTS and one output: Input is
    the first input, Inputs all of them, Playlists [] and each output's Watermarks [] when
    none were sent."""
    check(job.get("Inputs") == JOB_INPUTS, "%s: Inputs %r" % (what, job.get("Inputs")))
    check(job.get("Input") == JOB_INPUTS[0], "%s: Input %r" % (what, job.get("Input")))
    check(job.get("Playlists") == [], "%s: Playlists %r" % (what, job.get("Playlists")))
    outputs = job.get("Outputs", [])
    check(len(outputs) == 1 and all(o.get("Watermarks") == [] for o in outputs)
          and job.get("Output", {}).get("Watermarks") == [],
          "%s: Outputs %r, Output %r" % (what, outputs, job.get("Output")))


def etch_binary():
    """The etch executable CMake passes as the first argument."""
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: %s PATH_TO_ETCH" % os.path.basename(sys.argv[0]), file=sys.stderr)
        sys.exit(2)
    return sys.argv[1]


def isolated_env(extra=None):
    """The environment for a client: no AWS configuration, profile or proxy of the machine
    running the tests, and loopback never proxied."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy",
                                                              "all_proxy")}
    env.update({
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    if extra:
        env.update(extra)
    return env


class Server:
    """`etch serve` on a free loopback port, as a context manager.

    Leaving the block normally stops the server with SIGTERM and checks that it exits 0;
    leaving it on an error kills the server. Its stderr (the request log) is kept in a
    temporary file and shown when something fails."""

    def __init__(self, etch, *args):
        self.etch = etch
        self.args = list(args)
        self.proc = None
        self.port = None
        self.log = None
        self.has_test_control = False  # the first line says "(test control on)"

    def __enter__(self):
        self.log = tempfile.TemporaryFile(mode="w+b")
        cmd = [self.etch, "serve", "--listen", "127.0.0.1:0"] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        try:
            line = self._first_line()
            m = re.match(r"^etch serve: listening on http://127\.0\.0\.1:(\d+)"
                         r"( \(test control on\))?$", line)
            check(m is not None, "unexpected first line from etch serve: %r" % line)
            self.port = int(m.group(1))
            self.has_test_control = m.group(2) is not None
            check(self.port > 0, "etch serve printed port 0")
        except BaseException:
            self.kill()
            raise
        return self

    def _first_line(self):
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        data = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("etch serve printed no address within %d s" % LISTEN_TIMEOUT_S)
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise TestFailure("etch serve exited (status %s) before listening:\n%s"
                                  % (self.proc.wait(), self.stderr_text()))
            data += chunk
        return data.split(b"\n", 1)[0].decode("utf-8", "replace")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stderr_text(self):
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait_exit(self):
        """Waits for the server to exit after a signal; returns its exit status."""
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure("etch serve did not exit within %d s of SIGTERM" % STOP_TIMEOUT_S)

    def stop(self):
        """SIGTERM, then a clean exit 0 is required."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        status = self.wait_exit()
        check(status == 0, "etch serve exited with status %s after SIGTERM" % status)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
        finally:
            self.kill()
            if self.proc is not None and self.proc.stdout is not None:
                self.proc.stdout.close()
            # ctest shows it only with -V or when the test fails.
            out = sys.stderr if exc_type is not None else sys.stdout
            out.write("--- etch serve log ---\n%s--- end of log ---\n" % self.stderr_text())
            self.log.close()
        return False


def run_main(body):
    """Runs body(), mapping its outcome to an exit status for ctest."""
    try:
        body()
    except TestFailure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    print("PASS")
    return 0


# --- SigV4 (header form), standard library only -------------------------------------

def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _uri_encode(text, safe):
    return urllib.parse.quote(text, safe=safe)


def canonical_query(query):
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((_uri_encode(urllib.parse.unquote(name), "-_.~"),
                      _uri_encode(urllib.parse.unquote(value), "-_.~")))
    return "&".join("%s=%s" % p for p in sorted(pairs))


def sign(method, target, headers, body, access_key=MAIN_KEY, secret=MAIN_SECRET,
         region=REGION, when=None):
    """Adds X-Amz-Date and Authorization to headers (a list of (name, value) pairs), signing
    every header present. The path is encoded once more, as for any non-S3 service, so a
    %2F sent in a label is signed as %252F."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    headers.append(("X-Amz-Date", amz_date))
    path, _, query = target.partition("?")
    lowered = sorted((name.lower(), " ".join(value.split())) for name, value in headers)
    signed_headers = ";".join(name for name, _ in lowered)
    canonical = "\n".join([
        method,
        _uri_encode(path, "/-_.~"),
        canonical_query(query),
        "".join("%s:%s\n" % (name, value) for name, value in lowered),
        signed_headers,
        hashlib.sha256(body).hexdigest(),
    ])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, SERVICE)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(("AWS4" + secret).encode("utf-8"), amz_date[:8])
    key = _hmac(key, region)
    key = _hmac(key, SERVICE)
    key = _hmac(key, "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers.append(("Authorization",
                    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                    % (access_key, scope, signed_headers, signature)))
    return headers


# --- A raw HTTP/1.1 client that keeps its connection --------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value), as received
        self.body = body

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.header("x-amzn-ErrorType"), self.body[:200])


class Connection:
    """One TCP connection; requests are sent as exact bytes, one response read at a time."""

    MAX_RESPONSE_BYTES = 8 * 1024 * 1024

    def __init__(self, port, timeout=20):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send(self, raw):
        self.sock.sendall(raw)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise TestFailure("the server closed the connection before a complete response")
        self.buf += chunk
        check(len(self.buf) <= self.MAX_RESPONSE_BYTES, "response larger than 8 MiB")

    def read_response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"^HTTP/1\.[01] (\d{3})", lines[0])
        check(m is not None, "bad status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        status = int(m.group(1))
        if 100 <= status < 200:
            return Response(status, headers, b"")  # interim: no body
        length = None
        for name, value in headers:
            if name.lower() == "content-length":
                length = int(value)
        check(length is not None, "response without Content-Length: %r" % head)
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(status, headers, body)


def build_request(port, method, target, body=b"", content_type=None, signed=True,
                  access_key=MAIN_KEY, secret=MAIN_SECRET, region=REGION, extra_headers=(),
                  when=None):
    """The bytes of one request in the form botocore sends (Content-Length always, signed
    host and x-amz-date, plus content-type on POST), signed at `when` (a UTC datetime;
    default now)."""
    headers = [("Host", "127.0.0.1:%d" % port)]
    if content_type:
        headers.append(("Content-Type", content_type))
    headers.extend(extra_headers)
    if signed:
        sign(method, target, headers, body, access_key, secret, region, when)
    headers.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/1.1\r\n" % (method, target)
    head += "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
    return head.encode("latin-1") + body
