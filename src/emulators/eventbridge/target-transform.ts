import { RollcallError } from '../../config/errors.js';
import { compileJsonPath, type JsonPathGetter } from './json-path.js';

/**
 * EventBridge's target transforms: what each param of a rule's target (`param_list` in
 * Terraform: `resource_key`, `form`, `value`, `template`) makes of the event it delivers.
 *
 * - ORIGINAL: the whole event (the CloudEvent, envelope and `data`). `value`/`template` unused.
 * - JSONPATH: `value` is a JSONPath into the event (`$.data.commandName`; see json-path.ts for the
 *   subset); the value there, or undefined when the event has nothing there.
 * - CONSTANT: `value`, as is (a string).
 * - TEMPLATE: `value` is a JSON object of variables, name → JSONPath (`{"cmd": "$.data.commandName"}`);
 *   `template` is "a custom string or JSON structure" with `${name}` placeholders.
 *
 * How a TEMPLATE fills its placeholders (the documentation leaves it open; this is rollcall's
 * emulator's documented choice, made so that a JSON template always yields valid JSON):
 * - The template's shape decides, once, at load time: a template that is JSON once its
 *   placeholders are filled (a placeholder between quotes stands for string content, one outside
 *   quotes for a JSON value) is a JSON template; any other template is text.
 * - JSON template, placeholder inside quotes (`"name": "${cmd}"`): the value's text is inserted as
 *   the string's content, escaped (a string as itself, anything else as its JSON text, nothing
 *   for a missing value). Placeholder outside quotes (`"code": ${exit}`): the value as JSON (a
 *   string gets its quotes, a missing value is `null`). The result is parsed: an object, array,
 *   string or number.
 * - Text template (`Command ${cmd} finished`): strings inserted as they are, other values as
 *   their JSON text, missing values as nothing. The result is that string.
 * - `${name}` is a placeholder when name is a run of characters other than `$`, `{`, `}` and
 *   white space; a placeholder naming no variable is an error at load time (a typo would
 *   otherwise deliver an empty field). Any other `${` is literal text. Variables do not nest:
 *   each maps to a JSONPath string.
 * - Limits: `value` and `template` are at most 10,240 characters each (checked for every form).
 *   Forms other than TEMPLATE ignore `template` (Terraform state often carries an empty one).
 */

export type TransformForm = 'ORIGINAL' | 'JSONPATH' | 'CONSTANT' | 'TEMPLATE';

/** One entry of a target's `param_list`. */
export interface TargetParam {
  resourceKey: string;
  form: TransformForm;
  value?: string;
  template?: string;
}

/** EventBridge's limit on a param's `value` and on its `template`, in characters. */
export const TRANSFORM_TEXT_LIMIT = 10_240;

const FORMS: readonly TransformForm[] = ['ORIGINAL', 'JSONPATH', 'CONSTANT', 'TEMPLATE'];
const PLACEHOLDER = /\$\{([^${}\s]+)\}/g;

/** A checked param: what it makes of an event. */
export type CompiledTransform = (event: unknown) => unknown;

const compiled = new WeakMap<TargetParam, { form: unknown; value: unknown; template: unknown; transform: CompiledTransform }>();

/**
 * What one param of a rule's target makes of an event (ORIGINAL: the event; JSONPATH: the value
 * at the path, undefined when absent; CONSTANT: value; TEMPLATE: template with ${var} replaced,
 * parsed as JSON when the template is JSON, else the string). Throws
 * RollcallError('invalid-input') for an invalid param. A param is compiled once and remembered
 * (by object, as long as its fields stay the same).
 */
export function transformParam(event: unknown, param: TargetParam): unknown {
  let entry = compiled.get(param);
  if (!entry || entry.form !== param.form || entry.value !== param.value || entry.template !== param.template) {
    entry = { form: param.form, value: param.value, template: param.template, transform: compileTargetParam(param) };
    compiled.set(param, entry);
  }
  return entry.transform(event);
}

/** Checks a param once (at rule load time) so delivery never fails on a bad one. */
export function checkTargetParam(param: TargetParam): void {
  compileTargetParam(param);
}

/** Checks a param and compiles it into what it makes of an event (the work transformParam caches). */
export function compileTargetParam(param: TargetParam): CompiledTransform {
  if (typeof param !== 'object' || param === null) {
    throw invalid('param', 'a target param is an object with resourceKey, form and, for some forms, value and template');
  }
  const { resourceKey, form, value, template } = param as Partial<Record<keyof TargetParam, unknown>>;
  if (typeof resourceKey !== 'string' || resourceKey === '') {
    throw invalid('param', `resourceKey must name what the param fills (e.g. "Body", "url"); got ${JSON.stringify(resourceKey) ?? 'nothing'}`);
  }
  const label = `param ${resourceKey}`;
  if (typeof form !== 'string' || !FORMS.includes(form as TransformForm)) {
    throw invalid(label, `form must be one of ${FORMS.join(', ')}; got ${JSON.stringify(form) ?? 'nothing'}`);
  }
  for (const [name, text] of [['value', value], ['template', template]] as const) {
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw invalid(label, `${name} must be a string; got ${typeof text}`);
    }
    if (typeof text === 'string' && text.length > TRANSFORM_TEXT_LIMIT) {
      throw invalid(label, `${name} is ${text.length} characters; EventBridge allows at most ${TRANSFORM_TEXT_LIMIT}: shorten it`);
    }
  }
  switch (form as TransformForm) {
    case 'ORIGINAL':
      return (event) => event;
    case 'CONSTANT': {
      if (typeof value !== 'string') throw invalid(label, 'CONSTANT delivers its value: give value (a string)');
      return () => value;
    }
    case 'JSONPATH': {
      if (typeof value !== 'string') throw invalid(label, 'JSONPATH needs value, the path of what to deliver, e.g. "$.data.commandName"');
      return compileJsonPath(value, `${label}: value`);
    }
    case 'TEMPLATE':
      return compileTemplate(label, value, template);
  }
}

interface Placeholder {
  get: JsonPathGetter;
  /** Between the quotes of a JSON string in the template. */
  inString: boolean;
}

function compileTemplate(label: string, value: unknown, template: unknown): CompiledTransform {
  if (typeof value !== 'string') {
    throw invalid(label, 'TEMPLATE needs value, a JSON object of variables, e.g. {"cmd": "$.data.commandName"}');
  }
  if (typeof template !== 'string') {
    throw invalid(label, 'TEMPLATE needs template, the text or JSON with ${variable} placeholders');
  }
  let variables: unknown;
  try {
    variables = JSON.parse(value);
  } catch (error) {
    throw invalid(label, `value is not valid JSON (${(error as Error).message}); write an object of variables, e.g. {"cmd": "$.data.commandName"}`);
  }
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw invalid(label, 'value must be a JSON object of variables, name → JSONPath, e.g. {"cmd": "$.data.commandName"}');
  }
  const getters = new Map<string, JsonPathGetter>();
  for (const [name, path] of Object.entries(variables)) {
    if (typeof path !== 'string') {
      throw invalid(label, `variable ${JSON.stringify(name)} must map to a JSONPath string (variables do not nest); got ${Array.isArray(path) ? 'an array' : path === null ? 'null' : typeof path}`);
    }
    getters.set(name, compileJsonPath(path, `${label}: variable ${JSON.stringify(name)}`));
  }

  // Split the template into literal text and placeholders, noting which placeholders sit inside
  // a JSON string (an unescaped quote opens or closes one).
  const literals: string[] = [];
  const placeholders: Placeholder[] = [];
  let inString = false;
  let escaped = false;
  let last = 0;
  const scan = (from: number, to: number): void => {
    for (let at = from; at < to; at++) {
      const char = template[at];
      if (escaped) escaped = false;
      else if (inString && char === '\\') escaped = true;
      else if (char === '"') inString = !inString;
    }
  };
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    const get = getters.get(name);
    if (!get) {
      const known = [...getters.keys()];
      throw invalid(label, `template uses \${${name}} but value defines ${known.length === 0 ? 'no variables' : `only ${known.map((key) => JSON.stringify(key)).join(', ')}`}; add "${name}" to value or fix the name`);
    }
    scan(last, match.index);
    literals.push(template.slice(last, match.index));
    placeholders.push({ get, inString });
    last = match.index + match[0].length;
  }
  literals.push(template.slice(last));

  const probe = literals.reduce((text, literal, index) => text + (index === 0 ? '' : placeholders[index - 1]!.inString ? 'x' : '0') + literal, '');
  const json = isJson(probe);
  const count = placeholders.length;
  if (json) {
    return (event) => {
      let text = literals[0]!;
      for (let index = 0; index < count; index++) {
        const placeholder = placeholders[index]!;
        text += (placeholder.inString ? stringContent : jsonValue)(placeholder.get(event)) + literals[index + 1]!;
      }
      // Valid for every value except in odd spots (`-${n}` with a string n): then the text.
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    };
  }
  return (event) => {
    let text = literals[0]!;
    for (let index = 0; index < count; index++) text += plainText(placeholders[index]!.get(event)) + literals[index + 1]!;
    return text;
  };
}

/** A value's text as the content of a JSON string (escaped, no quotes). */
function stringContent(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text).slice(1, -1);
}

function jsonValue(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** A value as text: a string as it is, anything else as JSON; nothing for a missing value. */
export function plainText(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether `text` parses as JSON. */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function invalid(where: string, message: string): RollcallError {
  return new RollcallError('invalid-input', `${where}: ${message}`);
}
