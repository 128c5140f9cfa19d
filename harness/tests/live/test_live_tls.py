# SPDX-License-Identifier: Apache-2.0
#
# test_live_tls.py - `etch run --endpoint https://...`: certificates are checked by
# default (a self-signed one is refused, nothing is run), --cacert trusts a CA file, and
# --insecure turns the checks off only when asked. The TLS side is a proxy of our own in
# front of `etch serve`, with a certificate made for the test (openssl).
#
# Usage: test_live_tls.py ETCH SCENARIOS_DIR   (exit 77, skipped, without openssl)

import os
import shutil
import ssl
import subprocess
import sys
import tempfile

from live_util import SKIP, Proxy, Server, check, expect, run_etch, run_main


def make_certificate(folder):
    """A self-signed certificate for the name localhost only, valid for a day."""
    key = os.path.join(folder, "key.pem")
    cert = os.path.join(folder, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return key, cert


def body(etch, suite):
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = make_certificate(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        with Server(etch, "--quiet") as srv, Proxy(srv.port, ctx) as proxy:
            url = "https://localhost:%d" % proxy.port
            base = ["run", "--endpoint", url, "--scenarios", suite, "--no-color",
                    "--scenario", "cancel-submitted", "--connect-timeout-ms", "5000"]
            r = run_etch(etch, base, 60)
            expect(r, 3, "does not answer", "nothing was run")
            check("certificate" in r.err.lower(), "no certificate reason:\n" + r.text())
            r = run_etch(etch, base + ["--cacert", cert], 60)
            expect(r, 0, "target live endpoint %s" % url, "1 passed")
            r = run_etch(etch, base + ["--insecure"], 60)
            expect(r, 0, "1 passed")
            # Trusted, but for another name: the host name check refuses it.
            other = ["run", "--endpoint", "https://127.0.0.1:%d" % proxy.port, "--scenarios",
                     suite, "--scenario", "cancel-unknown-id", "--cacert", cert]
            r = run_etch(etch, other, 60)
            expect(r, 3, "does not answer", "nothing was run")
            check("127.0.0.1" in r.err and ("name" in r.err or "certificate" in r.err),
                  "no host name reason:\n" + r.text())


def main():
    if len(sys.argv) != 3:
        print("usage: test_live_tls.py ETCH SCENARIOS_DIR", file=sys.stderr)
        return 2
    if shutil.which("openssl") is None:
        print("openssl not found: skipped")
        return SKIP
    return run_main(lambda: body(sys.argv[1], sys.argv[2]))


if __name__ == "__main__":
    sys.exit(main())
