# SPDX-License-Identifier: Apache-2.0
#
# botocore_flow.py - botocore (Debian python3-botocore) against `etch serve`: the CancelJob
# flow as an SDK user sees it, with the error codes botocore derives from the answers.
#
# Usage: botocore_flow.py PATH_TO_ETCH. Exits 77 (skipped) when botocore is missing. The
# server starts with a long start delay and the pipeline is paused, so the job stays
# Submitted until it is canceled.

import os
import sys

from serve_util import (ID_PATTERN, JOB_INPUTS, MAIN_KEY, MAIN_SECRET, PRESET_ID, REGION, ROLE_ARN,
                        SKIP, check_job_members, check_pipeline_members,
                        Server, TestFailure, check, etch_binary, isolated_env, run_main)


def load_botocore():
    # Nothing from the machine's AWS configuration may leak into the client.
    os.environ.clear()
    os.environ.update(isolated_env())
    try:
        import botocore.config
        import botocore.exceptions
        import botocore.session
    except ImportError:
        print("SKIP: botocore is not installed (Debian package python3-botocore)")
        sys.exit(SKIP)
    return botocore


def make_client(botocore, url, secret=MAIN_SECRET):
    session = botocore.session.get_session()
    # One attempt: a retried request would hide what the server answered first.
    config = botocore.config.Config(retries={"total_max_attempts": 1})
    return session.create_client("elastictranscoder", region_name=REGION, endpoint_url=url,
                                 aws_access_key_id=MAIN_KEY, aws_secret_access_key=secret,
                                 config=config)


def expect_client_error(botocore, call, code, status, what):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        got_code = e.response.get("Error", {}).get("Code")
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        check(got_code == code and got_status == status,
              "%s: expected %d %s, botocore reported %s %s" % (what, status, code, got_status,
                                                             got_code))
        return
    raise TestFailure("%s: expected %s, the call succeeded" % (what, code))


def flow(botocore, url):
    client = make_client(botocore, url)

    r = client.create_pipeline(Name="etch-interop-botocore", InputBucket="etch-in",
                               OutputBucket="etch-out", Role=ROLE_ARN)
    pipeline_id = r["Pipeline"]["Id"]
    check(ID_PATTERN.match(pipeline_id), "CreatePipeline: bad Id %r" % pipeline_id)
    check_pipeline_members(r["Pipeline"], "CreatePipeline")

    r = client.read_pipeline(Id=pipeline_id)
    check_pipeline_members(r["Pipeline"], "ReadPipeline")

    # Contract 2b: OutputBucket and ContentConfig together are refused.
    expect_client_error(botocore, lambda: client.create_pipeline(
        Name="etch-interop-both", InputBucket="etch-in", OutputBucket="etch-out", Role=ROLE_ARN,
        ContentConfig={"Bucket": "etch-content"}, ThumbnailConfig={"Bucket": "etch-thumbs"}),
        "ValidationException", 400, "CreatePipeline with OutputBucket and ContentConfig")

    r = client.update_pipeline_status(Id=pipeline_id, Status="Paused")
    check(r["Pipeline"]["Status"] == "Paused", "UpdatePipelineStatus: %r" % r.get("Pipeline"))

    # Inputs, as the guide's sample request and the CLI's create-job example send it.
    r = client.create_job(PipelineId=pipeline_id, Inputs=JOB_INPUTS,
                          Outputs=[{"Key": "out.webm", "PresetId": PRESET_ID, "Rotate": "0"}])
    job_id = r["Job"]["Id"]
    check(r["Job"]["Status"] == "Submitted", "CreateJob: job not Submitted: %r" % r["Job"])
    check_job_members(r["Job"], "CreateJob")

    r = client.read_job(Id=job_id)
    check_job_members(r["Job"], "ReadJob")

    # Contract 2b: a ThumbnailPattern without {count} is refused (botocore does not check
    # patterns itself, so this is the server's answer).
    expect_client_error(botocore, lambda: client.create_job(
        PipelineId=pipeline_id, Input={"Key": "in.mp4"},
        Output={"Key": "out.mp4", "PresetId": PRESET_ID, "ThumbnailPattern": "thumbs/"}),
        "ValidationException", 400, "CreateJob with a ThumbnailPattern without {count}")

    r = client.list_jobs_by_status(Status="Submitted")
    check(job_id in [j["Id"] for j in r["Jobs"]], "ListJobsByStatus Submitted lacks the job")

    r = client.cancel_job(Id=job_id)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 202, "CancelJob: %r" % r)

    r = client.read_job(Id=job_id)
    check(r["Job"]["Status"] == "Canceled", "ReadJob after cancel: %r" % r["Job"])

    expect_client_error(botocore, lambda: client.cancel_job(Id=job_id),
                        "ResourceInUseException", 409, "CancelJob of a Canceled job")
    expect_client_error(botocore, lambda: client.read_job(Id="1111111111111-abcdef"),
                        "ResourceNotFoundException", 404, "ReadJob of an unknown Id")

    wrong = make_client(botocore, url, secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY")
    expect_client_error(botocore, lambda: wrong.cancel_job(Id=job_id),
                        "InvalidSignatureException", 403, "CancelJob with a wrong secret")


def main():
    etch = etch_binary()
    botocore = load_botocore()
    print("botocore %s" % getattr(botocore, "__version__", "(unknown version)"))
    with Server(etch, "--start-delay-ms", "3600000") as srv:
        flow(botocore, srv.url)


if __name__ == "__main__":
    sys.exit(run_main(main))
