import { RollcallError } from '../../config/errors.js';

/**
 * The JSONPath subset EventBridge's transforms use: the root `$`, names after dots (`$.data.x`),
 * array indexes (`$.data.list[0]`) and quoted names for keys that are not plain names
 * (`$['a-b']`, `$["a b"]`). Wildcards, slices, filters and `..` select several values, which a
 * transform cannot deliver as one, so they are refused.
 */

/** A compiled path: the value at it, or undefined when the event has nothing there. */
export type JsonPathGetter = (root: unknown) => unknown;

/** One step of a path: a key of an object or an index of an array. */
export type JsonPathStep = { key: string } | { index: number };

/**
 * Parses a JSONPath into its steps; throws RollcallError('invalid-input') saying where the path
 * goes wrong. `label` names what holds the path in the message (e.g. `param Body: value`).
 */
export function parseJsonPath(path: string, label = 'JSONPath'): JsonPathStep[] {
  const fail = (at: number, what: string): never => {
    throw new RollcallError('invalid-input', `${label}: ${JSON.stringify(path)} at character ${at + 1}: ${what}; write a path such as $.data.commandName, $.data.list[0] or $['a-b']`);
  };
  if (!path.startsWith('$')) fail(0, 'a path starts with $ (the whole event)');
  const steps: JsonPathStep[] = [];
  let at = 1;
  while (at < path.length) {
    const char = path[at];
    if (char === '.') {
      if (path[at + 1] === '.') fail(at, '.. (recursive descent) selects many values; name each step');
      const match = /^[^.[\]'"\s*]+/.exec(path.slice(at + 1));
      if (!match) fail(path[at + 1] === '*' ? at + 1 : at, path[at + 1] === '*' ? '* selects many values; name the key' : 'a name must follow the dot');
      steps.push({ key: match![0] });
      at += 1 + match![0].length;
    } else if (char === '[') {
      const rest = path.slice(at + 1);
      const index = /^(0|[1-9][0-9]*)\]/.exec(rest);
      if (index) {
        steps.push({ index: Number(index[1]) });
        at += 1 + index[0].length;
        continue;
      }
      const quote = rest[0];
      if (quote !== "'" && quote !== '"') {
        fail(at + 1, rest[0] === '*' ? '[*] selects many values; give an index' : 'brackets hold an index (0, 1, …) or a quoted name');
      }
      let key = '';
      let cursor = 1;
      for (;;) {
        if (cursor >= rest.length) fail(at + 1, 'the quoted name is not closed');
        const c = rest[cursor]!;
        if (c === '\\') {
          const next = rest[cursor + 1];
          if (next === undefined) fail(at + 1 + cursor, 'a backslash must escape a character');
          key += next;
          cursor += 2;
        } else if (c === quote) {
          break;
        } else {
          key += c;
          cursor += 1;
        }
      }
      if (rest[cursor + 1] !== ']') fail(at + 1 + cursor + 1, 'a ] must close the quoted name');
      steps.push({ key });
      at += 1 + cursor + 2;
    } else {
      fail(at, `unexpected ${JSON.stringify(char)}; steps are .name, [index] or ['name']`);
    }
  }
  return steps;
}

/** Compiles a JSONPath into a getter (see parseJsonPath for the errors). */
export function compileJsonPath(path: string, label?: string): JsonPathGetter {
  const steps = parseJsonPath(path, label);
  if (steps.length === 0) return (root) => root;
  return (root) => {
    let value = root;
    for (const step of steps) {
      if ('index' in step) {
        if (!Array.isArray(value)) return undefined;
        value = value[step.index];
      } else {
        // Own keys only: "constructor" must not find Object.prototype's.
        if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step.key)) return undefined;
        value = (value as Record<string, unknown>)[step.key];
      }
      if (value === undefined) return undefined;
    }
    return value;
  };
}
