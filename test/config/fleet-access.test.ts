import { describe, expect, it } from 'vitest';
import { readFleetAccess } from '../../src/config/fleet-access.js';

describe('readFleetAccess', () => {
  it('has defaults, takes ROLLCALL_* variables, and lets flags win', () => {
    expect(readFleetAccess({}, {})).toEqual({ commandName: 'rollcall-agent', concurrency: 4, timeoutSeconds: 600, agentInline: false });
    const access = readFleetAccess({ concurrency: '8', 'agent-inline': true }, { ROLLCALL_REGION: 'cn-shanghai', ROLLCALL_ECS_ENDPOINT: '127.0.0.1:8080', ROLLCALL_CONCURRENCY: '2', ROLLCALL_MAX_ERRORS: '3' });
    expect(access).toMatchObject({ region: 'cn-shanghai', endpoint: '127.0.0.1:8080', concurrency: 8, maxErrors: 3, agentInline: true });
  });

  it('names the flag and the variable of a bad value', () => {
    expect(() => readFleetAccess({}, { ROLLCALL_ECS_ENDPOINT: 'http://127.0.0.1:1' })).toThrow('--endpoint / ROLLCALL_ECS_ENDPOINT: must be host:port, without a scheme');
    expect(() => readFleetAccess({ concurrency: '0' }, {})).toThrow('--concurrency / ROLLCALL_CONCURRENCY');
  });
});
