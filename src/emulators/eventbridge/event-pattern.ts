import { RollcallError } from '../../config/errors.js';
import { nearestName } from '../../config/nearest-name.js';

/**
 * Alibaba Cloud EventBridge's event patterns, compiled once: a function generated per pattern
 * object (see compileObject), with closures for the rarer conditions and for arrays.
 *
 * A pattern is a JSON object shaped like the events it selects: every key must match (AND); a
 * key's value is either an object (the event's field is an object: match its fields) or an array
 * of conditions, any of which may match (OR). Values compare character by character and by JSON
 * type: `"5"` is not `5`, `""` is not `null`, `"Failed"` is not `"failed"`.
 *
 * Conditions, each an entry of a field's array:
 *
 * | entry | matches |
 * |---|---|
 * | `"acs.ecs"`, `5`, `true`, `null`, `""` | exactly that JSON value |
 * | `{"prefix": "acs."}`, `{"suffix": ".jpg"}`, `{"contains": "Normal"}` | strings only |
 * | `{"anything-but": "x"}`, `{"anything-but": 5}`, `{"anything-but": ["a", 5]}` | any present value (string, number, boolean, null) other than those |
 * | `{"anything-but": {"prefix": "init"}}`, `{"anything-but": {"suffix": ".tmp"}}` | strings that do not start (end) with it; other types do not match |
 * | `{"numeric": [">", 0, "<=", 5]}` | JSON numbers only (not numeric strings: Cloud Assistant's `data.exitCode` is a string); one comparison or a lower and an upper bound; operators `<` `<=` `=` `>=` `>` |
 * | `{"cidr": "10.0.0.0/24"}` | strings that are dotted-quad IPv4 addresses in that network; IPv6 is refused |
 * | `{"exists": true}` / `{"exists": false}` | the field is present (any value, `null` and objects included) / absent |
 *
 * Choices where Alibaba's documentation is silent (mostly as AWS EventBridge, whose pattern
 * language Alibaba's follows; each is a row of the tests):
 * - `anything-but` takes a prefix or a suffix, not `contains` (Alibaba documents the prefix form;
 *   the suffix form is AWS's and harmless to accept). The field must be present.
 * - An array in the event matches when ANY of its elements matches (nested arrays are flattened);
 *   an empty array counts as an absent field. A nested pattern meets an array of objects when one
 *   element matches all of it.
 * - A nested pattern on a field that is absent or not an object sees all its fields absent, so
 *   only `{"exists": false}` conditions can hold there.
 * - Empty objects and empty arrays are refused (they filter nothing or match nothing), as are
 *   cidr blocks with host bits set (`10.0.0.5/24`: the intended block is ambiguous).
 */

/** A compiled pattern: true when the event matches. */
export type EventMatcher = (event: unknown) => boolean;

/** What a field's conditions make of the field's value (undefined when the event lacks it). */
type FieldMatcher = (value: unknown) => boolean;
/** One condition (or all the exact values of a field) against one non-array value. */
type ValuePredicate = (value: unknown) => boolean;

const OPERATORS = ['prefix', 'suffix', 'contains', 'anything-but', 'numeric', 'cidr', 'exists'] as const;
const NUMERIC_OPERATORS = ['<', '<=', '=', '>=', '>'] as const;
type NumericOperator = (typeof NUMERIC_OPERATORS)[number];

/**
 * Compiles an EventBridge event pattern (object, or its JSON text); throws
 * RollcallError('invalid-input', '<where in the pattern>: <what is wrong and how to fix it>') for
 * an invalid one. Where is a JSONPath into the pattern (`$.data.commandName[0].prefix`).
 */
export function compileEventPattern(pattern: unknown): EventMatcher {
  let parsed = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch (error) {
      throw invalid('$', `the pattern is not valid JSON (${(error as Error).message}); write a JSON object such as {"source": ["acs.ecs"]}`);
    }
  }
  if (!isPlainObject(parsed)) {
    throw invalid('$', `a pattern is a JSON object of event fields, e.g. {"source": ["acs.ecs"]}; got ${describe(parsed)}`);
  }
  return compileObject(parsed, '$');
}

/**
 * The matcher of one object of the pattern, as a function generated for its shape.
 *
 * Why generated: closures made from the same source share V8's inline caches, so with many
 * rules every property read (`value[name]`) and every call of a condition sees all the rules'
 * keys and conditions and goes megamorphic (about 30x slower than a plain `===` loop with 1,000
 * rules). The generated function reads its fields with constant keys and inlines the common
 * conditions, so its caches stay monomorphic. The source holds only the shape (JSON.stringify'd
 * keys, operators); values and the compiled closures come in through `p`. So nothing from the
 * pattern is ever evaluated as code, and patterns of one shape (1,000 rules on source, type and a
 * command prefix) share one function's code (a function per rule: 3x slower at 1,000 rules, as
 * the code of each no longer stays in the processor's caches).
 */
function compileObject(pattern: Record<string, unknown>, where: string): FieldMatcher {
  // p[0]: whether the pattern holds where none of its fields exist; p[1]: arrays; then conditions.
  const generator: Generator = { p: [false, undefined], variables: 0 };
  const lines = objectLines(pattern, where, 'x', generator, '  ');
  const declared = Array.from({ length: generator.variables }, (_, index) => `f${index}`).join(', ');
  const source = [
    '"use strict";',
    'return function match(x) {',
    '  if (typeof x !== "object" || x === null) return p[0];',
    '  if (Array.isArray(x)) return p[1](x);',
    `  let ${declared};`,
    ...lines,
    '  return true;',
    '};',
  ].join('\n');
  const p = generator.p;
  let factory = FACTORIES.get(source);
  if (!factory) {
    // See above: the source is keys, operators and references into p only.
    factory = new Function('p', source) as (p: unknown[]) => FieldMatcher;
    if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.clear();
    FACTORIES.set(source, factory);
  }
  const match = factory(p);
  p[0] = match({});
  p[1] = (values: readonly unknown[]): boolean => {
    let any = false;
    for (const element of values) {
      if (typeof element === 'object' && element !== null && !Array.isArray(element)) {
        if (match(element)) return true;
        any = true;
      }
    }
    return any ? false : (p[0] as boolean);
  };
  return match;
}

/** Generated functions by source: the matchers of one shape are closures of one function. */
const FACTORIES = new Map<string, (p: unknown[]) => FieldMatcher>();
/** A bound on the shapes remembered (a bus has at most 50 rules; the bench 1,000). */
const MAX_FACTORIES = 2_000;

interface Generator {
  p: unknown[];
  /** How many field variables (f0, f1, …) the function declares. */
  variables: number;
}

/**
 * Statements that return false unless the plain object in `x` has every field of the pattern.
 * A nested object is checked inline when the event has a plain object there (the common case),
 * and by its own compiled matcher otherwise (absent, a scalar, an array of objects).
 */
function objectLines(pattern: Record<string, unknown>, where: string, x: string, generator: Generator, indent: string): string[] {
  const keys = Object.keys(pattern);
  if (keys.length === 0) {
    throw invalid(where, where === '$'
      ? 'an empty pattern filters nothing; give at least one field, e.g. {"source": ["acs.ecs"]}'
      : 'an empty object filters nothing; remove the key or give it at least one field');
  }
  const ref = (value: unknown): string => `p[${generator.p.push(value) - 1}]`;
  const lines: string[] = [];
  for (const key of keys) {
    const condition = pattern[key];
    const at = childPath(where, key);
    const f = `f${generator.variables++}`;
    const name = JSON.stringify(key);
    // Keys that Object.prototype also has ("constructor", "toString", "__proto__") are read as
    // own properties, or an event without them would seem to have them.
    const read = key in Object.prototype ? `(Object.hasOwn(${x}, ${name}) ? ${x}[${name}] : undefined)` : `${x}[${name}]`;
    lines.push(`${indent}${f} = ${read};`);
    if (isPlainObject(condition)) {
      const nested = compileObject(condition, at);
      lines.push(
        `${indent}if (typeof ${f} === "object" && ${f} !== null && !Array.isArray(${f})) {`,
        ...objectLines(condition, at, f, generator, `${indent}  `),
        `${indent}} else if (!${ref(nested)}(${f})) return false;`,
      );
    } else {
      const field = compileField(condition, at);
      const test = field.inline ? `(${field.inline(f, ref)}) || (Array.isArray(${f}) && ${ref(field.match)}(${f}))` : `${ref(field.match)}(${f})`;
      lines.push(`${indent}if (!(${test})) return false;`);
    }
  }
  return lines;
}

/** A field's matcher, and for the common conditions an expression to inline (true only for matching non-array values). */
interface CompiledField {
  match: FieldMatcher;
  inline?: InlineSource;
}

/** The conditions of a field that is not a nested object. */
function compileField(condition: unknown, where: string): CompiledField {
  if (!Array.isArray(condition)) {
    throw invalid(where, `a field's condition is an array of values or operators, or an object for the fields inside it; got ${describe(condition)}${isScalar(condition) ? `: write [${JSON.stringify(condition)}]` : ''}`);
  }
  if (condition.length === 0) {
    throw invalid(where, 'an empty array matches nothing; list at least one value or operator, e.g. ["acs.ecs"] or [{"exists": true}]');
  }
  const strings = new Set<string>();
  const numbers = new Set<number>();
  let matchTrue = false;
  let matchFalse = false;
  let matchNull = false;
  let existsTrue = false;
  let existsFalse = false;
  const operators: ValuePredicate[] = [];
  condition.forEach((entry, index) => {
    const at = `${where}[${index}]`;
    if (typeof entry === 'string') strings.add(entry);
    else if (typeof entry === 'number') numbers.add(checkNumber(entry, at));
    else if (entry === true) matchTrue = true;
    else if (entry === false) matchFalse = true;
    else if (entry === null) matchNull = true;
    else if (Array.isArray(entry)) {
      throw invalid(at, 'an array inside a field\'s array is not a condition; list the values directly, e.g. ["a", "b"]');
    } else if (isPlainObject(entry)) {
      const operator = compileOperator(entry, at);
      if (operator.kind === 'exists') {
        if (operator.exists) existsTrue = true;
        else existsFalse = true;
      } else {
        operators.push(operator.predicate);
      }
    } else {
      throw invalid(at, `${describe(entry)} is not a JSON value; use a string, number, boolean, null or an operator object`);
    }
  });
  let exact = exactPredicate(strings, numbers, matchTrue, matchFalse, matchNull);
  const exactValues: (string | number | boolean | null)[] = [...strings, ...numbers];
  if (matchTrue) exactValues.push(true);
  if (matchFalse) exactValues.push(false);
  if (matchNull) exactValues.push(null);
  if (exact && exactValues.length <= 8) {
    exact = inlinable(exact, (variable, ref) => exactValues.map((item) => `${variable} === ${ref(item)}`).join(' || '));
  }
  const predicates = exact ? [exact, ...operators] : operators;
  const value = anyOf(predicates);
  if (existsTrue) {
    // Any present value matches, whatever else is listed.
    return { match: (field) => (field === undefined ? existsFalse : Array.isArray(field) ? hasLeaf(field) || existsFalse : true) };
  }
  if (value === undefined) {
    // Only {"exists": false}.
    return { match: (field) => field === undefined || (Array.isArray(field) && !hasLeaf(field)) };
  }
  const match: FieldMatcher = (field) => {
    if (field === undefined) return existsFalse;
    if (!Array.isArray(field)) return value(field);
    return hasLeaf(field) ? someLeaf(field, value) : existsFalse;
  };
  const sources = predicates.map((predicate) => INLINE.get(predicate));
  if (existsFalse || sources.some((source) => source === undefined)) return { match };
  return { match, inline: (variable, ref) => sources.map((source) => source!(variable, ref)).join(' || ') };
}

/**
 * JavaScript source equivalent to a predicate, for compileObject to inline: a boolean expression
 * of the variable, false for undefined, arrays and objects.
 */
const INLINE = new WeakMap<ValuePredicate, InlineSource>();

/**
 * Source of a boolean expression of `variable`; values go in through `ref` (a reference into the
 * generated function's `p`), never as literals, so patterns of the same shape share one source.
 */
type InlineSource = (variable: string, ref: (value: unknown) => string) => string;

function inlinable(predicate: ValuePredicate, source: InlineSource): ValuePredicate {
  INLINE.set(predicate, (variable, ref) => `(${source(variable, ref)})`);
  return predicate;
}

function isScalarSource(variable: string): string {
  return `${variable} === null || typeof ${variable} === "string" || typeof ${variable} === "number" || typeof ${variable} === "boolean"`;
}

/** One predicate for all the exact values of a field, specialised for the common single string. */
function exactPredicate(strings: Set<string>, numbers: Set<number>, matchTrue: boolean, matchFalse: boolean, matchNull: boolean): ValuePredicate | undefined {
  const others = numbers.size > 0 || matchTrue || matchFalse || matchNull;
  if (!others) {
    if (strings.size === 0) return undefined;
    if (strings.size === 1) {
      const [only] = strings;
      return (value) => value === only;
    }
    return (value) => typeof value === 'string' && strings.has(value);
  }
  return (value) => {
    switch (typeof value) {
      case 'string':
        return strings.has(value);
      case 'number':
        return numbers.has(value);
      case 'boolean':
        return value ? matchTrue : matchFalse;
      default:
        return value === null && matchNull;
    }
  };
}

function anyOf(predicates: ValuePredicate[]): ValuePredicate | undefined {
  if (predicates.length === 0) return undefined;
  if (predicates.length === 1) return predicates[0];
  if (predicates.length === 2) {
    const [first, second] = predicates as [ValuePredicate, ValuePredicate];
    return (value) => first(value) || second(value);
  }
  return (value) => {
    for (const predicate of predicates) if (predicate(value)) return true;
    return false;
  };
}

function hasLeaf(values: readonly unknown[]): boolean {
  for (const value of values) {
    if (!Array.isArray(value) || hasLeaf(value)) return true;
  }
  return false;
}

function someLeaf(values: readonly unknown[], predicate: ValuePredicate): boolean {
  for (const value of values) {
    if (Array.isArray(value) ? someLeaf(value, predicate) : predicate(value)) return true;
  }
  return false;
}

type CompiledOperator = { kind: 'exists'; exists: boolean } | { kind: 'value'; predicate: ValuePredicate };

function compileOperator(entry: Record<string, unknown>, where: string): CompiledOperator {
  const keys = Object.keys(entry);
  if (keys.length !== 1) {
    throw invalid(where, keys.length === 0
      ? `an empty object is not a condition; use an operator such as {"prefix": "acs."} (operators: ${OPERATORS.join(', ')})`
      : `an operator object has exactly one key; got ${keys.length} (${keys.map((key) => JSON.stringify(key)).join(', ')}): make each its own entry of the array`);
  }
  const name = keys[0]!;
  const argument = entry[name];
  const at = childPath(where, name);
  switch (name) {
    case 'prefix': {
      const prefix = stringArgument(argument, at, '{"prefix": "acs."}');
      return { kind: 'value', predicate: inlinable((value) => typeof value === 'string' && value.startsWith(prefix), (v, ref) => `typeof ${v} === "string" && ${v}.startsWith(${ref(prefix)})`) };
    }
    case 'suffix': {
      const suffix = stringArgument(argument, at, '{"suffix": ".jpg"}');
      return { kind: 'value', predicate: inlinable((value) => typeof value === 'string' && value.endsWith(suffix), (v, ref) => `typeof ${v} === "string" && ${v}.endsWith(${ref(suffix)})`) };
    }
    case 'contains': {
      const part = stringArgument(argument, at, '{"contains": "Normal"}');
      return { kind: 'value', predicate: inlinable((value) => typeof value === 'string' && value.includes(part), (v, ref) => `typeof ${v} === "string" && ${v}.includes(${ref(part)})`) };
    }
    case 'anything-but':
      return { kind: 'value', predicate: compileAnythingBut(argument, at) };
    case 'numeric':
      return { kind: 'value', predicate: compileNumeric(argument, at) };
    case 'cidr':
      return { kind: 'value', predicate: compileCidr(argument, at) };
    case 'exists':
      if (typeof argument !== 'boolean') {
        throw invalid(at, `exists takes true (the field is present) or false (it is absent); got ${describe(argument)}`);
      }
      return { kind: 'exists', exists: argument };
    default: {
      const near = nearestName(name.toLowerCase(), OPERATORS);
      throw invalid(where, `unknown operator ${JSON.stringify(name)}${near ? ` (did you mean "${near}"?)` : ''}; operators are ${OPERATORS.join(', ')}`);
    }
  }
}

function stringArgument(argument: unknown, where: string, example: string): string {
  if (typeof argument !== 'string') {
    const name = where.slice(where.lastIndexOf('.') + 1);
    throw invalid(where, `${name} takes a string, e.g. ${example}; got ${describe(argument)}`);
  }
  return argument;
}

const ANYTHING_BUT_EXAMPLE = 'a string, a number, a list of them, or {"prefix": "..."} / {"suffix": "..."}';

function compileAnythingBut(argument: unknown, where: string): ValuePredicate {
  if (typeof argument === 'string' || typeof argument === 'number') {
    const excluded = typeof argument === 'number' ? checkNumber(argument, where) : argument;
    return inlinable((value) => isScalar(value) && value !== excluded, (v, ref) => `(${isScalarSource(v)}) && ${v} !== ${ref(excluded)}`);
  }
  if (Array.isArray(argument)) {
    if (argument.length === 0) {
      throw invalid(where, `an empty list excludes nothing; list the values to exclude, e.g. {"anything-but": ["stopped", "overloaded"]}`);
    }
    const excluded = new Set<string | number>();
    argument.forEach((item, index) => {
      if (typeof item === 'string') excluded.add(item);
      else if (typeof item === 'number') excluded.add(checkNumber(item, `${where}[${index}]`));
      else throw invalid(`${where}[${index}]`, `anything-but lists strings and numbers; got ${describe(item)}`);
    });
    const list = [...excluded];
    const predicate: ValuePredicate = (value) => isScalar(value) && !excluded.has(value as string | number);
    return list.length > 8 ? predicate : inlinable(predicate, (v, ref) => `(${isScalarSource(v)}) && ${list.map((item) => `${v} !== ${ref(item)}`).join(' && ')}`);
  }
  if (isPlainObject(argument)) {
    const keys = Object.keys(argument);
    const name = keys[0];
    if (keys.length === 1 && (name === 'prefix' || name === 'suffix')) {
      const text = stringArgument(argument[name], childPath(where, name), `{"anything-but": {"${name}": "init"}}`);
      return name === 'prefix'
        ? inlinable((value) => typeof value === 'string' && !value.startsWith(text), (v, ref) => `typeof ${v} === "string" && !${v}.startsWith(${ref(text)})`)
        : inlinable((value) => typeof value === 'string' && !value.endsWith(text), (v, ref) => `typeof ${v} === "string" && !${v}.endsWith(${ref(text)})`);
    }
    throw invalid(where, `anything-but takes ${ANYTHING_BUT_EXAMPLE}; got an object with ${keys.length === 0 ? 'no keys' : keys.map((key) => JSON.stringify(key)).join(', ')}`);
  }
  throw invalid(where, `anything-but takes ${ANYTHING_BUT_EXAMPLE}; got ${describe(argument)}`);
}

function compileNumeric(argument: unknown, where: string): ValuePredicate {
  const example = 'e.g. {"numeric": [">", 0, "<=", 5]} or {"numeric": ["=", 3]}';
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    throw invalid(where, `numeric takes one comparison (operator, number) or two (a lower and an upper bound), ${example}; got ${describe(argument)}`);
  }
  const comparisons: { operator: NumericOperator; bound: number }[] = [];
  for (let index = 0; index < argument.length; index += 2) {
    const operator = argument[index];
    const bound = argument[index + 1];
    if (typeof operator !== 'string' || !(NUMERIC_OPERATORS as readonly string[]).includes(operator)) {
      throw invalid(`${where}[${index}]`, `a numeric operator is one of ${NUMERIC_OPERATORS.join(' ')}; got ${describe(operator)}`);
    }
    if (typeof bound !== 'number') {
      throw invalid(`${where}[${index + 1}]`, `${operator} compares with a number, ${example}; got ${describe(bound)}`);
    }
    comparisons.push({ operator: operator as NumericOperator, bound: checkNumber(bound, `${where}[${index + 1}]`) });
  }
  if (comparisons.length === 1) {
    const { operator, bound } = comparisons[0]!;
    return inlinable(comparison(operator, bound), (v, ref) => `typeof ${v} === "number" && ${v} ${operator === '=' ? '===' : operator} ${ref(bound)}`);
  }
  const lower = comparisons.find((c) => c.operator === '>' || c.operator === '>=');
  const upper = comparisons.find((c) => c.operator === '<' || c.operator === '<=');
  if (!lower || !upper) {
    throw invalid(where, `two comparisons must be a lower bound (> or >=) and an upper bound (< or <=), ${example}; for one exact number use ["=", n] alone`);
  }
  const empty = lower.bound > upper.bound || (lower.bound === upper.bound && (lower.operator === '>' || upper.operator === '<'));
  if (empty) {
    throw invalid(where, `no number is ${lower.operator} ${lower.bound} and ${upper.operator} ${upper.bound}; swap the bounds or widen the range`);
  }
  const low = lower.bound;
  const high = upper.bound;
  const source: InlineSource = (v, ref) => `typeof ${v} === "number" && ${v} ${lower.operator} ${ref(low)} && ${v} ${upper.operator} ${ref(high)}`;
  // The four range shapes, each its own closure so the hot path is two comparisons.
  if (lower.operator === '>') {
    return inlinable(upper.operator === '<'
      ? (value) => typeof value === 'number' && value > low && value < high
      : (value) => typeof value === 'number' && value > low && value <= high, source);
  }
  return inlinable(upper.operator === '<'
    ? (value) => typeof value === 'number' && value >= low && value < high
    : (value) => typeof value === 'number' && value >= low && value <= high, source);
}

function comparison(operator: NumericOperator, bound: number): ValuePredicate {
  switch (operator) {
    case '<':
      return (value) => typeof value === 'number' && value < bound;
    case '<=':
      return (value) => typeof value === 'number' && value <= bound;
    case '=':
      return (value) => value === bound;
    case '>=':
      return (value) => typeof value === 'number' && value >= bound;
    case '>':
      return (value) => typeof value === 'number' && value > bound;
  }
}

function compileCidr(argument: unknown, where: string): ValuePredicate {
  if (typeof argument !== 'string') {
    throw invalid(where, `cidr takes an IPv4 block as a string, e.g. {"cidr": "10.0.0.0/24"}; got ${describe(argument)}`);
  }
  if (argument.includes(':')) {
    throw invalid(where, `${JSON.stringify(argument)} is IPv6; EventBridge's cidr matches IPv4 blocks only, e.g. "10.0.0.0/24"`);
  }
  const slash = argument.indexOf('/');
  const address = parseIpv4(slash < 0 ? argument : argument.slice(0, slash));
  const bitsText = slash < 0 ? '' : argument.slice(slash + 1);
  if (address === undefined || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(bitsText)) {
    throw invalid(where, `${JSON.stringify(argument)} is not an IPv4 block; write address/prefix-length, e.g. "10.0.0.0/24" (four numbers 0–255, a length 0–32)`);
  }
  const bits = Number(bitsText);
  // >>> 0 keeps the mask an unsigned 32-bit number; a shift by 32 would be a shift by 0 in JS.
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const network = (address & mask) >>> 0;
  if (network !== address) {
    throw invalid(where, `${JSON.stringify(argument)} has host bits set; the block is ${formatIpv4(network)}/${bits}`);
  }
  return (value) => {
    if (typeof value !== 'string') return false;
    const ip = parseIpv4(value);
    return ip !== undefined && ((ip & mask) >>> 0) === network;
  };
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number; undefined for anything else (leading zeros included: octal or decimal is ambiguous). */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let result = 0;
  for (const part of parts) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    result = result * 256 + octet;
  }
  return result;
}

function formatIpv4(address: number): string {
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

function checkNumber(value: number, where: string): number {
  if (!Number.isFinite(value)) throw invalid(where, `${value} is not a JSON number; use a finite number`);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** `$.data.commandName`, or `$['a-b']` for a key that is not a plain name. */
function childPath(parent: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `the array ${truncate(JSON.stringify(value))}`;
  switch (typeof value) {
    case 'string':
      return `the string ${truncate(JSON.stringify(value))}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return `the object ${truncate(JSON.stringify(value))}`;
    default:
      return `a JavaScript ${typeof value}`;
  }
}

function truncate(text: string | undefined): string {
  if (text === undefined) return 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}



function invalid(where: string, message: string): RollcallError {
  return new RollcallError('invalid-input', `${where}: ${message}`);
}
