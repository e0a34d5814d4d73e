import { EcsApiError, invalidParameter } from './api-error.js';

/**
 * Cloud Assistant's documented limits and the checks that enforce them, with the error codes the
 * ECS API documents for each (CreateCommand, RunCommand, InvokeCommand, SendFile pages). Pure.
 */

/** Script plus parameters, base64-encoded (the current docs; older pages say 16 or 18 KB). */
export const CONTENT_LIMIT_BYTES = 24 * 1024;
/** SendFile content, base64-encoded. */
export const SEND_FILE_LIMIT_BYTES = 32 * 1024;
/** Output kept per instance; `Dropped` counts the rest. */
export const OUTPUT_LIMIT_BYTES = 24 * 1024;
/** InstanceId.N of RunCommand, InvokeCommand, DescribeCloudAssistantStatus. */
export const MAX_INSTANCES = 100;
/** InstanceId.N of SendFile and StopInvocation. */
export const MAX_FILE_OR_STOP_INSTANCES = 50;
/** Keys in `Parameters`. */
export const MAX_PARAMETERS = 10;
/** Distinct custom `{{name}}` placeholders in one script. */
export const MAX_PLACEHOLDERS = 20;
/** Bytes in a parameter name. */
export const MAX_PARAMETER_NAME_BYTES = 64;
/** Seconds; Timeout below 10 is raised to 10, as SendFile documents and InvokeCommand requires. */
export const MIN_TIMEOUT_SECONDS = 10;
/** Seconds; a longer Timeout is `InvalidTimeout.ExceedLimit`. */
export const MAX_TIMEOUT_SECONDS = 86_400;
/** Seconds, when a request names no Timeout. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

/** Built-in parameters, lower-cased; any other `ACS::` name is refused. */
const BUILTINS = new Set(['acs::regionid', 'acs::accountid', 'acs::instanceid', 'acs::instancename', 'acs::invokeid', 'acs::commandid']);

/** The placeholders the sandbox substitutes (`substituteParameters`): the same pattern, so counting and replacing agree. */
const PLACEHOLDER = /\{\{(ACS::[A-Za-z]+|[A-Za-z0-9_-]+)\}\}/gi;

const PARAMETER_NAME = /^[A-Za-z0-9_-]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Length of `bytes` bytes once base64-encoded. */
export function base64Length(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4;
}

/** Whether `text` is canonical base64 (padding included), as the service decodes it. */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/**
 * The script a request carries, decoded when it comes base64-encoded. Which is the default
 * differs by action (CreateCommand: Base64, RunCommand: PlainText), so callers decide.
 * Throws `CmdContent.DecodeError`.
 */
export function decodeCommandContent(content: string, base64: boolean): string {
  if (!base64) return content;
  if (!isBase64(content)) throw new EcsApiError(400, 'CmdContent.DecodeError', 'The CommandContent can not be base64 decoded.');
  return Buffer.from(content, 'base64').toString('utf8');
}

/** The command types of the API; only RunShellScript fits the (Linux) sandbox instances. */
export const COMMAND_TYPES = ['RunShellScript', 'RunBatScript', 'RunPowerShellScript'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** A request's `Type`. Throws `InvalidCmdType.NotFound`. */
export function commandType(type: string): CommandType {
  const known = COMMAND_TYPES.find((candidate) => candidate === type);
  if (known === undefined) throw new EcsApiError(404, 'InvalidCmdType.NotFound', `The specified command type does not exist: ${JSON.stringify(type)}; use one of ${COMMAND_TYPES.join(', ')}.`);
  return known;
}

/** A command of `type` on the sandbox instances, which are Linux. Throws `InvalidInstance.NotMatch`. */
export function checkRunsOnLinux(type: CommandType): void {
  if (type !== 'RunShellScript') {
    throw new EcsApiError(400, 'InvalidInstance.NotMatch', `The specified instance type does not match the command: ${type} needs Windows, and the instances are Linux (use RunShellScript).`);
  }
}

/** Custom placeholder names of a script, each once (first spelling; names match case-insensitively). */
export function customPlaceholders(script: string): string[] {
  const names = new Map<string, string>();
  for (const match of script.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    const key = name.toLowerCase();
    if (!key.startsWith('acs::') && !names.has(key)) names.set(key, name);
  }
  return [...names.values()];
}

/**
 * The placeholder rules of a script with custom parameters enabled: at most 20 distinct custom
 * names, each at most 64 bytes, and no `ACS::` name that is not a built-in.
 * Throws `CmdParamCount.ExceedLimit`, `CmdParamName.ExceedLimit` or `CmdParam.InvalidParamName`.
 */
export function checkPlaceholders(script: string): void {
  for (const match of script.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (name.toLowerCase().startsWith('acs::') && !BUILTINS.has(name.toLowerCase())) {
      throw new EcsApiError(400, 'CmdParam.InvalidParamName', `Invalid parameter name ${JSON.stringify(name)}: the ACS:: prefix is reserved for the built-in parameters.`);
    }
  }
  const custom = customPlaceholders(script);
  if (custom.length > MAX_PLACEHOLDERS) {
    throw new EcsApiError(403, 'CmdParamCount.ExceedLimit', `The maximum number of custom parameters is exceeded: the script has ${custom.length} distinct {{name}} placeholders, at most ${MAX_PLACEHOLDERS} are allowed.`);
  }
  const long = custom.find((name) => Buffer.byteLength(name) > MAX_PARAMETER_NAME_BYTES);
  if (long !== undefined) {
    throw new EcsApiError(403, 'CmdParamName.ExceedLimit', `The maximum length of a parameter name is exceeded: ${JSON.stringify(long)} is longer than ${MAX_PARAMETER_NAME_BYTES} bytes.`);
  }
}

/**
 * The `Parameters` request value (a JSON object string) as a map of strings. Numbers and booleans
 * become their text; nested values are refused. Throws `InvalidParameter.Parameters`,
 * `ParameterCount.ExceedLimit`, `ParameterKey.ExceedLimit`, `ParameterKey.Duplicate` or
 * `ParameterType.NotSupported`.
 */
export function parseParameters(json: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalidParameter('Parameters', 'must be a JSON object such as {"name":"value"}', 'InvalidParameter.Parameters');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidParameter('Parameters', 'must be a JSON object such as {"name":"value"}', 'InvalidParameter.Parameters');
  }
  const entries = Object.entries(parsed);
  if (entries.length > MAX_PARAMETERS) {
    throw new EcsApiError(403, 'ParameterCount.ExceedLimit', `The maximum number of parameters is exceeded: ${entries.length} given, at most ${MAX_PARAMETERS} are allowed.`);
  }
  const seen = new Set<string>();
  const values: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (Buffer.byteLength(name) > MAX_PARAMETER_NAME_BYTES) {
      throw new EcsApiError(403, 'ParameterKey.ExceedLimit', `The maximum length of a parameter name is exceeded: ${JSON.stringify(name.slice(0, 80))} is longer than ${MAX_PARAMETER_NAME_BYTES} bytes.`);
    }
    if (!PARAMETER_NAME.test(name)) {
      throw invalidParameter('Parameters', `the name ${JSON.stringify(name)} must be 1-64 of a-z A-Z 0-9 _ -`, 'InvalidParameter.Parameters');
    }
    if (seen.has(name.toLowerCase())) {
      throw new EcsApiError(403, 'ParameterKey.Duplicate', `Parameter names cannot be duplicated: ${JSON.stringify(name)} differs from another only in case, and names match case-insensitively.`);
    }
    seen.add(name.toLowerCase());
    if (typeof value === 'string') values[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') values[name] = String(value);
    else throw new EcsApiError(403, 'ParameterType.NotSupported', `The type of parameter value is not supported: ${JSON.stringify(name)} must be a string, number or boolean.`);
  }
  return values;
}

/**
 * The parameters of an invocation against its script's placeholders: every name must be a
 * placeholder of the script (`Parameter.NotMatched`), and every placeholder must have a value
 * (`Parameter.MissingValue`; an empty string is a value).
 */
export function checkParametersMatch(script: string, parameters: Readonly<Record<string, string>>): void {
  const placeholders = customPlaceholders(script);
  const defined = new Set(placeholders.map((name) => name.toLowerCase()));
  const stray = Object.keys(parameters).filter((name) => !defined.has(name.toLowerCase()));
  if (stray.length > 0) {
    throw new EcsApiError(403, 'Parameter.NotMatched', `The passed-in parameters do not match the parameters defined when you created the command: ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} not a {{placeholder}} of the script (it has ${placeholders.join(', ') || 'none'}).`);
  }
  const given = new Set(Object.keys(parameters).map((name) => name.toLowerCase()));
  const unset = placeholders.filter((name) => !given.has(name.toLowerCase()));
  if (unset.length > 0) {
    throw new EcsApiError(400, 'Parameter.MissingValue', `The parameter value of this command is required: pass ${unset.join(', ')} in Parameters (an empty string is allowed).`);
  }
}

/**
 * Script plus parameters, both base64-encoded, against the 24 KB limit (the same count as the
 * agent's `invocationSize`). Throws `CmdContent.ExceedLimit`.
 */
export function checkInvocationSize(script: string, parameters: Readonly<Record<string, string>> | undefined): void {
  const size = base64Length(Buffer.byteLength(script)) + (parameters === undefined ? 0 : base64Length(Buffer.byteLength(JSON.stringify(parameters))));
  if (size > CONTENT_LIMIT_BYTES) {
    throw new EcsApiError(403, 'CmdContent.ExceedLimit', `The maximum length of a command is exceeded: the script${parameters === undefined ? '' : ' and its parameters'} take ${size} bytes base64-encoded, at most ${CONTENT_LIMIT_BYTES} are allowed.`);
  }
}

/**
 * Timeout in seconds: default 60, raised to at least 10, at most 86,400 (`InvalidTimeout.ExceedLimit`).
 */
export function timeoutSeconds(timeout: number | undefined, fallback: number = DEFAULT_TIMEOUT_SECONDS): number {
  const seconds = timeout ?? fallback;
  if (seconds > MAX_TIMEOUT_SECONDS) {
    throw new EcsApiError(403, 'InvalidTimeout.ExceedLimit', `The specified parameter Timeout exceeds the upper limit: ${seconds} seconds, at most ${MAX_TIMEOUT_SECONDS}.`);
  }
  return Math.max(seconds, MIN_TIMEOUT_SECONDS);
}

/**
 * Instance ids of a request (InstanceId.N): at least one (`MissingParam.InstanceId`), at most
 * `max` (`InstanceIds.ExceedLimit`), duplicates dropped.
 */
export function checkInstanceIds(ids: readonly string[], max: number = MAX_INSTANCES): string[] {
  const distinct = [...new Set(ids.filter((id) => id !== ''))];
  if (distinct.length === 0) throw new EcsApiError(400, 'MissingParam.InstanceId', 'The parameter instanceId is missing or empty: pass InstanceId.1, InstanceId.2, …');
  if (distinct.length > max) {
    throw new EcsApiError(403, 'InstanceIds.ExceedLimit', `The number of instance IDs exceeds the upper limit: ${distinct.length} given, at most ${max} are allowed.`);
  }
  return distinct;
}
