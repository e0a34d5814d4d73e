/*
 * The few Terraform expressions a synthesized stack leaves in its JSON, resolved the way
 * `terraform apply` would for the values the emulator needs: a bus name taken from the bus
 * resource (`${alicloud_event_bridge_event_bus.bus.event_bus_name}`), a variable
 * (`${var.ingress_secret}`) or a local. Anything else (functions, data sources, attributes only
 * the cloud knows) is not guessed: the caller gets a message that names the expression.
 */

/** What `${…}` expressions may refer to: the Terraform JSON document, and the variables' values. */
export interface TerraformScope {
  /** The parsed `cdk.tf.json`. */
  document: Record<string, unknown>;
  /** Values of `var.NAME`, first choice (given by a caller in code). */
  variables: Readonly<Record<string, string>>;
  /** `TF_VAR_NAME` is read from here when `variables` has no NAME, as Terraform does. */
  env: NodeJS.ProcessEnv;
}

/** An expression that has no value the emulator can know. */
export class UnresolvedReference extends Error {
  override readonly name = 'UnresolvedReference';
}

/**
 * Attributes whose value equals another attribute of the same resource: `id` is what the provider
 * sets it to after create (the bus's id is its name, the event source's id is its name).
 */
const ID_ATTRIBUTE: Readonly<Record<string, string>> = {
  alicloud_event_bridge_event_bus: 'event_bus_name',
  alicloud_event_bridge_event_source_v2: 'event_source_name',
  alicloud_event_bridge_event_source: 'event_source_name',
  alicloud_event_bridge_api_destination: 'api_destination_name',
  alicloud_event_bridge_connection: 'connection_name',
};

const MAX_DEPTH = 16;

/**
 * The value of a string from the Terraform JSON: literal text as is (`$${` is Terraform's escape of
 * a literal `${`), a string that is one `${ref}` the referenced value (of whatever type), and a
 * string with references inside them put in as text.
 *
 * @throws UnresolvedReference naming the expression that cannot be resolved and what would fix it.
 */
export function resolveTerraformString(text: string, scope: TerraformScope, depth = 0): unknown {
  if (!text.includes('${') && !text.includes('%{')) return text;
  if (depth > MAX_DEPTH) throw new UnresolvedReference(`${text} refers to itself in a loop`);
  const parts = splitTemplate(text);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only !== undefined && typeof only !== 'string') return resolveExpression(only.expression, scope, depth);
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const value = resolveExpression(part.expression, scope, depth);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new UnresolvedReference(`\${${part.expression}} is ${value === null ? 'null' : typeof value}, not text: it cannot be part of the string ${JSON.stringify(text)}`);
    })
    .join('');
}

/**
 * A Terraform string template as literal text and `${…}` expressions. An expression ends at the
 * brace that balances its opening one (braces inside quoted strings do not count), so
 * `${jsonencode({…})}` is one expression; `$${` and `%%{` are a literal `${` and `%{`.
 */
function splitTemplate(text: string): (string | { expression: string })[] {
  const parts: (string | { expression: string })[] = [];
  let literal = '';
  let at = 0;
  while (at < text.length) {
    if (text.startsWith('$${', at) || text.startsWith('%%{', at)) {
      literal += `${text[at]}{`;
      at += 3;
      continue;
    }
    if (text.startsWith('%{', at)) throw new UnresolvedReference(`${JSON.stringify(text.slice(at, at + 80))} is a Terraform template directive, which the emulator does not evaluate: write %%{ for a literal %{`);
    if (!text.startsWith('${', at)) {
      literal += text[at];
      at++;
      continue;
    }
    let depth = 1;
    let quoted = false;
    let end = at + 2;
    for (; end < text.length && depth > 0; end++) {
      const char = text[end];
      if (quoted) {
        if (char === '\\') end++;
        else if (char === '"') quoted = false;
      } else if (char === '"') quoted = true;
      else if (char === '{') depth++;
      else if (char === '}') depth--;
    }
    if (depth > 0) throw new UnresolvedReference(`${JSON.stringify(text.slice(at, at + 80))} opens a Terraform expression that never closes`);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ expression: text.slice(at + 2, end - 1).trim() });
    at = end;
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return parts;
}

/** Resolves every string inside a JSON value (objects and lists walked). */
export function resolveTerraformValue(value: unknown, scope: TerraformScope, depth = 0): unknown {
  if (typeof value === 'string') return resolveTerraformString(value, scope, depth);
  if (Array.isArray(value)) return value.map((item) => resolveTerraformValue(item, scope, depth));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveTerraformValue(item, scope, depth)]));
  }
  return value;
}

function resolveExpression(expression: string, scope: TerraformScope, depth: number): unknown {
  const encoded = /^jsonencode\(\s*(\{[\s\S]*\})\s*\)$/.exec(expression);
  if (encoded) return JSON.stringify(objectLiteral(encoded[1]!, expression, scope, depth));
  const parts = expression.split('.');
  if (!parts.every((part) => /^[A-Za-z_][A-Za-z0-9_-]*$/.test(part))) {
    throw new UnresolvedReference(`\${${expression}} is a Terraform expression the emulator does not evaluate (only resource attributes, var.NAME and local.NAME): write the value itself in the stack`);
  }
  const [head, name, attribute, ...rest] = parts;
  if (head === 'var' && name !== undefined && attribute === undefined) return variableValue(name, scope);
  if (head === 'local' && name !== undefined && attribute === undefined) {
    const locals = record(scope.document['locals']);
    if (locals === undefined || !(name in locals)) throw new UnresolvedReference(`\${${expression}}: the file has no local ${name}`);
    return resolveTerraformValue(locals[name], scope, depth + 1);
  }
  if (head === 'data') throw new UnresolvedReference(`\${${expression}} reads a data source, which only the cloud can answer: give the value as a variable instead`);
  if (head !== undefined && name !== undefined && attribute !== undefined && rest.length === 0) {
    const resource = record(record(record(scope.document['resource'])?.[head])?.[name]);
    if (resource === undefined) throw new UnresolvedReference(`\${${expression}}: the file has no resource ${head}.${name}`);
    const own = attribute === 'id' ? (ID_ATTRIBUTE[head] ?? attribute) : attribute;
    if (!(own in resource)) throw new UnresolvedReference(`\${${expression}}: ${head}.${name} sets no ${attribute} (a value only the cloud knows after apply); use a value the stack sets`);
    return resolveTerraformValue(resource[own], scope, depth + 1);
  }
  throw new UnresolvedReference(`\${${expression}} is not a reference the emulator resolves (resource attributes, var.NAME and local.NAME)`);
}

const OBJECT_ENTRY = /^\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_-]*))\s*[=:]\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_.-]*))\s*(?:,|\n|$)/;

/**
 * An HCL object literal of `"key" = value` entries (a value a quoted string or a reference), as
 * cdktf writes `Fn.jsonencode({...})`: the one function the emulator evaluates, because header
 * parameters are built with it.
 */
function objectLiteral(text: string, expression: string, scope: TerraformScope, depth: number): Record<string, unknown> {
  let rest = text.slice(1, -1).trim();
  const object: Record<string, unknown> = {};
  while (rest !== '') {
    const entry = OBJECT_ENTRY.exec(rest);
    if (!entry) throw new UnresolvedReference(`\${${expression}}: jsonencode of anything but an object of "key" = "text" or reference entries is not evaluated by the emulator`);
    const key = entry[1] !== undefined ? (JSON.parse(`"${entry[1]}"`) as string) : entry[2]!;
    object[key] = entry[3] !== undefined ? (JSON.parse(`"${entry[3]}"`) as string) : resolveExpression(entry[4]!, scope, depth);
    rest = rest.slice(entry[0].length).trim();
  }
  return object;
}

function variableValue(name: string, scope: TerraformScope): unknown {
  if (Object.hasOwn(scope.variables, name)) return scope.variables[name];
  const fromEnv = scope.env[`TF_VAR_${name}`];
  if (fromEnv !== undefined) return fromEnv;
  const declared = record(record(scope.document['variable'])?.[name]);
  if (declared === undefined) throw new UnresolvedReference(`\${var.${name}}: the file declares no variable ${name}`);
  if ('default' in declared) return declared['default'];
  throw new UnresolvedReference(`\${var.${name}} has no value: set TF_VAR_${name} (secrets too: Terraform reads them the same way)`);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
