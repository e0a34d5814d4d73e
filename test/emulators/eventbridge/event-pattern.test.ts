import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { compileEventPattern } from '../../../src/emulators/eventbridge/event-pattern.js';

/** A TaskCompleted CloudEvent as Cloud Assistant publishes it, with a few extra fields to match on. */
const taskCompleted = {
  id: '45ef4dewdwe1-7c35-447a-bd93-fab****',
  source: 'acs.ecs',
  specversion: '1.0',
  type: 'ecs:CloudAssistant:TaskCompleted',
  subject: 'acs:ecs:cn-hangzhou:123456789098****:instance/i-bp1ecr4ffyzvvb4g****',
  time: '2026-11-27T08:00:00Z',
  aliyunaccountid: '123456789098****',
  aliyunregionid: 'cn-hangzhou',
  aliyunpublishaddr: '10.0.1.17',
  data: {
    commandId: 'c-hz01ptgmd4k****',
    commandName: 'rollcall-agent',
    exitCode: '0',
    finishTime: '2026-11-27T08:00:00Z',
    instanceId: 'i-bp1ecr4ffyzvvb4g****',
    invocationStatus: 'Success',
    attempts: 3,
    ratio: 0.5,
    dryRun: false,
    tags: ['web', 'prod'],
    sizes: [1, 250, 4096],
    note: null,
    empty: '',
    nothing: [],
    hosts: [{ name: 'a', ip: '10.0.0.9' }, { name: 'b', ip: '192.168.1.7' }],
    nested: { deeper: { state: 'Normal-Running' } },
  },
};

type Row = [name: string, pattern: unknown, expected: boolean, event?: unknown];

/** Every operator with events that match and events that do not; event defaults to taskCompleted. */
const rows: Row[] = [
  // exact strings, numbers, booleans
  ['exact string', { source: ['acs.ecs'] }, true],
  ['exact string: other value', { source: ['acs.oss'] }, false],
  ['exact string is case-sensitive', { source: ['ACS.ECS'] }, false],
  ['exact string: no trimming', { source: ['acs.ecs '] }, false],
  ['exact string: any entry of the array (OR)', { source: ['acs.oss', 'acs.ecs'] }, true],
  ['exact string: none of several', { source: ['acs.oss', 'acs.ram', 'acs.rds'] }, false],
  ['exact number', { data: { attempts: [3] } }, true],
  ['exact number: other number', { data: { attempts: [4] } }, false],
  ['exact number: fraction', { data: { ratio: [0.5] } }, true],
  ['exact number does not match a numeric string', { data: { exitCode: [0] } }, false],
  ['exact string does not match a number', { data: { attempts: ['3'] } }, false],
  ['exact string of a numeric string', { data: { exitCode: ['0'] } }, true],
  ['exact boolean false', { data: { dryRun: [false] } }, true],
  ['exact boolean true: false in the event', { data: { dryRun: [true] } }, false],
  ['exact boolean does not match a string', { data: { dryRun: ['false'] } }, false],
  ['mixed exact types in one array', { data: { attempts: ['x', true, 3] } }, true],
  ['[null] among other values does not match an object', { data: { nested: [null, 5, true] } }, false],
  ['mixed exact types, none equal', { data: { attempts: ['3', true, null] } }, false],
  // null and empty string
  ['[null] matches null', { data: { note: [null] } }, true],
  ['[null] does not match ""', { data: { empty: [null] } }, false],
  ['[""] matches ""', { data: { empty: [''] } }, true],
  ['[""] does not match null', { data: { note: [''] } }, false],
  ['[null] does not match an absent field', { data: { missing: [null] } }, false],
  ['[""] does not match an absent field', { data: { missing: [''] } }, false],
  // AND across keys, nesting
  ['all keys must match', { source: ['acs.ecs'], type: ['ecs:CloudAssistant:TaskCompleted'] }, true],
  ['one key failing fails the pattern', { source: ['acs.ecs'], type: ['ecs:CloudAssistant:FirstHeartbeat'] }, false],
  ['nested keys', { data: { invocationStatus: ['Success'], commandName: ['rollcall-agent'] } }, true],
  ['nested key failing', { data: { invocationStatus: ['Failed'] } }, false],
  ['deeply nested', { data: { nested: { deeper: { state: ['Normal-Running'] } } } }, true],
  ['deeply nested, other value', { data: { nested: { deeper: { state: ['Stopped'] } } } }, false],
  ['nested pattern on a string field', { source: { inner: ['x'] } }, false],
  ['nested pattern on an absent field', { nowhere: { inner: ['x'] } }, false],
  ['key missing from the event', { region: ['cn-hangzhou'] }, false],
  ['leaf pattern on an object field', { data: ['x'] }, false],
  ['a key Object.prototype has is not in the event', { constructor: [{ exists: true }] }, false],
  ['own "constructor" field', { data: { constructor: ['x'] } }, true, { data: JSON.parse('{"constructor":"x"}') }],
  ['own "__proto__" field from JSON', JSON.parse('{"__proto__":["x"]}'), true, JSON.parse('{"__proto__":"x"}')],
  // prefix, suffix, contains
  ['prefix', { data: { commandName: [{ prefix: 'rollcall-' }] } }, true],
  ['prefix: other command', { data: { commandName: [{ prefix: 'rollcall-' }] } }, false, { data: { commandName: 'backup-agent' } }],
  ['prefix is case-sensitive', { data: { commandName: [{ prefix: 'Rollcall-' }] } }, false],
  ['prefix: contained but not at the start', { source: [{ prefix: 'ecs' }] }, false],
  ['prefix of a whole value', { source: [{ prefix: 'acs.ecs' }] }, true],
  ['prefix longer than the value', { source: [{ prefix: 'acs.ecs.x' }] }, false],
  ['prefix does not match a number', { data: { attempts: [{ prefix: '3' }] } }, false],
  ['suffix', { data: { commandName: [{ suffix: '-agent' }] } }, true],
  ['suffix: contained but not at the end', { data: { commandName: [{ suffix: 'call' }] } }, false],
  ['suffix: other ending', { data: { commandName: [{ suffix: '.jpg' }] } }, false],
  ['suffix does not match a boolean', { data: { dryRun: [{ suffix: 'se' }] } }, false],
  ['contains', { data: { nested: { deeper: { state: [{ contains: 'Normal' }] } } } }, true],
  ['contains: absent part', { data: { nested: { deeper: { state: [{ contains: 'normal' }] } } } }, false],
  ['contains does not match null', { data: { note: [{ contains: 'null' }] } }, false],
  ['operator OR exact in one array', { source: ['acs.oss', { prefix: 'acs.e' }] }, true],
  // anything-but
  ['anything-but string', { data: { invocationStatus: [{ 'anything-but': 'Failed' }] } }, true],
  ['anything-but string: the excluded value', { data: { invocationStatus: [{ 'anything-but': 'Success' }] } }, false],
  ['anything-but string matches another type', { data: { attempts: [{ 'anything-but': 'x' }] } }, true],
  ['anything-but string matches null', { data: { note: [{ 'anything-but': 'x' }] } }, true],
  ['anything-but needs the field present', { data: { missing: [{ 'anything-but': 'x' }] } }, false],
  ['anything-but does not match an object', { data: { nested: [{ 'anything-but': 'x' }] } }, false],
  ['anything-but number', { data: { attempts: [{ 'anything-but': 4 }] } }, true],
  ['anything-but number: the excluded number', { data: { attempts: [{ 'anything-but': 3 }] } }, false],
  ['anything-but number matches its numeric string', { data: { exitCode: [{ 'anything-but': 0 }] } }, true],
  ['anything-but list', { data: { invocationStatus: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, true],
  ['anything-but list: an excluded value', { data: { invocationStatus: [{ 'anything-but': ['Failed', 'Success'] }] } }, false],
  ['anything-but list of numbers', { data: { attempts: [{ 'anything-but': [1, 2, 3] }] } }, false],
  ['anything-but prefix', { data: { commandName: [{ 'anything-but': { prefix: 'init' } }] } }, true],
  ['anything-but prefix: contained but not at the start', { data: { commandName: [{ 'anything-but': { prefix: 'agent' } }] } }, true],
  ['anything-but prefix: the prefix', { data: { commandName: [{ 'anything-but': { prefix: 'rollcall' } }] } }, false],
  ['anything-but prefix does not match a number', { data: { attempts: [{ 'anything-but': { prefix: 'x' } }] } }, false],
  ['anything-but suffix', { data: { commandName: [{ 'anything-but': { suffix: '.tmp' } }] } }, true],
  ['anything-but suffix: contained but not at the end', { data: { commandName: [{ 'anything-but': { suffix: 'rollcall' } }] } }, true],
  ['anything-but suffix: the suffix', { data: { commandName: [{ 'anything-but': { suffix: 'agent' } }] } }, false],
  // numeric
  ['numeric >', { data: { attempts: [{ numeric: ['>', 0] }] } }, true],
  ['numeric > at the bound', { data: { attempts: [{ numeric: ['>', 3] }] } }, false],
  ['numeric >=', { data: { attempts: [{ numeric: ['>=', 3] }] } }, true],
  ['numeric >= above', { data: { attempts: [{ numeric: ['>=', 3.5] }] } }, false],
  ['numeric <', { data: { ratio: [{ numeric: ['<', 1] }] } }, true],
  ['numeric < at the bound', { data: { ratio: [{ numeric: ['<', 0.5] }] } }, false],
  ['numeric <=', { data: { ratio: [{ numeric: ['<=', 0.5] }] } }, true],
  ['numeric <= below', { data: { ratio: [{ numeric: ['<=', 0.25] }] } }, false],
  ['numeric =', { data: { attempts: [{ numeric: ['=', 3] }] } }, true],
  ['numeric = other', { data: { attempts: [{ numeric: ['=', 3.0001] }] } }, false],
  ['numeric range (>, <=)', { data: { attempts: [{ numeric: ['>', 0, '<=', 5] }] } }, true],
  ['numeric range (>, <=), upper bound included', { data: { attempts: [{ numeric: ['>', 0, '<=', 3] }] } }, true],
  ['numeric range (>, <=), lower bound excluded', { data: { attempts: [{ numeric: ['>', 3, '<=', 5] }] } }, false],
  ['numeric range (>=, <), lower bound included', { data: { attempts: [{ numeric: ['>=', 3, '<', 5] }] } }, true],
  ['numeric range (>, <), upper bound excluded', { data: { attempts: [{ numeric: ['>', 0, '<', 3] }] } }, false],
  ['numeric range (>=, <=), outside', { data: { attempts: [{ numeric: ['>=', 4, '<=', 9] }] } }, false],
  ['numeric range (>=, <), upper bound excluded', { data: { attempts: [{ numeric: ['>=', 0, '<', 3] }] } }, false],
  ['numeric range (>, <), lower bound excluded', { data: { attempts: [{ numeric: ['>', 3, '<', 10] }] } }, false],
  ['numeric range (>=, <=), both included', { data: { attempts: [{ numeric: ['>=', 3, '<=', 3] }] } }, true],
  ['numeric range, bounds in either order', { data: { attempts: [{ numeric: ['<', 10, '>', 1] }] } }, true],
  ['numeric range, negative numbers', { x: [{ numeric: ['>', -10, '<', -1] }] }, true, { x: -5 }],
  ['numeric does not match a numeric string', { data: { exitCode: [{ numeric: ['=', 0] }] } }, false],
  ['numeric does not match a boolean', { data: { dryRun: [{ numeric: ['<', 1] }] } }, false],
  ['numeric does not match null', { data: { note: [{ numeric: ['<', 1] }] } }, false],
  // cidr
  ['cidr /24', { aliyunpublishaddr: [{ cidr: '10.0.1.0/24' }] }, true],
  ['cidr /24: other network', { aliyunpublishaddr: [{ cidr: '10.0.2.0/24' }] }, false],
  ['cidr /32', { aliyunpublishaddr: [{ cidr: '10.0.1.17/32' }] }, true],
  ['cidr /32: neighbour', { aliyunpublishaddr: [{ cidr: '10.0.1.16/32' }] }, false],
  ['cidr /8', { aliyunpublishaddr: [{ cidr: '10.0.0.0/8' }] }, true],
  ['cidr /0 matches every IPv4 address', { aliyunpublishaddr: [{ cidr: '0.0.0.0/0' }] }, true],
  ['cidr /0 does not match a non-address', { source: [{ cidr: '0.0.0.0/0' }] }, false],
  ['cidr high addresses (unsigned)', { ip: [{ cidr: '192.168.0.0/16' }] }, true, { ip: '192.168.255.255' }],
  ['cidr high addresses: outside', { ip: [{ cidr: '192.168.0.0/16' }] }, false, { ip: '192.169.0.0' }],
  ['cidr /25 boundary', { ip: [{ cidr: '10.0.0.128/25' }] }, false, { ip: '10.0.0.127' }],
  ['cidr does not match an octet over 255', { ip: [{ cidr: '10.0.0.0/8' }] }, false, { ip: '10.0.0.256' }],
  ['cidr does not match leading zeros', { ip: [{ cidr: '10.0.0.0/8' }] }, false, { ip: '10.0.0.010' }],
  ['cidr does not match an IPv6 address', { ip: [{ cidr: '0.0.0.0/0' }] }, false, { ip: '::ffff:10.0.0.1' }],
  ['cidr does not match a number', { ip: [{ cidr: '0.0.0.0/0' }] }, false, { ip: 167772161 }],
  // exists
  ['exists true', { data: { instanceId: [{ exists: true }] } }, true],
  ['exists true: absent', { data: { missing: [{ exists: true }] } }, false],
  ['exists true: a null value is present', { data: { note: [{ exists: true }] } }, true],
  ['exists true: an object is present', { data: { nested: [{ exists: true }] } }, true],
  ['exists true: an empty array is absent', { data: { nothing: [{ exists: true }] } }, false],
  ['exists false', { data: { missing: [{ exists: false }] } }, true],
  ['exists false: present', { data: { instanceId: [{ exists: false }] } }, false],
  ['exists false: present as null', { data: { note: [{ exists: false }] } }, false],
  ['exists false: an empty array', { data: { nothing: [{ exists: false }] } }, true],
  ['exists false under an absent object', { nowhere: { inner: [{ exists: false }] } }, true],
  ['exists false OR a value: the value', { data: { invocationStatus: ['Success', { exists: false }] } }, true],
  ['exists false OR a value: absent', { data: { missing: ['Success', { exists: false }] } }, true],
  ['exists false OR a prefix: absent', { data: { missing: [{ prefix: 'S' }, { exists: false }] } }, true],
  ['exists false OR a value: neither', { data: { invocationStatus: ['Failed', { exists: false }] } }, false],
  // arrays in the event
  ['event array: any element matches', { data: { tags: ['prod'] } }, true],
  ['event array: no element matches', { data: { tags: ['staging'] } }, false],
  ['event array: several pattern values, one element', { data: { tags: ['staging', 'web'] } }, true],
  ['event array: prefix on elements', { data: { tags: [{ prefix: 'pro' }] } }, true],
  ['event array: numeric on elements', { data: { sizes: [{ numeric: ['>', 1000] }] } }, true],
  ['event array: numeric, no element in range', { data: { sizes: [{ numeric: ['>', 5000] }] } }, false],
  ['event array: anything-but, some element differs', { data: { tags: [{ 'anything-but': 'web' }] } }, true],
  ['event array: anything-but, every element excluded', { data: { tags: [{ 'anything-but': ['web', 'prod'] }] } }, false],
  ['event array: nested arrays are flattened', { x: ['b'] }, true, { x: [['a'], ['b']] }],
  ['event array of empty arrays counts as absent', { x: ['a', { exists: false }] }, true, { x: [[], []] }],
  ['event array: empty array matches no value', { data: { nothing: [''] } }, false],
  ['event array of objects: one element matches the nested pattern', { data: { hosts: { name: ['b'], ip: [{ cidr: '192.168.0.0/16' }] } } }, true],
  ['event array of objects: fields from different elements do not combine', { data: { hosts: { name: ['a'], ip: [{ cidr: '192.168.0.0/16' }] } } }, false],
  ['event array of objects: exists false when every element has the field', { data: { hosts: { name: [{ exists: false }] } } }, false],
  ['event array of objects: exists false when one element lacks it', { data: { hosts: { port: [{ exists: false }] } } }, true],
  ['event array of strings under a nested pattern: fields absent', { data: { tags: { name: [{ exists: false }] } } }, true],
  // odd events
  ['event that is not an object', { source: ['acs.ecs'] }, false, 'acs.ecs'],
  ['event that is null', { source: [{ exists: false }] }, true, null],
];

describe('compileEventPattern: matches and non-matches for every operator', () => {
  it('the table covers every operator with at least one match and one non-match', () => {
    const seen = new Map<string, Set<boolean>>();
    for (const [, pattern, expected] of rows) {
      for (const operator of JSON.stringify(pattern).match(/"(prefix|suffix|contains|anything-but|numeric|cidr|exists)"/g) ?? ['exact']) {
        const outcomes = seen.get(operator) ?? new Set<boolean>();
        outcomes.add(expected);
        seen.set(operator, outcomes);
      }
    }
    expect([...seen.entries()].filter(([, outcomes]) => outcomes.size < 2)).toEqual([]);
    expect(seen.size).toBe(8);
    expect(rows.length).toBeGreaterThanOrEqual(80);
  });

  it.each(rows)('%s', (_name, pattern, expected, event = taskCompleted) => {
    expect(compileEventPattern(pattern)(event)).toBe(expected);
    // The JSON text of the same pattern compiles to the same answer.
    expect(compileEventPattern(JSON.stringify(pattern))(event)).toBe(expected);
  });
});

describe('compileEventPattern: the issue\'s rules against their events', () => {
  const cloudAssistantResults = compileEventPattern({
    source: ['acs.ecs'],
    type: ['ecs:CloudAssistant:TaskCompleted'],
    data: { commandName: [{ prefix: 'rollcall-' }] },
  });

  it('matches rollcall\'s TaskCompleted and none of its near misses', () => {
    expect(cloudAssistantResults(taskCompleted)).toBe(true);
    expect(cloudAssistantResults({ ...taskCompleted, source: 'acs.oss' })).toBe(false);
    expect(cloudAssistantResults({ ...taskCompleted, type: 'ecs:CloudAssistant:FirstHeartbeat' })).toBe(false);
    expect(cloudAssistantResults({ ...taskCompleted, data: { ...taskCompleted.data, commandName: 'other-agent' } })).toBe(false);
    const { data: _data, ...withoutData } = taskCompleted;
    expect(cloudAssistantResults(withoutData)).toBe(false);
  });

  it('keys and values are data, never code: quotes, backslashes and line separators in them', () => {
    const key = 'a"]; globalThis.rollcallPwned = 1; //';
    const value = 'b"; globalThis.rollcallPwned = 2; "\u2028\u2029\\';
    const matcher = compileEventPattern({ [key]: [value, { prefix: `${value}x` }], "c'd": { 'e\\f': [{ 'anything-but': value }] } });
    expect(matcher({ [key]: value, "c'd": { 'e\\f': 'other' } })).toBe(true);
    expect(matcher({ [key]: `${value}xy`, "c'd": { 'e\\f': 'other' } })).toBe(true);
    expect(matcher({ [key]: value, "c'd": { 'e\\f': value } })).toBe(false);
    expect(matcher({ a: value })).toBe(false);
    expect((globalThis as { rollcallPwned?: number }).rollcallPwned).toBeUndefined();
  });

  it('patterns of the same shape keep their own values', () => {
    const shape = (source: string, prefix: string, low: number) => compileEventPattern({ source: [source], data: { commandName: [{ prefix }], attempts: [{ numeric: ['>=', low] }] } });
    const first = shape('acs.ecs', 'rollcall-', 3);
    const second = shape('acs.oss', 'backup-', 4);
    const event = (source: string, commandName: string, attempts: number) => ({ source, data: { commandName, attempts } });
    expect(first(event('acs.ecs', 'rollcall-agent', 3))).toBe(true);
    expect(second(event('acs.ecs', 'rollcall-agent', 3))).toBe(false);
    expect(second(event('acs.oss', 'backup-job', 4))).toBe(true);
    expect(first(event('acs.oss', 'backup-job', 4))).toBe(false);
    expect(second(event('acs.oss', 'backup-job', 3))).toBe(false);
    expect(first(event('acs.ecs', 'backup-job', 3))).toBe(false);
  });

  it('a compiled matcher does not depend on the pattern object afterwards', () => {
    const pattern = { source: ['acs.ecs'] };
    const matcher = compileEventPattern(pattern);
    pattern.source[0] = 'acs.oss';
    expect(matcher(taskCompleted)).toBe(true);
  });
});

/** [pattern, the whole message]: each says where in the pattern and what to do. */
const invalidPatterns: [unknown, string][] = [
  ['{"source": ["acs.ecs"]', '$: the pattern is not valid JSON ('],
  [['acs.ecs'], '$: a pattern is a JSON object of event fields, e.g. {"source": ["acs.ecs"]}; got the array ["acs.ecs"]'],
  [null, '$: a pattern is a JSON object of event fields, e.g. {"source": ["acs.ecs"]}; got null'],
  [42, '$: a pattern is a JSON object of event fields, e.g. {"source": ["acs.ecs"]}; got number 42'],
  [{}, '$: an empty pattern filters nothing; give at least one field, e.g. {"source": ["acs.ecs"]}'],
  [{ data: {} }, '$.data: an empty object filters nothing; remove the key or give it at least one field'],
  [{ source: 'acs.ecs' }, '$.source: a field\'s condition is an array of values or operators, or an object for the fields inside it; got the string "acs.ecs": write ["acs.ecs"]'],
  [{ data: { exitCode: 0 } }, '$.data.exitCode: a field\'s condition is an array of values or operators, or an object for the fields inside it; got number 0: write [0]'],
  [{ source: [] }, '$.source: an empty array matches nothing; list at least one value or operator, e.g. ["acs.ecs"] or [{"exists": true}]'],
  [{ source: [['a']] }, '$.source[0]: an array inside a field\'s array is not a condition; list the values directly, e.g. ["a", "b"]'],
  [{ source: [undefined] }, '$.source[0]: a JavaScript undefined is not a JSON value; use a string, number, boolean, null or an operator object'],
  [{ n: [Number.NaN] }, '$.n[0]: NaN is not a JSON number; use a finite number'],
  [{ 'a-b': [{}] }, '$["a-b"][0]: an empty object is not a condition; use an operator such as {"prefix": "acs."} (operators: prefix, suffix, contains, anything-but, numeric, cidr, exists)'],
  [{ source: [{ prefix: 'a', suffix: 'b' }] }, '$.source[0]: an operator object has exactly one key; got 2 ("prefix", "suffix"): make each its own entry of the array'],
  [{ source: [{ prefx: 'acs.' }] }, '$.source[0]: unknown operator "prefx" (did you mean "prefix"?); operators are prefix, suffix, contains, anything-but, numeric, cidr, exists'],
  [{ source: [{ wildcard: 'acs.*' }] }, '$.source[0]: unknown operator "wildcard"; operators are prefix, suffix, contains, anything-but, numeric, cidr, exists'],
  [{ source: [{ prefix: 5 }] }, '$.source[0].prefix: prefix takes a string, e.g. {"prefix": "acs."}; got number 5'],
  [{ source: [{ suffix: null }] }, '$.source[0].suffix: suffix takes a string, e.g. {"suffix": ".jpg"}; got null'],
  [{ source: [{ contains: ['a'] }] }, '$.source[0].contains: contains takes a string, e.g. {"contains": "Normal"}; got the array ["a"]'],
  [{ s: [{ 'anything-but': true }] }, '$.s[0]["anything-but"]: anything-but takes a string, a number, a list of them, or {"prefix": "..."} / {"suffix": "..."}; got boolean true'],
  [{ s: [{ 'anything-but': [] }] }, '$.s[0]["anything-but"]: an empty list excludes nothing; list the values to exclude, e.g. {"anything-but": ["stopped", "overloaded"]}'],
  [{ s: [{ 'anything-but': ['a', null] }] }, '$.s[0]["anything-but"][1]: anything-but lists strings and numbers; got null'],
  [{ s: [{ 'anything-but': { contains: 'x' } }] }, '$.s[0]["anything-but"]: anything-but takes a string, a number, a list of them, or {"prefix": "..."} / {"suffix": "..."}; got an object with "contains"'],
  [{ s: [{ 'anything-but': { prefix: 1 } }] }, '$.s[0]["anything-but"].prefix: prefix takes a string, e.g. {"anything-but": {"prefix": "init"}}; got number 1'],
  [{ n: [{ numeric: 5 }] }, '$.n[0].numeric: numeric takes one comparison (operator, number) or two (a lower and an upper bound), e.g. {"numeric": [">", 0, "<=", 5]} or {"numeric": ["=", 3]}; got number 5'],
  [{ n: [{ numeric: ['>', 0, '<'] }] }, '$.n[0].numeric: numeric takes one comparison (operator, number) or two (a lower and an upper bound), e.g. {"numeric": [">", 0, "<=", 5]} or {"numeric": ["=", 3]}; got the array [">",0,"<"]'],
  [{ n: [{ numeric: ['==', 0] }] }, '$.n[0].numeric[0]: a numeric operator is one of < <= = >= >; got the string "=="'],
  [{ n: [{ numeric: ['>', '0'] }] }, '$.n[0].numeric[1]: > compares with a number, e.g. {"numeric": [">", 0, "<=", 5]} or {"numeric": ["=", 3]}; got the string "0"'],
  [{ n: [{ numeric: ['>', 0, '>', 5] }] }, '$.n[0].numeric: two comparisons must be a lower bound (> or >=) and an upper bound (< or <=), e.g. {"numeric": [">", 0, "<=", 5]} or {"numeric": ["=", 3]}; for one exact number use ["=", n] alone'],
  [{ n: [{ numeric: ['=', 0, '<', 5] }] }, '$.n[0].numeric: two comparisons must be a lower bound (> or >=) and an upper bound (< or <=), e.g. {"numeric": [">", 0, "<=", 5]} or {"numeric": ["=", 3]}; for one exact number use ["=", n] alone'],
  [{ n: [{ numeric: ['>', 5, '<=', 1] }] }, '$.n[0].numeric: no number is > 5 and <= 1; swap the bounds or widen the range'],
  [{ n: [{ numeric: ['>=', 5, '<', 5] }] }, '$.n[0].numeric: no number is >= 5 and < 5; swap the bounds or widen the range'],
  [{ ip: [{ cidr: 10 }] }, '$.ip[0].cidr: cidr takes an IPv4 block as a string, e.g. {"cidr": "10.0.0.0/24"}; got number 10'],
  [{ ip: [{ cidr: '2001:db8::/32' }] }, '$.ip[0].cidr: "2001:db8::/32" is IPv6; EventBridge\'s cidr matches IPv4 blocks only, e.g. "10.0.0.0/24"'],
  [{ ip: [{ cidr: '10.0.0.0' }] }, '$.ip[0].cidr: "10.0.0.0" is not an IPv4 block; write address/prefix-length, e.g. "10.0.0.0/24" (four numbers 0–255, a length 0–32)'],
  [{ ip: [{ cidr: '10.0.0.0/33' }] }, '$.ip[0].cidr: "10.0.0.0/33" is not an IPv4 block; write address/prefix-length, e.g. "10.0.0.0/24" (four numbers 0–255, a length 0–32)'],
  [{ ip: [{ cidr: '10.0.300.0/24' }] }, '$.ip[0].cidr: "10.0.300.0/24" is not an IPv4 block; write address/prefix-length, e.g. "10.0.0.0/24" (four numbers 0–255, a length 0–32)'],
  [{ ip: [{ cidr: '10.0.0.5/24' }] }, '$.ip[0].cidr: "10.0.0.5/24" has host bits set; the block is 10.0.0.0/24'],
  [{ s: [{ exists: 'true' }] }, '$.s[0].exists: exists takes true (the field is present) or false (it is absent); got the string "true"'],
  [{ data: { nested: { deeper: [{ exists: 1 }] } } }, '$.data.nested.deeper[0].exists: exists takes true (the field is present) or false (it is absent); got number 1'],
];

describe('compileEventPattern: invalid patterns', () => {
  it.each(invalidPatterns)('%j', (pattern, message) => {
    let thrown: unknown;
    try {
      compileEventPattern(pattern);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RollcallError);
    expect((thrown as RollcallError).code).toBe('invalid-input');
    if (message.endsWith('(')) expect((thrown as RollcallError).message.startsWith(message)).toBe(true);
    else expect((thrown as RollcallError).message).toBe(message);
  });
});
