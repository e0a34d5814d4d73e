import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { SourceProblem } from '../config/errors.js';

export type YamlPath = readonly PropertyKey[];

/** How many alias expansions one file may have: more is a "billion laughs" file, not a user record. */
const MAX_ALIAS_COUNT = 100;

/**
 * One parsed YAML file that can say where any of its values stands: every problem rollcall reports
 * about desired state carries the line and column of the node at fault.
 */
export class YamlFile {
  private constructor(
    /** The path printed in problems. */
    readonly path: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Parses `text`; a file that is not one YAML mapping, has duplicate keys, or expands aliases
   * beyond reason comes back as problems, never as an exception.
   */
  static parse(path: string, text: string): { file: YamlFile; value: unknown } | { problems: SourceProblem[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        problems: doc.errors.map((error) => ({
          file: path,
          line: error.linePos?.[0].line ?? 0,
          col: error.linePos?.[0].col ?? 0,
          message: `YAML: ${firstLine(error.message).replace(/ at line \d+, column \d+:?$/, '')}`,
        })),
      };
    }
    const file = new YamlFile(path, doc, lines);
    if (doc.contents === null) return { problems: [file.problem([], 'is empty: expected a mapping of fields')] };
    if (!isMap(doc.contents)) return { problems: [file.problem([], 'must be a mapping of fields (key: value), not a list or a single value')] };
    try {
      return { file, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
    } catch (error) {
      return { problems: [file.problem([], `YAML: ${firstLine(String((error as Error).message))}`)] };
    }
  }

  /** A problem at the deepest node that exists along `path` (the parent of a missing field). */
  problem(path: YamlPath, message: string): SourceProblem {
    return { file: this.path, ...this.position(this.nodeAlong(path)), message };
  }

  /** A problem at the key (not the value) of field `key` in the mapping at `path`. */
  keyProblem(path: YamlPath, key: string, message: string): SourceProblem {
    const map = this.doc.getIn(path as unknown[], true);
    if (isMap(map)) {
      const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
      if (pair && isScalar(pair.key)) return { file: this.path, ...this.position(pair.key), message };
    }
    return this.problem(path, message);
  }

  /** Turns zod's issues for this file into problems, with positions and messages that say what to fix. */
  schemaProblems(error: z.ZodError, schema: z.ZodType): SourceProblem[] {
    return error.issues.flatMap((issue) => this.issueProblems(issue, [], schema));
  }

  private issueProblems(issue: z.core.$ZodIssue, base: PropertyKey[], schema: z.ZodType): SourceProblem[] {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, path);
      return issue.keys.map((key) =>
        this.keyProblem(path, key, `${describe([...path, key])}: unknown field${allowed ? ` (allowed here: ${allowed.join(', ')})` : ''}`),
      );
    }
    if (issue.code === 'invalid_key') {
      // A record key that fails its own schema (a hostgroup or instance id): its message is nested.
      const key = String(path[path.length - 1]);
      return issue.issues.map((inner) => this.keyProblem(path.slice(0, -1), key, `${describe(path)}: ${inner.message}`));
    }
    if (issue.code === 'invalid_union') {
      // Report the issues of the alternative whose type matched (an object with a typo in one
      // field), not "must be A or B" for a value that clearly meant B.
      const matched = issue.errors.filter((issues) => !issues.some((inner) => inner.path.length === 0 && inner.code === 'invalid_type'));
      if (matched.length === 1) return matched[0]!.flatMap((inner) => this.issueProblems(inner, path, schema));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined && path.length > 0) {
      return [this.problem(path.slice(0, -1), `${describe(path)}: missing required field`)];
    }
    return [this.problem(path, `${describe(path)}: ${issue.message}`)];
  }

  private nodeAlong(path: YamlPath): Node | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth) as unknown[], true);
      if (node && typeof node === 'object' && 'range' in node) return node as Node;
    }
    return undefined;
  }

  private position(node: Node | undefined): { line: number; col: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, col: 1 };
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }
}

/** `roles[1].until`, the way a user would point at the value. */
export function describe(path: YamlPath): string {
  if (path.length === 0) return 'file';
  return path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/** The keys a strict object in `schema` at `path` accepts, for "unknown field" messages. */
function allowedKeys(schema: z.ZodType, path: YamlPath): string[] | undefined {
  let current: z.core.$ZodType | undefined = schema;
  for (const segment of path) {
    current = child(unwrap(current), segment);
    if (!current) return undefined;
  }
  const last = unwrap(current);
  const object = last?._zod.def.type === 'union' ? child(last, '') : last;
  const def = object?._zod.def;
  return def?.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : undefined;
}

function child(schema: z.core.$ZodType | undefined, segment: PropertyKey): z.core.$ZodType | undefined {
  const def = schema?._zod.def;
  switch (def?.type) {
    case 'object':
      return (def as z.core.$ZodObjectDef).shape[String(segment)];
    case 'array':
      return (def as z.core.$ZodArrayDef).element;
    case 'record':
      return (def as z.core.$ZodRecordDef).valueType;
    case 'tuple':
      return (def as z.core.$ZodTupleDef).items[Number(segment)];
    case 'union':
      // The object alternative: unknown keys can only come from one.
      return (def as z.core.$ZodUnionDef).options.map(unwrap).find((option) => option?._zod.def.type === 'object');
    default:
      return undefined;
  }
}

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  while (current) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}
