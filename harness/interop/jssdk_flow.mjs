// SPDX-License-Identifier: Apache-2.0
//
// jssdk_flow.mjs - the AWS SDK for JavaScript v3 (@aws-sdk/client-elastic-transcoder,
// version pinned in jssdk/package.json) against `etch serve`: the CancelJob flow as an SDK
// user sees it, with the error names the SDK derives from the answers.
//
// Usage: node jssdk_flow.mjs ENDPOINT_URL MODULES_DIR. MODULES_DIR is the directory whose
// node_modules holds the SDK (jssdk_flow.py installs it in the build tree and starts the
// server). Exits 0 when every check passes, 1 otherwise.

import { createRequire } from "node:module";
import path from "node:path";
import { isDeepStrictEqual, inspect } from "node:util";

const [endpoint, modulesDir] = process.argv.slice(2);
if (!endpoint || !modulesDir) {
  console.error("usage: node jssdk_flow.mjs ENDPOINT_URL MODULES_DIR");
  process.exit(2);
}

const require = createRequire(path.join(path.resolve(modulesDir), "package.json"));
const sdk = require("@aws-sdk/client-elastic-transcoder");

const REGION = "us-east-1";
const MAIN_KEY = "AKIDEXAMPLE";
const MAIN_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const ROLE_ARN = "arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role";
const PRESET_ID = "1351620000001-000010";
const ID_PATTERN = /^\d{13}-\w{6}$/;

class TestFailure extends Error {}

function check(condition, what) {
  if (!condition) throw new TestFailure(what);
}

const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });

function makeClient(secret = MAIN_SECRET) {
  return new sdk.ElasticTranscoderClient({
    region: REGION,
    endpoint,
    credentials: { accessKeyId: MAIN_KEY, secretAccessKey: secret },
    // One attempt: a retried request would hide what the server answered first.
    maxAttempts: 1,
  });
}

async function expectError(call, name, status, what) {
  let result;
  try {
    result = await call();
  } catch (e) {
    const gotStatus = e.$metadata ? e.$metadata.httpStatusCode : undefined;
    check(e.name === name && gotStatus === status,
          `${what}: expected ${status} ${name}, the SDK threw ${gotStatus} ${e.name}: ${e.message}`);
    check(e instanceof sdk.ElasticTranscoderServiceException,
          `${what}: ${e.name} is not an ElasticTranscoderServiceException`);
    return;
  }
  throw new TestFailure(`${what}: expected ${name}, the call resolved: ${show(result)}`);
}

// Contract 1b, as an SDK user reads a pipeline created with OutputBucket: the four
// notification topics ("" when not set) and both configs filled from OutputBucket.
function checkPipelineMembers(pipeline, what) {
  const topics = pipeline.Notifications || {};
  check(["Progressing", "Completed", "Warning", "Error"].every((k) => topics[k] === ""),
        `${what}: Notifications ${show(topics)}`);
  for (const config of ["ContentConfig", "ThumbnailConfig"]) {
    const c = pipeline[config] || {};
    check(c.Bucket === "etch-out" && isDeepStrictEqual(c.Permissions, []),
          `${what}: ${config} ${show(c)}`);
  }
}

// The inputs of the AWS CLI's create-job example.
const JOB_INPUTS = [{ Key: "in.mp4", FrameRate: "auto", Resolution: "auto", AspectRatio: "auto",
                      Interlaced: "auto", Container: "mp4" }];

// Contract 1b, as an SDK user reads a job created with Inputs: Input is the first input,
// Inputs all of them, Playlists [] and each output's Watermarks [] when none were sent.
function checkJobMembers(job, what) {
  check(isDeepStrictEqual(job.Inputs, JOB_INPUTS), `${what}: Inputs ${show(job.Inputs)}`);
  check(isDeepStrictEqual(job.Input, JOB_INPUTS[0]), `${what}: Input ${show(job.Input)}`);
  check(isDeepStrictEqual(job.Playlists, []), `${what}: Playlists ${show(job.Playlists)}`);
  const outputs = job.Outputs || [];
  check(outputs.length === 1 && outputs.every((o) => isDeepStrictEqual(o.Watermarks, []))
        && job.Output && isDeepStrictEqual(job.Output.Watermarks, []),
        `${what}: Outputs ${show(outputs)}, Output ${show(job.Output)}`);
}

async function flow() {
  const client = makeClient();
  const send = (command) => client.send(command);

  let r = await send(new sdk.CreatePipelineCommand({
    Name: "etch-interop-jssdk", InputBucket: "etch-in", OutputBucket: "etch-out", Role: ROLE_ARN,
  }));
  const pipelineId = r.Pipeline && r.Pipeline.Id;
  check(ID_PATTERN.test(pipelineId || ""), `CreatePipeline: bad Id ${show(pipelineId)}`);
  check(r.$metadata.httpStatusCode === 201, `CreatePipeline: status ${r.$metadata.httpStatusCode}`);
  checkPipelineMembers(r.Pipeline, "CreatePipeline");

  r = await send(new sdk.ReadPipelineCommand({ Id: pipelineId }));
  checkPipelineMembers(r.Pipeline, "ReadPipeline");

  // Contract 2b: OutputBucket and ContentConfig together are refused.
  await expectError(() => send(new sdk.CreatePipelineCommand({
    Name: "etch-interop-both", InputBucket: "etch-in", OutputBucket: "etch-out", Role: ROLE_ARN,
    ContentConfig: { Bucket: "etch-content" }, ThumbnailConfig: { Bucket: "etch-thumbs" },
  })), "ValidationException", 400, "CreatePipeline with OutputBucket and ContentConfig");

  r = await send(new sdk.UpdatePipelineStatusCommand({ Id: pipelineId, Status: "Paused" }));
  check(r.Pipeline && r.Pipeline.Status === "Paused", `UpdatePipelineStatus: ${show(r.Pipeline)}`);

  // Inputs, as the guide's sample request and the CLI's create-job example send it.
  r = await send(new sdk.CreateJobCommand({
    PipelineId: pipelineId, Inputs: JOB_INPUTS,
    Outputs: [{ Key: "out.webm", PresetId: PRESET_ID, Rotate: "0" }],
  }));
  const jobId = r.Job && r.Job.Id;
  check(ID_PATTERN.test(jobId || ""), `CreateJob: bad Id ${show(jobId)}`);
  check(r.Job.Status === "Submitted", `CreateJob: job not Submitted: ${show(r.Job)}`);
  checkJobMembers(r.Job, "CreateJob");

  r = await send(new sdk.ReadJobCommand({ Id: jobId }));
  checkJobMembers(r.Job, "ReadJob");

  // Contract 2b: a ThumbnailPattern without {count} is refused (the SDK does not check
  // patterns itself, so this is the server's answer).
  await expectError(() => send(new sdk.CreateJobCommand({
    PipelineId: pipelineId, Input: { Key: "in.mp4" },
    Output: { Key: "out.mp4", PresetId: PRESET_ID, ThumbnailPattern: "thumbs/" },
  })), "ValidationException", 400, "CreateJob with a ThumbnailPattern without {count}");

  r = await send(new sdk.ListJobsByStatusCommand({ Status: "Submitted" }));
  check((r.Jobs || []).some((j) => j.Id === jobId), "ListJobsByStatus Submitted lacks the job");

  // 202 with an empty object: the SDK resolves.
  r = await send(new sdk.CancelJobCommand({ Id: jobId }));
  check(r.$metadata.httpStatusCode === 202, `CancelJob: ${show(r)}`);

  r = await send(new sdk.ReadJobCommand({ Id: jobId }));
  check(r.Job && r.Job.Status === "Canceled", `ReadJob after cancel: ${show(r.Job)}`);

  await expectError(() => send(new sdk.CancelJobCommand({ Id: jobId })),
                    "ResourceInUseException", 409, "CancelJob of a Canceled job");
  await expectError(() => send(new sdk.ReadJobCommand({ Id: "1111111111111-abcdef" })),
                    "ResourceNotFoundException", 404, "ReadJob of an unknown Id");

  const wrong = makeClient("wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY");
  try {
    await expectError(() => wrong.send(new sdk.CancelJobCommand({ Id: jobId })),
                      "InvalidSignatureException", 403, "CancelJob with a wrong secret");
  } finally {
    wrong.destroy();
    client.destroy();
  }
}

try {
  await flow();
  console.log("jssdk flow: all checks passed");
} catch (e) {
  console.error(e instanceof TestFailure ? `FAIL: ${e.message}` : `FAIL: ${e.stack || e}`);
  process.exitCode = 1;
}
