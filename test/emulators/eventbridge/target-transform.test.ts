import { describe, expect, it } from 'vitest';
import { RollcallError } from '../../../src/config/errors.js';
import { compileJsonPath, parseJsonPath } from '../../../src/emulators/eventbridge/json-path.js';
import { checkTargetParam, transformParam, TRANSFORM_TEXT_LIMIT, type TargetParam } from '../../../src/emulators/eventbridge/target-transform.js';

const event = {
  id: 'e-1',
  source: 'acs.ecs',
  type: 'ecs:CloudAssistant:TaskCompleted',
  data: {
    commandName: 'rollcall-agent',
    exitCode: '0',
    instanceId: 'i-bp1****',
    attempts: 3,
    ok: true,
    note: null,
    tags: ['web', 'prod'],
    output: 'line "one"\nline\ttwo \\ end',
    'invocation-status': 'Success',
    detail: { region: 'cn-hangzhou', sizes: [1, 2] },
  },
};

function errorOf(run: () => unknown): RollcallError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RollcallError);
    expect((error as RollcallError).code).toBe('invalid-input');
    return error as RollcallError;
  }
  throw new Error('expected a RollcallError, nothing was thrown');
}

describe('JSONPath subset', () => {
  it.each([
    ['$', event],
    ['$.source', 'acs.ecs'],
    ['$.data.commandName', 'rollcall-agent'],
    ['$.data.tags[1]', 'prod'],
    ['$.data.tags[0]', 'web'],
    ["$.data['invocation-status']", 'Success'],
    ['$.data["invocation-status"]', 'Success'],
    ["$['data'].detail.sizes[1]", 2],
    ['$.data.detail', { region: 'cn-hangzhou', sizes: [1, 2] }],
    ['$.data.note', null],
    ['$.data.ok', true],
    // Absent: undefined, never a throw.
    ['$.data.missing', undefined],
    ['$.data.missing.deeper', undefined],
    ['$.data.tags[2]', undefined],
    ['$.data.commandName[0]', undefined],
    ['$.data.tags.length', undefined],
    ['$.data.detail[0]', undefined],
    ['$.constructor', undefined],
    ['$.data.note.x', undefined],
  ])('%s', (path, expected) => {
    expect(compileJsonPath(path)(event)).toEqual(expected);
  });

  it('reads escaped quotes in bracketed names', () => {
    expect(parseJsonPath("$['it\\'s']")).toEqual([{ key: "it's" }]);
    expect(compileJsonPath("$['it\\'s']")({ "it's": 1 })).toBe(1);
  });

  it.each([
    ['data.x', 'JSONPath: "data.x" at character 1: a path starts with $ (the whole event)'],
    ['$..x', 'JSONPath: "$..x" at character 2: .. (recursive descent) selects many values; name each step'],
    ['$.data.*', 'JSONPath: "$.data.*" at character 8: * selects many values; name the key'],
    ['$.tags[*]', 'JSONPath: "$.tags[*]" at character 8: [*] selects many values; give an index'],
    ['$.tags[-1]', 'JSONPath: "$.tags[-1]" at character 8: brackets hold an index (0, 1, …) or a quoted name'],
    ["$['a", 'JSONPath: "$[\'a" at character 3: the quoted name is not closed'],
    ["$['a'x", 'JSONPath: "$[\'a\'x" at character 6: a ] must close the quoted name'],
    ['$.', 'JSONPath: "$." at character 2: a name must follow the dot'],
    ['$.a.[0]', 'JSONPath: "$.a.[0]" at character 4: a name must follow the dot'],
    ['$x', 'JSONPath: "$x" at character 2: unexpected "x"; steps are .name, [index] or [\'name\']'],
  ])('refuses %s', (path, message) => {
    expect(errorOf(() => parseJsonPath(path)).message).toBe(`${message}; write a path such as $.data.commandName, $.data.list[0] or $['a-b']`);
  });
});

describe('transformParam: ORIGINAL, JSONPATH, CONSTANT', () => {
  it('ORIGINAL delivers the whole event', () => {
    expect(transformParam(event, { resourceKey: 'Body', form: 'ORIGINAL' })).toBe(event);
  });

  it('JSONPATH delivers the value at the path, undefined when absent', () => {
    expect(transformParam(event, { resourceKey: 'Body', form: 'JSONPATH', value: '$.data' })).toBe(event.data);
    expect(transformParam(event, { resourceKey: 'Body', form: 'JSONPATH', value: '$.data.attempts' })).toBe(3);
    expect(transformParam(event, { resourceKey: 'Body', form: 'JSONPATH', value: '$.data.nope' })).toBeUndefined();
  });

  it('CONSTANT delivers its value as is', () => {
    expect(transformParam(event, { resourceKey: 'Method', form: 'CONSTANT', value: 'POST' })).toBe('POST');
    expect(transformParam(event, { resourceKey: 'Body', form: 'CONSTANT', value: '{"a": 1}' })).toBe('{"a": 1}');
    expect(transformParam(event, { resourceKey: 'Body', form: 'CONSTANT', value: '' })).toBe('');
  });

  it('follows a param whose fields change after its first use (the compiled form is not stale)', () => {
    const param: TargetParam = { resourceKey: 'Body', form: 'JSONPATH', value: '$.source' };
    expect(transformParam(event, param)).toBe('acs.ecs');
    param.value = '$.type';
    expect(transformParam(event, param)).toBe('ecs:CloudAssistant:TaskCompleted');
    param.form = 'CONSTANT';
    expect(transformParam(event, param)).toBe('$.type');
  });
});

describe('transformParam: TEMPLATE', () => {
  const variables = JSON.stringify({
    cmd: '$.data.commandName',
    code: '$.data.exitCode',
    attempts: '$.data.attempts',
    ok: '$.data.ok',
    note: '$.data.note',
    tags: '$.data.tags',
    detail: '$.data.detail',
    output: '$.data.output',
    missing: '$.data.missing',
  });
  const template = (text: string): TargetParam => ({ resourceKey: 'Body', form: 'TEMPLATE', value: variables, template: text });

  it('a JSON template with placeholders inside quotes: the values as string content', () => {
    expect(transformParam(event, template('{"text": "Command ${cmd} exited ${code} after ${attempts} tries (ok: ${ok})"}'))).toEqual({
      text: 'Command rollcall-agent exited 0 after 3 tries (ok: true)',
    });
  });

  it('inside quotes, objects and arrays go in as their JSON text and missing values as nothing', () => {
    expect(transformParam(event, template('{"d": "${detail}", "t": "${tags}", "m": "[${missing}]", "n": "${note}"}'))).toEqual({
      d: '{"region":"cn-hangzhou","sizes":[1,2]}',
      t: '["web","prod"]',
      m: '[]',
      n: 'null',
    });
  });

  it('inside quotes, quotes, backslashes and control characters are escaped', () => {
    const result = transformParam(event, template('{"out": "${output}"}')) as { out: string };
    expect(result.out).toBe(event.data.output);
  });

  it('a JSON template with placeholders outside quotes: the values as JSON, missing as null', () => {
    expect(transformParam(event, template('{"cmd": ${cmd}, "attempts": ${attempts}, "ok": ${ok}, "note": ${note}, "tags": ${tags}, "detail": ${detail}, "missing": ${missing}}'))).toEqual({
      cmd: 'rollcall-agent',
      attempts: 3,
      ok: true,
      note: null,
      tags: ['web', 'prod'],
      detail: { region: 'cn-hangzhou', sizes: [1, 2] },
      missing: null,
    });
  });

  it('a Lark bot body as the stack would write it', () => {
    const lark = '{"msg_type": "text", "content": {"text": "rollcall: ${cmd} on ${instance} finished: ${status}"}}';
    const param: TargetParam = {
      resourceKey: 'Body',
      form: 'TEMPLATE',
      value: '{"cmd": "$.data.commandName", "instance": "$.data.instanceId", "status": "$.data[\'exitCode\']"}',
      template: lark,
    };
    checkTargetParam(param);
    expect(transformParam(event, param)).toEqual({ msg_type: 'text', content: { text: 'rollcall: rollcall-agent on i-bp1**** finished: 0' } });
  });

  it('a JSON string template gives a string; a lone placeholder gives the value', () => {
    expect(transformParam(event, template('"Hello ${cmd}"'))).toBe('Hello rollcall-agent');
    expect(transformParam(event, template('${attempts}'))).toBe(3);
    expect(transformParam(event, template('${detail}'))).toEqual(event.data.detail);
  });

  it('a text template gives a string: strings as they are, other values as JSON text, missing as nothing', () => {
    expect(transformParam(event, template('Command ${cmd} exited "${code}" after ${attempts} tries; tags ${tags}; [${missing}]'))).toBe(
      'Command rollcall-agent exited "0" after 3 tries; tags ["web","prod"]; []',
    );
  });

  it('the template\'s shape decides, not the data: a text template stays text even when its result is JSON', () => {
    expect(transformParam({ data: { a: '{', b: '}' } }, { resourceKey: 'Body', form: 'TEMPLATE', value: '{"a": "$.data.a", "b": "$.data.b"}', template: '${a}${b}' })).toBe('{}');
  });

  it('a ${ that is not a placeholder is literal text', () => {
    expect(transformParam(event, template('cost: ${ cmd } and ${} and $cmd and ${cmd'))).toBe('cost: ${ cmd } and ${} and $cmd and ${cmd');
  });

  it('escaped quotes in the template\'s strings do not end them', () => {
    expect(transformParam(event, template('{"a": "it\\"s ${cmd}\\\\", "b": "\\\\", "c": ${attempts}}'))).toEqual({ a: 'it"s rollcall-agent\\', b: '\\', c: 3 });
  });

  it('a placeholder used twice is filled twice', () => {
    expect(transformParam(event, template('{"a": "${cmd}", "b": ${cmd}}'))).toEqual({ a: 'rollcall-agent', b: 'rollcall-agent' });
  });
});

describe('checkTargetParam: invalid params and limits', () => {
  it.each<[string, unknown, string]>([
    ['no resource key', { form: 'ORIGINAL' }, 'param: resourceKey must name what the param fills (e.g. "Body", "url"); got nothing'],
    ['unknown form', { resourceKey: 'Body', form: 'JSON' }, 'param Body: form must be one of ORIGINAL, JSONPATH, CONSTANT, TEMPLATE; got "JSON"'],
    ['lower-case form', { resourceKey: 'Body', form: 'original' }, 'param Body: form must be one of ORIGINAL, JSONPATH, CONSTANT, TEMPLATE; got "original"'],
    ['JSONPATH without a value', { resourceKey: 'Body', form: 'JSONPATH' }, 'param Body: JSONPATH needs value, the path of what to deliver, e.g. "$.data.commandName"'],
    ['JSONPATH with a bad path', { resourceKey: 'Body', form: 'JSONPATH', value: 'data.x' }, 'param Body: value: "data.x" at character 1: a path starts with $ (the whole event); write a path such as $.data.commandName, $.data.list[0] or $[\'a-b\']'],
    ['CONSTANT without a value', { resourceKey: 'Method', form: 'CONSTANT' }, 'param Method: CONSTANT delivers its value: give value (a string)'],
    ['value that is not a string', { resourceKey: 'Method', form: 'CONSTANT', value: 5 }, 'param Method: value must be a string; got number'],
    ['TEMPLATE without a value', { resourceKey: 'Body', form: 'TEMPLATE', template: 'x' }, 'param Body: TEMPLATE needs value, a JSON object of variables, e.g. {"cmd": "$.data.commandName"}'],
    ['TEMPLATE without a template', { resourceKey: 'Body', form: 'TEMPLATE', value: '{}' }, 'param Body: TEMPLATE needs template, the text or JSON with ${variable} placeholders'],
    ['TEMPLATE value not JSON', { resourceKey: 'Body', form: 'TEMPLATE', value: '{cmd: 1}', template: 'x' }, 'param Body: value is not valid JSON ('],
    ['TEMPLATE value not an object', { resourceKey: 'Body', form: 'TEMPLATE', value: '["$.a"]', template: 'x' }, 'param Body: value must be a JSON object of variables, name → JSONPath, e.g. {"cmd": "$.data.commandName"}'],
    ['TEMPLATE variables do not nest', { resourceKey: 'Body', form: 'TEMPLATE', value: '{"a": {"b": "$.x"}}', template: '${a}' }, 'param Body: variable "a" must map to a JSONPath string (variables do not nest); got object'],
    ['TEMPLATE variable with a bad path', { resourceKey: 'Body', form: 'TEMPLATE', value: '{"a": "$.x[*]"}', template: '${a}' }, 'param Body: variable "a": "$.x[*]" at character 5: [*] selects many values; give an index; write a path such as $.data.commandName, $.data.list[0] or $[\'a-b\']'],
    ['TEMPLATE placeholder with no variable', { resourceKey: 'Body', form: 'TEMPLATE', value: '{"cmd": "$.data.commandName"}', template: '{"text": "${comand}"}' }, 'param Body: template uses ${comand} but value defines only "cmd"; add "comand" to value or fix the name'],
    ['TEMPLATE placeholder, no variables at all', { resourceKey: 'Body', form: 'TEMPLATE', value: '{}', template: '${x}' }, 'param Body: template uses ${x} but value defines no variables; add "x" to value or fix the name'],
  ])('%s', (_name, param, message) => {
    const error = errorOf(() => checkTargetParam(param as TargetParam));
    if (message.endsWith('(')) expect(error.message.startsWith(message)).toBe(true);
    else expect(error.message).toBe(message);
    // transformParam refuses the same param the same way.
    expect(errorOf(() => transformParam(event, param as TargetParam)).message).toBe(error.message);
  });

  it(`takes a value and a template of ${TRANSFORM_TEXT_LIMIT} characters and refuses one more`, () => {
    const longPath = `$.${'a'.repeat(TRANSFORM_TEXT_LIMIT - 2)}`;
    expect(() => checkTargetParam({ resourceKey: 'Body', form: 'JSONPATH', value: longPath })).not.toThrow();
    expect(errorOf(() => checkTargetParam({ resourceKey: 'Body', form: 'JSONPATH', value: `${longPath}a` })).message).toBe(
      'param Body: value is 10241 characters; EventBridge allows at most 10240: shorten it',
    );
    expect(() => checkTargetParam({ resourceKey: 'Method', form: 'CONSTANT', value: 'x'.repeat(TRANSFORM_TEXT_LIMIT) })).not.toThrow();
    expect(errorOf(() => checkTargetParam({ resourceKey: 'Method', form: 'CONSTANT', value: 'x'.repeat(TRANSFORM_TEXT_LIMIT + 1) })).message).toContain('value is 10241 characters');

    const text = 'x'.repeat(TRANSFORM_TEXT_LIMIT - 6);
    const ok: TargetParam = { resourceKey: 'Body', form: 'TEMPLATE', value: '{"v": "$.source"}', template: `${text}${'${v}'}` };
    expect(ok.template).toHaveLength(TRANSFORM_TEXT_LIMIT - 2);
    expect(transformParam(event, ok)).toBe(`${text}acs.ecs`);
    const tooLong = { ...ok, template: `${'x'.repeat(TRANSFORM_TEXT_LIMIT - 3)}${'${v}'}` };
    expect(errorOf(() => checkTargetParam(tooLong)).message).toBe('param Body: template is 10241 characters; EventBridge allows at most 10240: shorten it');
  });
});
