import { SandboxError } from './sandbox-errors.js';

/**
 * Values of Cloud Assistant's built-in parameters, `{{ACS::RegionId}}` and friends. The fleet fills
 * in `instanceId`; the ECS emulator knows the rest (region, account, invocation, command).
 */
export interface BuiltinParameters {
  regionId?: string;
  accountId?: string;
  instanceId?: string;
  instanceName?: string;
  invokeId?: string;
  commandId?: string;
}

/** Built-in names, lower-cased, to the field that holds their value. */
const BUILTINS: ReadonlyMap<string, keyof BuiltinParameters> = new Map([
  ['acs::regionid', 'regionId'],
  ['acs::accountid', 'accountId'],
  ['acs::instanceid', 'instanceId'],
  ['acs::instancename', 'instanceName'],
  ['acs::invokeid', 'invokeId'],
  ['acs::commandid', 'commandId'],
]);

/** Cloud Assistant's parameter names: letters, digits, `_` and `-`. */
const PARAMETER_NAME = /^[A-Za-z0-9_-]+$/;

/** A custom placeholder or a built-in one; no white space inside the braces. */
const PLACEHOLDER = /\{\{(ACS::[A-Za-z]+|[A-Za-z0-9_-]+)\}\}/gi;

/**
 * The script Cloud Assistant would run: every `{{name}}` replaced by its value, exactly as the
 * service does it. That means plain text, with no quoting or escaping of any kind: a value holding
 * `'` ends a single-quoted string in the script, and `; rm -rf /` runs. Callers that pass values from
 * requests must make them unable to break out (rollcall passes base64, decoded by the agent).
 *
 * - Names match case-insensitively (`{{Login}}` takes `login`), built-ins too.
 * - A placeholder with no value is left as it is, braces and all.
 * - One pass: a value that itself contains `{{x}}` is not substituted again.
 *
 * Pure: no I/O. Throws a SandboxError (`invalid-argument`) when two parameter names differ only in
 * case, since which one a case-insensitive match should take is then undefined.
 */
export function substituteParameters(
  script: string,
  parameters: Readonly<Record<string, string>> = {},
  builtins: Readonly<BuiltinParameters> = {},
): string {
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parameters)) {
    // A name Cloud Assistant would refuse can never appear in a placeholder, so it substitutes nothing.
    if (!PARAMETER_NAME.test(name)) continue;
    const key = name.toLowerCase();
    if (values.has(key)) {
      throw new SandboxError('invalid-argument', `parameters "${name}" and another differ only in case; Cloud Assistant matches names case-insensitively`);
    }
    values.set(key, value);
  }
  return script.replace(PLACEHOLDER, (placeholder: string, name: string) => {
    const key = name.toLowerCase();
    const builtin = BUILTINS.get(key);
    const value = builtin !== undefined ? builtins[builtin] : values.get(key);
    return value ?? placeholder;
  });
}
