import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EcsApiError } from '../../../src/emulators/ecs/api-error.js';
import { BooleanParam, IntegerParam, listParam, readParams, tagsParam } from '../../../src/emulators/ecs/request-params.js';

describe('request parameters', () => {
  it('reads flattened lists in the order of N, not of the text', () => {
    const params = { 'InstanceId.10': 'j', 'InstanceId.2': 'b', 'InstanceId.1': 'a', InstanceIdX: 'no', 'Tag.2.Key': 'k2', 'Tag.1.Value': 'v1', 'Tag.1.Key': 'k1' };
    expect(listParam(params, 'InstanceId')).toEqual(['a', 'b', 'j']);
    expect(tagsParam(params)).toEqual([
      { key: 'k1', value: 'v1' },
      { key: 'k2', value: undefined },
    ]);
  });

  it('reads scalars leniently and names the parameter that is missing or malformed', () => {
    const shape = { Name: z.string(), Timeout: IntegerParam.optional(), Enable: BooleanParam.optional() };
    expect(readParams(shape, { Name: 'n', Timeout: '30', Enable: 'True', Format: 'JSON' })).toEqual({ Name: 'n', Timeout: 30, Enable: true, Format: 'JSON' });
    const missing = (() => {
      try {
        readParams(shape, { Name: '' });
      } catch (error) {
        return error as EcsApiError;
      }
    })();
    expect(missing).toMatchObject({ status: 400, code: 'MissingParameter' });
    expect(missing?.message).toContain('"Name"');
    expect(() => readParams(shape, { Name: 'n', Timeout: 'ten' })).toThrow(/"Timeout" is not valid/);
  });
});
