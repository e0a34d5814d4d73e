import { describe, expect, it } from 'vitest';
import { firstHeartbeatEvent } from '../../../src/emulators/ecs/first-heartbeat-event.js';
import { taskCompletedEvent } from '../../../src/emulators/ecs/task-completed-event.js';
import { checkEventBridgeSecret, readCloudEvents } from '../../../src/ingress/eventbridge/cloud-events.js';

const RECEIVED = new Date('2026-11-28T01:00:00.000Z');
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const STRUCTURED = { 'content-type': 'application/cloudevents+json; charset=utf-8' };
const BATCH = { 'content-type': 'application/cloudevents-batch+json' };

const heartbeat = firstHeartbeatEvent({ accountId: '1234', regionId: 'cn-hangzhou', instanceId: 'i-new0001', firstHeartbeatTime: RECEIVED });
const completed = taskCompletedEvent({
  accountId: '1234',
  regionId: 'cn-hangzhou',
  invokeId: 't-hz0abc',
  commandId: 'c-1',
  commandName: 'rollcall-agent',
  instanceId: 'i-0001',
  invocationStatus: 'Success',
  exitCode: 0,
  finishTime: RECEIVED,
});

describe('readCloudEvents: Cloud Assistant', () => {
  it('reads the ECS emulator FirstHeartbeat and TaskCompleted events, structured and batched', () => {
    expect(readCloudEvents(json(heartbeat), { headers: STRUCTURED })).toEqual({
      ok: true,
      events: [{ id: heartbeat.id, source: 'acs.ecs', type: 'ecs:CloudAssistant:FirstHeartbeat', kind: 'instance-appeared', instanceId: 'i-new0001' }],
    });
    expect(readCloudEvents(json([heartbeat, completed]), { headers: BATCH })).toEqual({
      ok: true,
      events: [
        expect.objectContaining({ kind: 'instance-appeared', instanceId: 'i-new0001' }),
        { id: completed.id, source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', kind: 'invocation-finished', invokeId: 't-hz0abc', instanceId: 'i-0001', status: 'Success', exitCode: 0 },
      ],
    });
  });

  it('accepts PascalCase fields and takes the instance from the subject when data lacks it', () => {
    const result = readCloudEvents(json({ ...completed, data: { InvokeId: 't-2', InvocationStatus: 'Failed', ExitCode: '-1' } }), { headers: STRUCTURED });
    expect(result).toMatchObject({ ok: true, events: [{ kind: 'invocation-finished', invokeId: 't-2', instanceId: 'i-0001', status: 'Failed', exitCode: -1 }] });
    expect(readCloudEvents(json({ ...heartbeat, data: {} }))).toMatchObject({ ok: true, events: [{ kind: 'instance-appeared', instanceId: 'i-new0001' }] });
    expect(readCloudEvents(json({ ...completed, data: { instanceId: 'i-1' } }))).toMatchObject({ ok: true, events: [{ kind: 'ignored', reason: expect.stringContaining('without an invokeId') }] });
  });

  it('ignores other sources and types', () => {
    expect(readCloudEvents(json({ id: '1', source: 'acs.ecs', type: 'ecs:Instance:StateChange', data: {} }))).toMatchObject({ ok: true, events: [{ kind: 'ignored' }] });
    expect(readCloudEvents(json({ id: '2', source: 'acs.oss', type: 'x', data: {} }))).toMatchObject({ ok: true, events: [{ kind: 'ignored', reason: expect.stringContaining('acs.oss x') }] });
  });
});

describe('readCloudEvents: bridged approvals', () => {
  it('turns a dingtalk.approval bpms_instance_change into a notice with the CloudEvent id', () => {
    const data = { processInstanceId: 'pi-1', processCode: 'PROC', type: 'finish', result: 'agree' };
    expect(readCloudEvents(json({ id: 'ce-1', source: 'dingtalk.approval', type: 'dingtalk:approval:bpms_instance_change', data }), { headers: STRUCTURED })).toEqual({
      ok: true,
      events: [{ id: 'ce-1', source: 'dingtalk.approval', type: 'dingtalk:approval:bpms_instance_change', kind: 'notice', notice: { kind: 'approval', platform: 'dingtalk', eventId: 'ce-1', instanceId: 'pi-1', via: 'eventbridge', processCode: 'PROC' } }],
    });
    // The type from the data (HTTP push form), or inferred from a processInstanceId.
    expect(readCloudEvents(json({ id: 'ce-2', source: 'dingtalk.approval', type: 'x', data: { ...data, EventType: 'bpms_instance_change' } }))).toMatchObject({ events: [{ kind: 'notice' }] });
    expect(readCloudEvents(json({ id: 'ce-3', source: 'dingtalk.approval', type: 'x', data }))).toMatchObject({ events: [{ kind: 'notice' }] });
    expect(readCloudEvents(json({ id: 'ce-4', source: 'dingtalk.approval', type: 'x', data: { ...data, result: 'refuse' } }))).toMatchObject({ events: [{ kind: 'ignored', reason: expect.stringContaining('refuse') }] });
    expect(readCloudEvents(json({ id: 'ce-5', source: 'dingtalk.approval', type: 'user_leave_org', data: { userId: ['u-1'] } }), { receivedAt: RECEIVED })).toMatchObject({
      events: [{ kind: 'notice', notice: { kind: 'user-left', userIds: ['u-1'], at: RECEIVED.toISOString(), eventId: 'ce-5' } }],
    });
    expect(readCloudEvents(json({ id: 'ce-6', source: 'dingtalk.approval', type: 'x', data: 'text' }))).toMatchObject({ events: [{ kind: 'ignored' }] });
  });

  it('turns lark.approval v1, v2 and bare events into notices with the CloudEvent id; data may be a JSON string', () => {
    const v1 = { uuid: 'u', token: 't', type: 'event_callback', event: { type: 'approval_instance', instance_code: 'IC-1', status: 'APPROVED' } };
    const v2 = { schema: '2.0', header: { event_id: 'e', event_type: 'contact.user.deleted_v3' }, event: { object: { open_id: 'ou_1' } } };
    const bare = { type: 'approval_instance', instance_code: 'IC-3', status: 'APPROVED' };
    const result = readCloudEvents(
      json([
        { id: 'l-1', source: 'lark.approval', type: 'lark.event', data: v1 },
        { id: 'l-2', source: 'lark.approval', type: 'lark.event', data: JSON.stringify(v2) },
        { id: 'l-3', source: 'lark.approval', type: 'lark.event', data: bare },
        { id: 'l-4', source: 'lark.approval', type: 'lark.event', data: { hello: 1 } },
      ]),
      { headers: BATCH, receivedAt: RECEIVED },
    );
    expect(result).toMatchObject({
      ok: true,
      events: [
        { kind: 'notice', notice: { kind: 'approval', platform: 'lark', eventId: 'l-1', instanceId: 'IC-1', via: 'eventbridge' } },
        { kind: 'notice', notice: { kind: 'user-left', platform: 'lark', eventId: 'l-2', userIds: ['ou_1'] } },
        { kind: 'notice', notice: { instanceId: 'IC-3', eventId: 'l-3' } },
        { kind: 'ignored' },
      ],
    });
  });
});

describe('readCloudEvents: modes and refusals', () => {
  it('reads binary mode (ce-* headers, body the data)', () => {
    const headers = { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'b-1', 'ce-source': 'acs.ecs', 'ce-type': 'ecs:CloudAssistant:FirstHeartbeat', 'ce-subject': 'acs:ecs:cn-hangzhou:1:instance/i-b' };
    expect(readCloudEvents(json({ regionId: 'cn-hangzhou' }), { headers })).toEqual({ ok: true, events: [{ id: 'b-1', source: 'acs.ecs', type: 'ecs:CloudAssistant:FirstHeartbeat', kind: 'instance-appeared', instanceId: 'i-b' }] });
    expect(readCloudEvents(json({}), { headers: { 'ce-specversion': '1.0', 'ce-source': 'acs.ecs', 'ce-type': 't' } })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('id') });
  });

  it('refuses bodies that are not CloudEvents with 400, content types that cannot be with 415', () => {
    expect(readCloudEvents(Buffer.from('not json'))).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('not JSON') });
    expect(readCloudEvents(Buffer.alloc(0))).toMatchObject({ ok: false, status: 400 });
    expect(readCloudEvents(json({ id: 'x', type: 't' }))).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('source') });
    expect(readCloudEvents(json([heartbeat, { id: '', source: 's', type: 't' }]))).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('event 1: id') });
    expect(readCloudEvents(json(42))).toMatchObject({ ok: false, status: 400 });
    expect(readCloudEvents(json(heartbeat), { headers: BATCH })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('JSON list') });
    expect(readCloudEvents(json([heartbeat]), { headers: STRUCTURED })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('one JSON object') });
    expect(readCloudEvents(json(heartbeat), { headers: { 'content-type': 'text/plain' } })).toMatchObject({ ok: false, status: 415 });
    expect(readCloudEvents(json([]), { headers: BATCH })).toEqual({ ok: true, events: [] });
  });
});

describe('checkEventBridgeSecret', () => {
  it('accepts exactly the configured secret in X-Rollcall-Secret', () => {
    expect(checkEventBridgeSecret({ 'x-rollcall-secret': 's3cret' }, 's3cret')).toBe(true);
    expect(checkEventBridgeSecret({ 'x-rollcall-secret': 's3cre' }, 's3cret')).toBe(false);
    expect(checkEventBridgeSecret({ 'x-rollcall-secret': 's3cret!' }, 's3cret')).toBe(false);
    expect(checkEventBridgeSecret({}, 's3cret')).toBe(false);
    expect(checkEventBridgeSecret({ 'x-rollcall-secret': '' }, '')).toBe(false);
  });
});
