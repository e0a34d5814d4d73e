import { describe, expect, it } from 'vitest';
import { noticeFromDingtalkEvent, noticeFromDingtalkHttpEvent, noticeFromLarkEvent } from '../../src/ingress/parse-notice.js';

const RECEIVED = new Date('2026-11-28T01:00:00.000Z');

describe('noticeFromDingtalkEvent', () => {
  const finish = { processInstanceId: 'pi-1', processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', staffId: 'u-1', finishTime: 1764291600000 };

  it('turns a finished, agreed bpms_instance_change into an approval notice with the delivery id', () => {
    expect(noticeFromDingtalkEvent('bpms_instance_change', 'ev-1', finish, 'stream')).toEqual({
      notice: { kind: 'approval', platform: 'dingtalk', eventId: 'ev-1', instanceId: 'pi-1', via: 'stream', processCode: 'PROC-ONBOARD' },
    });
  });

  it('derives a stable event id from the content when the push has none, so redeliveries dedupe', () => {
    const first = noticeFromDingtalkEvent('bpms_instance_change', undefined, finish, 'http');
    const again = noticeFromDingtalkEvent('bpms_instance_change', undefined, { ...finish, url: 'other' }, 'http');
    expect(first).toMatchObject({ notice: { eventId: 'bpms_instance_change:pi-1:finish' } });
    expect(again).toEqual(first);
  });

  it('ignores other types and results with a reason', () => {
    expect(noticeFromDingtalkEvent('bpms_instance_change', 'e', { ...finish, type: 'start' }, 'http')).toEqual({ ignored: expect.stringContaining('(start), not finished') });
    expect(noticeFromDingtalkEvent('bpms_instance_change', 'e', { ...finish, result: 'refuse' }, 'http')).toEqual({ ignored: expect.stringContaining('result refuse') });
    expect(noticeFromDingtalkEvent('bpms_instance_change', 'e', { ...finish, type: 'terminate', result: undefined }, 'http')).toHaveProperty('ignored');
    expect(noticeFromDingtalkEvent('bpms_instance_change', 'e', { type: 'finish', result: 'agree' }, 'http')).toEqual({ ignored: expect.stringContaining('without a processInstanceId') });
    expect(noticeFromDingtalkEvent('bpms_task_change', 'e', finish, 'http')).toEqual({ ignored: expect.stringContaining('"bpms_task_change" is not one') });
  });

  it('reads user_leave_org from HTTP (UserId list) and stream (userId, one or many)', () => {
    expect(noticeFromDingtalkEvent('user_leave_org', 'e1', { UserId: ['u-1', 'u-2', 'u-1'], TimeStamp: '1764291600000' }, 'http')).toEqual({
      notice: { kind: 'user-left', platform: 'dingtalk', eventId: 'e1', userIds: ['u-1', 'u-2'], at: '2025-11-28T01:00:00.000Z', via: 'http' },
    });
    expect(noticeFromDingtalkEvent('user_leave_org', 'e2', { userId: 'u-3', timeStamp: 1764291600 }, 'stream')).toMatchObject({ notice: { userIds: ['u-3'], at: '2025-11-28T01:00:00.000Z' } });
    expect(noticeFromDingtalkEvent('user_leave_org', 'e3', { userId: ['u-4'] }, 'stream', RECEIVED)).toMatchObject({ notice: { userIds: ['u-4'], at: RECEIVED.toISOString() } });
    expect(noticeFromDingtalkEvent('user_leave_org', undefined, { UserId: ['u-1'], TimeStamp: '1764291600000' }, 'http')).toMatchObject({ notice: { eventId: 'user_leave_org:u-1:2025-11-28T01:00:00.000Z' } });
    expect(noticeFromDingtalkEvent('user_leave_org', 'e4', { UserId: [] }, 'http')).toEqual({ ignored: expect.stringContaining('without any UserId') });
    expect(noticeFromDingtalkEvent('user_leave_org', 'e5', { UserId: '' , userId: ['u-5']}, 'http')).toMatchObject({ notice: { userIds: ['u-5'] } });
  });
});

describe('noticeFromDingtalkHttpEvent', () => {
  it('answers the URL check, reads EventType and eventId from the top level, ignores a push without EventType', () => {
    expect(noticeFromDingtalkHttpEvent({ EventType: 'check_url' }, 'http')).toEqual({ checkUrl: true });
    expect(noticeFromDingtalkHttpEvent({ EventType: 'bpms_instance_change', eventId: 'abc', processInstanceId: 'pi-9', type: 'finish', result: 'agree' }, 'http')).toEqual({
      notice: { kind: 'approval', platform: 'dingtalk', eventId: 'abc', instanceId: 'pi-9', via: 'http' },
    });
    expect(noticeFromDingtalkHttpEvent({ processInstanceId: 'pi-9' }, 'http')).toEqual({ ignored: expect.stringContaining('without an EventType') });
    expect(noticeFromDingtalkHttpEvent('nonsense', 'http')).toHaveProperty('ignored');
  });
});

describe('noticeFromLarkEvent', () => {
  it('turns v1 approval_instance and v2 status_changed_v4 with APPROVED into approval notices', () => {
    const v1 = { type: 'approval_instance', approval_code: 'AC', instance_code: 'IC-1', status: 'APPROVED', uuid: 'u' };
    expect(noticeFromLarkEvent('approval_instance', 'uuid-1', v1, 'http')).toEqual({ notice: { kind: 'approval', platform: 'lark', eventId: 'uuid-1', instanceId: 'IC-1', processCode: 'AC', via: 'http' } });
    expect(noticeFromLarkEvent('approval.instance.status_changed_v4', 'ev-2', { instance_code: 'IC-2', status: 'approved' }, 'stream')).toMatchObject({ notice: { instanceId: 'IC-2', eventId: 'ev-2' } });
  });

  it('ignores other statuses and events with a reason', () => {
    for (const status of ['PENDING', 'REJECTED', 'CANCELED', 'DELETED']) {
      expect(noticeFromLarkEvent('approval_instance', 'u', { instance_code: 'IC', status }, 'http')).toEqual({ ignored: expect.stringContaining(`is ${status}, not APPROVED`) });
    }
    expect(noticeFromLarkEvent('approval_instance', 'u', { status: 'APPROVED' }, 'http')).toEqual({ ignored: expect.stringContaining('without an instance_code') });
    expect(noticeFromLarkEvent('im.message.receive_v1', 'u', {}, 'http')).toHaveProperty('ignored');
  });

  it('turns contact.user.deleted_v3 into a user-left notice with every id in object', () => {
    const event = { object: { open_id: 'ou_1', user_id: 'uid1', union_id: 'on_1', name: 'Zhang San' } };
    expect(noticeFromLarkEvent('contact.user.deleted_v3', 'ev-3', event, 'http', RECEIVED)).toEqual({
      notice: { kind: 'user-left', platform: 'lark', eventId: 'ev-3', userIds: ['ou_1', 'uid1', 'on_1'], at: RECEIVED.toISOString(), via: 'http' },
    });
    expect(noticeFromLarkEvent('contact.user.deleted_v3', 'ev-4', { object: { open_id: 'ou_2' }, ts: '1764291600.123' }, 'http')).toMatchObject({ notice: { userIds: ['ou_2'], at: '2025-11-28T01:00:00.123Z' } });
    expect(noticeFromLarkEvent('contact.user.deleted_v3', 'ev-5', { object: { name: 'x' } }, 'http')).toHaveProperty('ignored');
    expect(noticeFromLarkEvent('contact.user.deleted_v3', 'ev-6', {}, 'http')).toHaveProperty('ignored');
  });
});
