/**
 * Imported first by every entry point (the worker's main, `npm start`, `score`, `ops`; `train` and `bench` load
 * it with --import in their npm scripts), so that it runs before the modules it quiets are evaluated.
 *
 * onnxruntime's official Linux builds start Microsoft's telemetry unless ORT_DISABLE_TELEMETRY is set when it
 * initialises: a device id and an event store under ~/.cache/Microsoft/DeveloperTools (the image sets the same
 * variable; microsoft/onnxruntime docs/Privacy.md, "Disabling Telemetry").
 *
 * The AWS SDK warns on every process under Node 22 that its releases after January 2027 need Node 22
 * (@aws-sdk/core emitWarningIfUnsupportedVersion, which honours AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).
 * The README states the supported versions; on Node 22 and later it stays on, so a future warning about those is
 * still seen. A value the user set wins in both cases.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
if (Number(process.versions.node.split('.')[0]) < 22) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
