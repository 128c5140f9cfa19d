# SPDX-License-Identifier: Apache-2.0
#
# jssdk_flow.py - runs jssdk_flow.mjs (the AWS SDK for JavaScript v3 against `etch serve`).
#
# Usage: jssdk_flow.py PATH_TO_ETCH WORK_DIR. WORK_DIR is a directory of the build tree:
# the SDK is installed there with `npm ci` from jssdk/package.json and the lockfile next
# to it (exact versions and integrity hashes), once per lockfile; nothing is written to
# the source tree. Exits 77 (skipped) when node or npm is missing or the install fails
# (no network, say); every npm and node run has a time limit.

import hashlib
import os
import shutil
import signal
import subprocess
import sys

from serve_util import SKIP, Server, check, etch_binary, isolated_env, run_main

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.join(HERE, "jssdk")
SDK = "@aws-sdk/client-elastic-transcoder"
INSTALL_TIMEOUT_S = 240
FLOW_TIMEOUT_S = 120


def skip(why):
    print("SKIP: %s" % why)
    sys.exit(SKIP)


def run_bounded(cmd, timeout, **kwargs):
    """Runs cmd in its own process group, killed whole when it outlives timeout. Returns
    (exit status or None on timeout, combined output)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")


def find_tools():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        skip("node and npm are needed for the AWS SDK for JavaScript v3 (missing: %s)"
             % ", ".join(n for n, p in (("node", node), ("npm", npm)) if not p))
    status, out = run_bounded([node, "--version"], 30, env=isolated_env())
    if status != 0:
        skip("`node --version` failed: %s" % out.strip())
    return node, npm, out.strip()


def install_sdk(npm, work_dir):
    """npm ci into work_dir unless the same lockfile is installed there already."""
    with open(os.path.join(PACKAGE_DIR, "package-lock.json"), "rb") as f:
        lock = f.read()
    stamp_path = os.path.join(work_dir, "installed.sha256")
    digest = hashlib.sha256(lock).hexdigest()
    module = os.path.join(work_dir, "node_modules", *SDK.split("/"))
    try:
        with open(stamp_path) as f:
            if f.read().strip() == digest and os.path.isdir(module):
                return
    except OSError:
        pass
    os.makedirs(work_dir, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(PACKAGE_DIR, name), os.path.join(work_dir, name))
    if os.path.exists(stamp_path):
        os.remove(stamp_path)
    # The machine's proxy settings are kept for the download; AWS settings play no part.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        # The npm cache stays in the build tree too; npm's own retries are bounded.
        "npm_config_cache": os.path.join(work_dir, "npm-cache"),
        "npm_config_fetch_retries": "1",
        "npm_config_fetch_timeout": "60000",
        "npm_config_update_notifier": "false",
    })
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", work_dir]
    print("installing %s in the build tree: %s" % (SDK, " ".join(cmd[1:])))
    status, out = run_bounded(cmd, INSTALL_TIMEOUT_S, env=env, cwd=work_dir)
    if status is None:
        skip("npm ci did not finish within %d s (no network?):\n%s" % (INSTALL_TIMEOUT_S, out))
    if status != 0 or not os.path.isdir(module):
        skip("npm ci failed (exit %s; no network?):\n%s" % (status, out))
    with open(stamp_path, "w") as f:
        f.write(digest + "\n")


def main():
    etch = etch_binary()
    if len(sys.argv) < 3:
        print("usage: jssdk_flow.py PATH_TO_ETCH WORK_DIR", file=sys.stderr)
        sys.exit(2)
    work_dir = os.path.abspath(sys.argv[2])
    node, npm, version = find_tools()
    install_sdk(npm, work_dir)
    print("node %s, %s %s" % (version, SDK, "3.957.0"))
    with Server(etch, "--start-delay-ms", "3600000") as srv:
        # No AWS configuration of the machine reaches the SDK; credentials and region are
        # passed to the client in the script.
        env = isolated_env({"AWS_SDK_LOAD_CONFIG": "0"})
        status, out = run_bounded([node, os.path.join(HERE, "jssdk_flow.mjs"), srv.url,
                                   work_dir], FLOW_TIMEOUT_S, env=env, cwd=work_dir)
        sys.stdout.write(out)
        check(status is not None, "jssdk_flow.mjs did not finish within %d s" % FLOW_TIMEOUT_S)
        check(status == 0, "jssdk_flow.mjs exited with status %s" % status)


if __name__ == "__main__":
    sys.exit(run_main(main))
