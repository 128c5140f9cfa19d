#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The HTML report of a run with failures, as a browser shows it.

Runs `etch run --html` on a small suite the reference does not meet (three scenarios that
break the same way, one whose answer echoes markup, a DEVIATION, a PASS), then has
headless Chromium load the page twice: --dump-dom, to check the page as the browser built
it (the failing scenarios, the matrix, the root-cause group, and the echoed markup as text,
never as an element), and --screenshot, to check that something is drawn (the PNG is
decoded here: several distinct colours, the FAIL and PASS colours among them, no single
colour covering almost everything).

Then the same for a live endpoint that answers every request with markup: the run stops
at the preflight (exit status 3), and its page says why, the endpoint's bytes as text.

usage: test_report_html_chromium.py ETCH SUITE_DIR

Before all that, --html into a folder that does not exist is exit status 2, nothing run.

Exit 77 (a ctest SKIP) when Chromium is not installed; CI installs it (.ci/install-deps).
"""
import collections
import http.server
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

SKIP = 77
BROWSER_TIMEOUT_S = 60

# The verdict colours of the page's style sheet (report_html.c).
FAIL_RGB = (0xC6, 0x28, 0x28)
PASS_RGB = (0x2E, 0x7D, 0x32)
DEVIATION_RGB = (0xF9, 0xA8, 0x25)

# What a hostile endpoint answers, and how it must come out in the page.
HOSTILE = "</script><img src=x onerror=alert(1)>"
HOSTILE_AS_TEXT = "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def find_browser():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path is not None:
            return path
    return None


def browser(chromium, profile, args, url):
    """Runs headless Chromium once on url with a fresh profile; returns its stdout."""
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--no-first-run", "--user-data-dir=" + profile] + args + [url]
    try:
        done = subprocess.run(command, capture_output=True, timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        fail("chromium did not finish within %d s: %s" % (BROWSER_TIMEOUT_S, " ".join(args)))
    if done.returncode != 0:
        fail("chromium exited %d: %s" % (done.returncode,
                                         done.stderr.decode("utf-8", "replace")[-2000:]))
    return done.stdout.decode("utf-8", "replace")


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data):
    """Returns (width, height, bytes per pixel, rows) of an 8-bit RGB or RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("the screenshot is not a PNG")
    pos = 8
    idat = []
    width = height = bpp = None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace != 0:
                fail("unexpected PNG form: depth %d, colour type %d, interlace %d"
                     % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if bpp is None:
        fail("the screenshot has no IHDR")
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        fail("the screenshot's pixel data has %d bytes, expected %d"
             % (len(raw), height * (stride + 1)))
    rows = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + paeth(left, prev[i], upleft)) & 0xFF
        elif kind != 0:
            fail("unknown PNG filter %d in row %d" % (kind, y))
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def check_screenshot(path):
    with open(path, "rb") as f:
        width, height, bpp, rows = decode_png(f.read())
    if (width, height) != (1280, 2000):
        fail("the screenshot is %dx%d, expected 1280x2000" % (width, height))
    counts = collections.Counter()
    for row in rows:
        for x in range(0, len(row), bpp):
            counts[row[x:x + 3]] += 1
    total = width * height
    common, common_count = counts.most_common(1)[0]
    print("screenshot: %d distinct colours; most common %s on %.1f%% of the pixels; "
          "FAIL colour on %d pixels, PASS on %d, DEVIATION on %d"
          % (len(counts), tuple(common), 100.0 * common_count / total,
             counts[bytes(FAIL_RGB)], counts[bytes(PASS_RGB)], counts[bytes(DEVIATION_RGB)]))
    if len(counts) < 16:
        fail("the screenshot has %d distinct colours: blank or nearly" % len(counts))
    if common_count > 0.95 * total:
        fail("one colour covers %.1f%% of the screenshot" % (100.0 * common_count / total))
    # Badges, matrix cells and the failing scenarios' borders: far more than a few pixels.
    for name, rgb in (("FAIL", FAIL_RGB), ("PASS", PASS_RGB), ("DEVIATION", DEVIATION_RGB)):
        if counts[bytes(rgb)] < 200:
            fail("the %s colour #%02x%02x%02x is on %d pixels of the screenshot"
                 % ((name,) + rgb + (counts[bytes(rgb)],)))


def check_dom(dom):
    for element in ("<img", "<script", "<iframe", "<object"):
        if element in dom:
            fail("the page as Chromium built it has an element %s: markup from the target "
                 "was not escaped" % element)
    wanted = [
        ("the failing scenarios", "cancel/cancel-unknown-job-1"),
        ("the failing scenarios", "pipelines/hostile-name"),
        ("the matrix", 'class="matrix"'),
        ("a matrix row", "<th>pipelines</th>"),
        ("a FAIL cell", 'class="cell v-fail"'),
        ("the root-cause group", "<b>3 scenarios</b>: CancelJob answered 404, expected 202"),
        ("the expectation's contract section", "section 3"),
        ("the marked member", "<mark>"),
        ("the echoed markup, as text", HOSTILE_AS_TEXT),
    ]
    for what, text in wanted:
        if text not in dom:
            fail("the page as Chromium built it lacks %s (%r)" % (what, text))


class HostileHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request 200 with a page of markup: not an Elastic Transcoder endpoint."""

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)
        body = ("<html><body>" + HOSTILE + "</body></html>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = answer

    def log_message(self, *args):
        pass


def check_unusable_target(etch, suite, chromium, tmp):
    """A live run against an endpoint answering markup: exit 3 and a page saying why."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = os.path.join(tmp, "unusable.html")
        url = "http://127.0.0.1:%d" % server.server_address[1]
        run = subprocess.run([etch, "run", "--no-color", "--endpoint", url, "--scenarios", suite,
                              "--html", report], capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    if run.returncode == 2 and "libcurl" in run.stderr:
        print("note: this etch has no live endpoint support; the unusable-target page is not "
              "checked")
        return
    if run.returncode != 3:
        fail("etch run against an endpoint answering markup exited %d, expected 3\n%s%s"
             % (run.returncode, run.stdout, run.stderr))
    if not os.path.isfile(report):
        fail("no HTML report was written for an unusable target")
    dom = browser(chromium, os.path.join(tmp, "profile-unusable"), ["--dump-dom"],
                  "file://" + report)
    for element in ("<img", "<script", "<iframe", "<object"):
        if element in dom:
            fail("the unusable target's page as Chromium built it has an element %s" % element)
    for what, text in (("the preflight's ERROR", "preflight/target"),
                       ("the reason", "not an Elastic Transcoder endpoint"),
                       ("the endpoint's markup, as text", "&lt;img src=x onerror")):
        if text not in dom:
            fail("the unusable target's page lacks %s (%r)" % (what, text))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    etch, suite = sys.argv[1], sys.argv[2]
    # A page that cannot be written is a usage error found before anything runs.
    run = subprocess.run([etch, "run", "--no-color", "--scenarios", suite, "--html",
                          "/nonexistent-folder/report.html"], capture_output=True, text=True,
                         timeout=60)
    if run.returncode != 2 or "HTML report" not in run.stderr or run.stdout.strip() != "":
        fail("etch run --html into a missing folder: exit %d, expected 2 with a message and "
             "nothing run\n%s%s" % (run.returncode, run.stdout, run.stderr))
    chromium = find_browser()
    if chromium is None:
        print("SKIP: chromium is not installed (Debian package chromium, which "
              ".ci/install-deps installs)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="etch-html-") as tmp:
        report = os.path.join(tmp, "report.html")
        run = subprocess.run([etch, "run", "--no-color", "--scenarios", suite, "--html", report],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 1:
            fail("etch run exited %d, expected 1 (failures)\n%s%s"
                 % (run.returncode, run.stdout, run.stderr))
        if "  3 scenarios FAIL: CancelJob answered 404, expected 202 (" not in run.stdout:
            fail("the text report has no root-cause line for the three CancelJob FAILs:\n"
                 + run.stdout)
        if not os.path.isfile(report):
            fail("no HTML report was written")
        url = "file://" + report
        dom = browser(chromium, os.path.join(tmp, "profile-dom"), ["--dump-dom"], url)
        check_dom(dom)
        shot = os.path.join(tmp, "shot.png")
        browser(chromium, os.path.join(tmp, "profile-shot"),
                ["--screenshot=" + shot, "--window-size=1280,2000", "--hide-scrollbars"], url)
        if not os.path.isfile(shot):
            fail("chromium wrote no screenshot")
        check_screenshot(shot)
        check_unusable_target(etch, suite, chromium, tmp)
    print("ok: the report renders, with its failures, matrix and groups, and the target's "
          "markup inert")
    return 0


if __name__ == "__main__":
    sys.exit(main())
