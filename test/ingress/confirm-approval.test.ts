import { afterEach, describe, expect, it } from 'vitest';
import { RollcallError } from '../../src/config/errors.js';
import { CHAT_API_PATHS, startChatOpenApiEmulator, type ChatOpenApiEmulator } from '../../src/emulators/chat/open-api-emulator.js';
import { confirmApproval, dingtalkApproval, larkApproval } from '../../src/ingress/confirm-approval.js';
import type { ApprovalNotice } from '../../src/ingress/ingress-notice.js';
import { DingtalkOpenApi, DingtalkProcessInstance } from '../../src/ingress/dingtalk/open-api.js';
import { LarkOpenApi, type LarkApprovalInstance } from '../../src/ingress/lark/open-api.js';

const DINGTALK = { appKey: 'dingconfirmkey01', appSecret: 'dt-confirm-secret' };
const LARK = { appId: 'cli_0123456789abcdef', appSecret: 'lark-confirm-secret' };
const noWait = () => Promise.resolve();

const emulators: ChatOpenApiEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function setup() {
  const emulator = await startChatOpenApiEmulator({ dingtalk: DINGTALK, lark: LARK });
  emulators.push(emulator);
  const clients = {
    dingtalk: new DingtalkOpenApi({ ...DINGTALK, baseUrl: emulator.url, sleep: noWait }),
    lark: new LarkOpenApi({ ...LARK, domain: emulator.url, sleep: noWait }),
  };
  return { emulator, clients };
}

const dingtalkNotice = (instanceId: string, processCode: string | undefined = 'PROC-ONBOARD'): ApprovalNotice => ({
  kind: 'approval',
  platform: 'dingtalk',
  eventId: `ev-${instanceId}`,
  instanceId,
  via: 'http',
  ...(processCode ? { processCode } : {}),
});
const larkNotice = (instanceId: string): ApprovalNotice => ({ kind: 'approval', platform: 'lark', eventId: `ev-${instanceId}`, instanceId, via: 'http' });

describe('confirmApproval against the chat open-API emulator: DingTalk', () => {
  it('builds the ApprovalEvent of an approved instance from the API reply', async () => {
    const { emulator, clients } = await setup();
    const id = emulator.dingtalk.createInstance({ processCode: 'PROC-ONBOARD', originatorUserId: 'u-hr', form: { 工号: 'E123', 账号: 'zhangsan', 审批人: '["manager-1"]' }, approvers: ['u-lead', 'u-cto', 'u-lead'] });
    emulator.dingtalk.complete(id, 'agree');
    const confirmed = await confirmApproval(dingtalkNotice(id), clients);
    expect(confirmed.ok).toBe(true);
    if (!confirmed.ok) return;
    expect(confirmed.event).toEqual({
      platform: 'dingtalk',
      approvalId: id,
      processCode: 'PROC-ONBOARD',
      requester: { id: 'u-hr' },
      approvers: [{ id: 'u-lead' }, { id: 'u-cto' }],
      // A contact picker's one-element JSON list is flattened to its value.
      form: { 工号: 'E123', 账号: 'zhangsan', 审批人: 'manager-1' },
      finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/),
    });
    expect(Math.abs(Date.parse(confirmed.event.finishedAt) - Date.now())).toBeLessThan(120_000);
  });

  it('refuses a refused or a running instance with a reason', async () => {
    const { emulator, clients } = await setup();
    const refused = emulator.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u', form: {}, approvers: ['a'] });
    emulator.dingtalk.complete(refused, 'refuse');
    const running = emulator.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u', form: {}, approvers: ['a'] });
    expect(await confirmApproval(dingtalkNotice(refused), clients)).toEqual({ ok: false, reason: expect.stringContaining('result refuse, not agree') });
    expect(await confirmApproval(dingtalkNotice(running), clients)).toEqual({ ok: false, reason: expect.stringContaining('is RUNNING, not finished') });
  });

  it('fails with cloud-api for an unknown instance, and rides out one rate limit', async () => {
    const { emulator, clients } = await setup();
    await expect(confirmApproval(dingtalkNotice('no-such-instance'), clients)).rejects.toMatchObject({ code: 'cloud-api', message: expect.stringContaining('no-such-instance') });
    const id = emulator.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u', form: {}, approvers: ['a'] });
    emulator.dingtalk.complete(id, 'agree');
    const before = emulator.calls.get(CHAT_API_PATHS.dingtalkInstance) ?? 0;
    emulator.setRateLimit(CHAT_API_PATHS.dingtalkInstance, 1);
    expect(await confirmApproval(dingtalkNotice(id, 'P'), clients)).toMatchObject({ ok: true, event: { approvalId: id } });
    expect(emulator.calls.get(CHAT_API_PATHS.dingtalkInstance)).toBe(before + 2);
  });

  it('fails clearly when neither the reply nor the event gives a processCode', async () => {
    const { emulator, clients } = await setup();
    const id = emulator.dingtalk.createInstance({ processCode: 'P', originatorUserId: 'u', form: {}, approvers: ['a'] });
    emulator.dingtalk.complete(id, 'agree');
    const error = await confirmApproval(dingtalkNotice(id, ''), clients).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RollcallError);
    expect(error).toMatchObject({ code: 'cloud-api', message: expect.stringContaining('no processCode') });
  });

  it('says when the platform has no client configured', async () => {
    expect(await confirmApproval(dingtalkNotice('x'), {})).toEqual({ ok: false, reason: expect.stringContaining('ROLLCALL_DINGTALK_APP_KEY') });
    expect(await confirmApproval(larkNotice('x'), {})).toEqual({ ok: false, reason: expect.stringContaining('ROLLCALL_LARK_APP_ID') });
  });
});

describe('confirmApproval against the chat open-API emulator: Lark', () => {
  it('builds the ApprovalEvent of an approved instance from the API reply', async () => {
    const { emulator, clients } = await setup();
    const code = emulator.lark.createInstance({ approvalCode: '7C468A54-GRANT', userId: 'lark-u1', form: { 角色: 'analyst', 截止日期: '2027-01-31' }, approvers: ['lark-lead'] });
    emulator.lark.complete(code, 'APPROVED');
    const confirmed = await confirmApproval(larkNotice(code), clients);
    expect(confirmed).toEqual({
      ok: true,
      event: {
        platform: 'lark',
        approvalId: code,
        processCode: '7C468A54-GRANT',
        requester: { id: 'lark-u1' },
        approvers: [{ id: 'lark-lead' }],
        form: { 角色: 'analyst', 截止日期: '2027-01-31' },
        finishedAt: expect.stringMatching(/Z$/),
      },
    });
    if (confirmed.ok) expect(Math.abs(Date.parse(confirmed.event.finishedAt) - Date.now())).toBeLessThan(60_000);
  });

  it('refuses a rejected or pending instance, fails for an unknown one, rides out one rate limit', async () => {
    const { emulator, clients } = await setup();
    const rejected = emulator.lark.createInstance({ approvalCode: 'A', userId: 'u', form: {}, approvers: ['a'] });
    emulator.lark.complete(rejected, 'REJECTED');
    const pending = emulator.lark.createInstance({ approvalCode: 'A', userId: 'u', form: {}, approvers: ['a'] });
    expect(await confirmApproval(larkNotice(rejected), clients)).toEqual({ ok: false, reason: expect.stringContaining('is REJECTED, not APPROVED') });
    expect(await confirmApproval(larkNotice(pending), clients)).toEqual({ ok: false, reason: expect.stringContaining('is PENDING') });
    await expect(confirmApproval(larkNotice('NO-SUCH'), clients)).rejects.toMatchObject({ code: 'cloud-api', message: expect.stringContaining('NO-SUCH') });

    emulator.lark.complete(pending, 'APPROVED');
    emulator.setRateLimit(CHAT_API_PATHS.larkInstance, 1);
    const before = emulator.calls.get(CHAT_API_PATHS.larkInstance) ?? 0;
    expect(await confirmApproval(larkNotice(pending), clients)).toMatchObject({ ok: true, event: { approvalId: pending } });
    expect(emulator.calls.get(CHAT_API_PATHS.larkInstance)).toBe(before + 2);
  });
});

describe('replies the emulator does not make', () => {
  const dingtalk = (fields: Record<string, unknown>) =>
    DingtalkProcessInstance.parse({ status: 'COMPLETED', result: 'agree', originatorUserId: 'u-1', finishTime: '2026-11-28T00:12Z', ...fields });

  it('DingTalk: the reply processCode wins, names are kept, only agreeing completed tasks approve, first field of a name wins', () => {
    const confirmed = dingtalkApproval(
      dingtalkNotice('pi', 'FROM-EVENT'),
      dingtalk({
        processCode: 'FROM-REPLY',
        originatorUserName: 'Zhang San',
        tasks: [
          { userId: 'a', result: 'AGREE', status: 'COMPLETED', userName: 'Alice' },
          { userId: 'b', result: 'REFUSE', status: 'COMPLETED' },
          { userId: 'c', result: 'REDIRECTED', status: 'CANCELED' },
          { userId: 'a', result: 'AGREE', status: 'COMPLETED' },
          { userId: 'd', result: 'AGREE', status: 'RUNNING' },
        ],
        formComponentValues: [{ name: 'x', value: '1' }, { name: 'x', value: '2' }, { value: 'no name' }, { name: 'empty', value: null }, { name: 'list', value: '["a","b"]' }],
      }),
    );
    expect(confirmed).toEqual({
      ok: true,
      event: {
        platform: 'dingtalk',
        approvalId: 'pi',
        processCode: 'FROM-REPLY',
        requester: { id: 'u-1', name: 'Zhang San' },
        approvers: [{ id: 'a', name: 'Alice' }],
        form: { x: '1', empty: '', list: '["a","b"]' },
        finishedAt: '2026-11-28T00:12:00.000Z',
      },
    });
  });

  it('DingTalk: a completed reply without any finish time is a cloud-api error; operationRecords stand in for finishTime', () => {
    const bare = DingtalkProcessInstance.parse({ status: 'COMPLETED', result: 'agree', originatorUserId: 'u' });
    expect(() => dingtalkApproval(dingtalkNotice('pi'), bare)).toThrow(/no finishTime/);
    const withRecords = DingtalkProcessInstance.parse({ status: 'COMPLETED', result: 'agree', originatorUserId: 'u', operationRecords: [{ date: '2026-11-27T10:00Z' }, { date: '2026-11-28T09:30Z' }] });
    expect(dingtalkApproval(dingtalkNotice('pi'), withRecords)).toMatchObject({ ok: true, event: { finishedAt: '2026-11-28T09:30:00.000Z' } });
  });

  const lark = (fields: Partial<LarkApprovalInstance>): LarkApprovalInstance => ({
    status: 'APPROVED',
    approval_code: 'AC',
    user_id: 'u-1',
    end_time: '1764291600000',
    form: [],
    timeline: [],
    task_list: [],
    ...fields,
  });

  it('Lark: values stringified, approvers from tasks and timeline once, open_id when no user_id', () => {
    const confirmed = larkApproval(
      larkNotice('IC'),
      lark({
        user_id: null,
        open_id: 'ou_req',
        form: [
          { id: 'w1', name: 'count', value: 3 },
          { id: 'w2', name: 'yes', value: true },
          { id: 'w3', custom_id: 'dates', value: ['2027-01-01', '2027-01-31'] },
          { id: 'w4', value: { a: 1 } },
          { id: 'w5', name: 'none', value: null },
        ],
        task_list: [{ user_id: 'a', status: 'APPROVED' }, { open_id: 'ou_b', status: 'APPROVED' }, { user_id: 'c', status: 'REJECTED' }],
        timeline: [{ type: 'START', user_id: 'u-1' }, { type: 'PASS', user_id: 'a' }, { type: 'PASS', user_id: 'e' }],
      }),
    );
    expect(confirmed).toEqual({
      ok: true,
      event: {
        platform: 'lark',
        approvalId: 'IC',
        processCode: 'AC',
        requester: { id: 'ou_req' },
        approvers: [{ id: 'a' }, { id: 'ou_b' }, { id: 'e' }],
        form: { count: '3', yes: 'true', dates: '2027-01-01, 2027-01-31', w4: '{"a":1}', none: '' },
        finishedAt: '2025-11-28T01:00:00.000Z',
      },
    });
  });

  it('Lark: a reply without approval_code, requester or end_time is a cloud-api error naming the instance', () => {
    expect(() => larkApproval(larkNotice('IC'), lark({ approval_code: null }))).toThrow(expect.objectContaining({ code: 'cloud-api', message: expect.stringContaining('IC has no approval_code') }));
    expect(() => larkApproval(larkNotice('IC'), lark({ user_id: null, open_id: null }))).toThrow(/names no requester/);
    expect(() => larkApproval(larkNotice('IC'), lark({ end_time: '0' }))).toThrow(/no end_time/);
  });
});
