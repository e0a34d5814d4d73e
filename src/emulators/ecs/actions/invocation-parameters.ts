import { EcsApiError } from '../api-error.js';
import { checkInvocationSize, checkParametersMatch, parseParameters } from '../cloud-assistant-limits.js';

/**
 * The `Parameters` of a RunCommand or InvokeCommand, checked against the script: refused when the
 * command has custom parameters disabled (`Parameter.Disabled`), otherwise matched one to one with
 * its placeholders; then script and parameters together against the size limit. Undefined when
 * nothing is to be substituted.
 */
export function invocationParameters(parametersJson: string | undefined, script: string, enableParameter: boolean): Record<string, string> | undefined {
  const parameters = parametersJson === undefined ? undefined : parseParameters(parametersJson);
  if (!enableParameter) {
    if (parameters !== undefined && Object.keys(parameters).length > 0) {
      throw new EcsApiError(400, 'Parameter.Disabled', 'Parameters cannot be passed in when the command customization function is disabled: set EnableParameter=true.');
    }
    checkInvocationSize(script, undefined);
    return undefined;
  }
  const values = parameters ?? {};
  checkParametersMatch(script, values);
  checkInvocationSize(script, parametersJson === undefined ? undefined : values);
  return values;
}
