# SPDX-License-Identifier: Apache-2.0
#
# awscli_flow.py - the AWS CLI v2 (Debian awscli) against `etch serve`: the CancelJob flow
# through `aws elastictranscoder ... --endpoint-url`, with the error codes the CLI prints.
#
# Usage: awscli_flow.py PATH_TO_ETCH. Exits 77 (skipped) when no AWS CLI v2 is found. The
# CLI is taken from $ETCH_AWS_CLI, else Debian's /usr/bin/aws, else the first `aws` on
# PATH; it must report version 2 (a v1 earlier on PATH is not what this test is about).
# Credentials come from the environment; the machine's AWS configuration is ignored.

import json
import os
import shutil
import subprocess
import sys
import tempfile

from serve_util import (ID_PATTERN, JOB_INPUTS, MAIN_KEY, MAIN_SECRET, PRESET_ID, REGION, ROLE_ARN,
                        SKIP, check_job_members, check_pipeline_members,
                        Server, check, etch_binary, isolated_env, run_main)

CLI_TIMEOUT_S = 60


def find_cli():
    candidates = [os.environ.get("ETCH_AWS_CLI"), "/usr/bin/aws", shutil.which("aws")]
    seen = []
    for path in candidates:
        if not path or path in seen or not os.access(path, os.X_OK):
            continue
        seen.append(path)
        try:
            p = subprocess.run([path, "--version"], capture_output=True, text=True,
                               timeout=CLI_TIMEOUT_S, env=isolated_env())
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = (p.stdout + p.stderr).strip()
        if p.returncode == 0 and version.startswith("aws-cli/2."):
            return path, version
    print("SKIP: no AWS CLI v2 found (Debian package awscli, or set ETCH_AWS_CLI); tried %s"
          % (", ".join(seen) or "nothing"))
    sys.exit(SKIP)


class Cli:
    def __init__(self, path, url, home):
        self.path = path
        self.url = url
        self.home = home

    def run(self, *args, secret=MAIN_SECRET):
        env = isolated_env({
            "HOME": self.home,  # the CLI's caches and history stay out of the real home
            "AWS_ACCESS_KEY_ID": MAIN_KEY,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            # One attempt: a retried request would hide what the server answered first.
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        })
        cmd = [self.path, "elastictranscoder"] + list(args) + [
            "--endpoint-url", self.url, "--no-cli-pager", "--output", "json"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                              env=env, stdin=subprocess.DEVNULL)

    def ok(self, *args):
        p = self.run(*args)
        check(p.returncode == 0, "aws elastictranscoder %s: exit %d\n%s"
              % (args[0], p.returncode, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def fails_with(self, code, what, *args, secret=MAIN_SECRET):
        p = self.run(*args, secret=secret)
        check(p.returncode != 0, "%s: expected %s, the CLI succeeded: %s" % (what, code, p.stdout))
        # "An error occurred (ResourceInUseException) when calling the CancelJob operation"
        check("(%s)" % code in p.stderr, "%s: expected %s, the CLI printed: %s"
              % (what, code, p.stderr.strip()))


def flow(cli):
    r = cli.ok("create-pipeline", "--name", "etch-interop-awscli", "--input-bucket", "etch-in",
               "--output-bucket", "etch-out", "--role", ROLE_ARN)
    pipeline_id = r["Pipeline"]["Id"]
    check(ID_PATTERN.match(pipeline_id), "create-pipeline: bad Id %r" % pipeline_id)
    check_pipeline_members(r["Pipeline"], "create-pipeline")

    r = cli.ok("read-pipeline", "--id", pipeline_id)
    check_pipeline_members(r["Pipeline"], "read-pipeline")

    # Contract 2b: OutputBucket and ContentConfig together are refused.
    cli.fails_with("ValidationException", "create-pipeline with OutputBucket and ContentConfig",
                   "create-pipeline", "--name", "etch-interop-both", "--input-bucket", "etch-in",
                   "--output-bucket", "etch-out", "--role", ROLE_ARN,
                   "--content-config", json.dumps({"Bucket": "etch-content"}),
                   "--thumbnail-config", json.dumps({"Bucket": "etch-thumbs"}))

    r = cli.ok("update-pipeline-status", "--id", pipeline_id, "--status", "Paused")
    check(r["Pipeline"]["Status"] == "Paused", "update-pipeline-status: %r" % r)

    # --inputs, as the CLI's create-job example sends it.
    r = cli.ok("create-job", "--pipeline-id", pipeline_id,
               "--inputs", json.dumps(JOB_INPUTS),
               "--outputs", json.dumps([{"Key": "out.webm", "PresetId": PRESET_ID,
                                         "Rotate": "0"}]))
    job_id = r["Job"]["Id"]
    check(r["Job"]["Status"] == "Submitted", "create-job: job not Submitted: %r" % r["Job"])
    check_job_members(r["Job"], "create-job")

    r = cli.ok("read-job", "--id", job_id)
    check_job_members(r["Job"], "read-job")

    # Contract 2b: a ThumbnailPattern without {count} is refused.
    cli.fails_with("ValidationException", "create-job with a ThumbnailPattern without {count}",
                   "create-job", "--pipeline-id", pipeline_id,
                   "--input", json.dumps({"Key": "in.mp4"}),
                   "--job-output", json.dumps({"Key": "out.mp4", "PresetId": PRESET_ID,
                                               "ThumbnailPattern": "thumbs/"}))

    r = cli.ok("list-jobs-by-status", "--status", "Submitted")
    check(job_id in [j["Id"] for j in r.get("Jobs", [])], "list-jobs-by-status lacks the job")

    cli.ok("cancel-job", "--id", job_id)

    r = cli.ok("read-job", "--id", job_id)
    check(r["Job"]["Status"] == "Canceled", "read-job after cancel: %r" % r["Job"])

    cli.fails_with("ResourceInUseException", "cancel-job twice", "cancel-job", "--id", job_id)
    cli.fails_with("ResourceNotFoundException", "read-job of an unknown Id",
                   "read-job", "--id", "1111111111111-abcdef")
    cli.fails_with("InvalidSignatureException", "cancel-job with a wrong secret",
                   "cancel-job", "--id", job_id,
                   secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY")


def main():
    etch = etch_binary()
    path, version = find_cli()
    print(version)
    with tempfile.TemporaryDirectory() as home:
        with Server(etch, "--start-delay-ms", "3600000") as srv:
            flow(Cli(path, srv.url, home))


if __name__ == "__main__":
    sys.exit(run_main(main))
