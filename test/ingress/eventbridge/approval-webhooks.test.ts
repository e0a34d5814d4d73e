import { describe, expect, it } from 'vitest';
import { approvalWebhookSecrets, type ApprovalWebhookSecrets } from '../../../src/ingress/eventbridge/approval-webhooks.js';
import { readCloudEvents, type ParsedCloudEvent } from '../../../src/ingress/eventbridge/cloud-events.js';
import { readIngressConfig } from '../../../src/ingress/ingress-config.js';
import { DINGTALK, dingtalkApproval, dingtalkWebhook, httpEvent, LARK, larkApproval, larkWebhook, WEBHOOK_SECRETS } from './webhook-fixture.js';

const SECRETS: ApprovalWebhookSecrets = { dingtalk: DINGTALK, lark: LARK };
const STRUCTURED = { 'content-type': 'application/cloudevents+json; charset=utf-8' };

/** Reads one delivered event (as the approvals rule's ORIGINAL body) with the given secrets. */
function read(event: unknown, secrets: ApprovalWebhookSecrets = SECRETS, receivedAt?: Date): ParsedCloudEvent {
  const result = readCloudEvents(Buffer.from(JSON.stringify(event)), { headers: STRUCTURED, webhooks: secrets, ...(receivedAt ? { receivedAt } : {}) });
  if (!result.ok) throw new Error(result.error);
  expect(result.events).toHaveLength(1);
  return result.events[0]!;
}

function expectNoSecret(value: unknown): void {
  const text = JSON.stringify(value);
  for (const secret of WEBHOOK_SECRETS) expect(text).not.toContain(secret);
}

describe('readCloudEvents: DingTalk webhooks through an HTTPS source', () => {
  it('verifies the signed, sealed push inside the HTTPEvent and makes the notice the direct route makes', () => {
    const event = httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-100', 'dt-event-1')));
    expect(event.type).toBe('eventbridge:Events:HTTPEvent');
    expect(read(event)).toEqual({
      id: event.id,
      source: 'dingtalk.approval',
      type: 'eventbridge:Events:HTTPEvent',
      kind: 'notice',
      // The platform's id, not the bus's: a DingTalk retry is a new HTTPEvent with the same eventId.
      notice: { kind: 'approval', platform: 'dingtalk', eventId: 'dt-event-1', instanceId: 'PI-100', processCode: 'PROC-ONBOARD', via: 'eventbridge' },
    });
    // Without an eventId the push's content names it, as over HTTP.
    expect(read(httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-101'))))).toMatchObject({ kind: 'notice', notice: { eventId: 'bpms_instance_change:PI-101:finish' } });
    // A departure, and an approval refused by its approver (verified, then ignored).
    expect(read(httpEvent('dingtalk.approval', dingtalkWebhook({ EventType: 'user_leave_org', TimeStamp: '1764290000000', UserId: ['u-9'] })))).toMatchObject({
      kind: 'notice',
      notice: { kind: 'user-left', platform: 'dingtalk', userIds: ['u-9'], at: new Date(1764290000000).toISOString(), via: 'eventbridge' },
    });
    expect(read(httpEvent('dingtalk.approval', dingtalkWebhook({ ...dingtalkApproval('PI-102'), result: 'refuse' })))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('refuse') });
  });

  it('takes the query values as the bus gives them, also as lists', () => {
    const request = dingtalkWebhook(dingtalkApproval('PI-103', 'dt-event-3'));
    const event = httpEvent('dingtalk.approval', request);
    const data = event.data as Record<string, unknown>;
    const listed = { ...event, data: { ...data, queryString: Object.fromEntries(Object.entries(request.query).map(([key, value]) => [key, [value]])) } };
    expect(read(listed)).toMatchObject({ kind: 'notice', notice: { instanceId: 'PI-103' } });
  });

  it("the URL check is what it is: it cannot be answered through the bus", () => {
    expect(read(httpEvent('dingtalk.approval', dingtalkWebhook({ EventType: 'check_url' })))).toMatchObject({ kind: 'url-check', platform: 'dingtalk' });
  });

  it('refuses forged, tampered, wrongly keyed, foreign, stale and malformed pushes, saying why without a secret', () => {
    const approval = dingtalkApproval('PI-666', 'dt-forged');
    const cases: Array<[string, ReturnType<typeof httpEvent>, string]> = [
      ['forged signature', httpEvent('dingtalk.approval', dingtalkWebhook(approval, { token: 'a-forgers-token' })), 'bad-signature'],
      ['tampered ciphertext', httpEvent('dingtalk.approval', dingtalkWebhook(approval, { tamper: (encrypt) => `${encrypt.slice(0, 10)}${encrypt[10] === 'A' ? 'B' : 'A'}${encrypt.slice(11)}` })), 'bad-signature'],
      ['another aes key', httpEvent('dingtalk.approval', dingtalkWebhook(approval, { encodingAesKey: 'Z'.repeat(43) })), 'bad-encryption'],
      ['another app', httpEvent('dingtalk.approval', dingtalkWebhook(approval, { ownerKey: 'dingotherapp' })), 'wrong-owner'],
      ['stale', httpEvent('dingtalk.approval', dingtalkWebhook(approval, { timestamp: Date.now() - 10 * 60_000 })), 'stale'],
    ];
    const noQuery = httpEvent('dingtalk.approval', { ...dingtalkWebhook(approval), query: {} });
    cases.push(['no signature in the query', noQuery, 'malformed']);
    // An HTTPEvent is never an already-decrypted event: a plain approval posted to the source is refused.
    cases.push(['a plain event posted to the source', httpEvent('dingtalk.approval', { method: 'POST', path: '/webhook/putEvents', query: {}, headers: {}, body: Buffer.from(JSON.stringify(approval)) }), 'malformed']);
    const notARequest = { ...httpEvent('dingtalk.approval', dingtalkWebhook(approval)), data: { processInstanceId: 'PI-666', type: 'finish', result: 'agree' } };
    cases.push(['data that is not a request', notARequest as ReturnType<typeof httpEvent>, 'malformed']);
    for (const [name, event, reason] of cases) {
      const parsed = read(event);
      expect({ name, kind: parsed.kind, reason: (parsed as { reason?: string }).reason }).toEqual({ name, kind: 'refused', reason });
      expect(parsed).toMatchObject({ platform: 'dingtalk', detail: expect.any(String) });
      expectNoSecret(parsed);
    }
  });

  it('refuses every DingTalk webhook when its secrets are not configured, naming the variables to set', () => {
    const parsed = read(httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-104'))), { lark: LARK });
    expect(parsed).toMatchObject({ kind: 'refused', platform: 'dingtalk', reason: 'not-configured' });
    expect((parsed as { detail: string }).detail).toMatch(/ROLLCALL_DINGTALK_TOKEN and ROLLCALL_DINGTALK_AES_KEY/);
    // No options at all: the same.
    const bare = readCloudEvents(Buffer.from(JSON.stringify(httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-105'))))));
    expect(bare).toMatchObject({ ok: true, events: [{ kind: 'refused', reason: 'not-configured' }] });
  });

  it("holds the timestamp against the bus's publish time, so the target's retries do not make a push stale", () => {
    const signedAt = Date.now() - 60 * 60_000;
    const accepted = new Date(signedAt + 30_000);
    const event = httpEvent('dingtalk.approval', dingtalkWebhook(dingtalkApproval('PI-106', 'dt-late'), { timestamp: signedAt }), accepted);
    // Delivered an hour after the platform posted it (the bus retried a rollcall that was down).
    expect(read(event, SECRETS, new Date())).toMatchObject({ kind: 'notice', notice: { instanceId: 'PI-106' } });
    // Alibaba's own format of aliyunpublishtime: China time with a PRC suffix.
    const china = new Date(accepted.getTime() + 8 * 3_600_000).toISOString().replace('Z', 'PRC');
    expect(read({ ...event, aliyunpublishtime: china, time: undefined })).toMatchObject({ kind: 'notice' });
    // Replayed to the source an hour later: a new publish time, and stale.
    const replayed = { ...event, aliyunpublishtime: new Date().toISOString(), time: new Date().toISOString() };
    expect(read(replayed)).toMatchObject({ kind: 'refused', reason: 'stale' });
  });
});

describe('readCloudEvents: Lark webhooks through an HTTPS source', () => {
  it('verifies the signature over the body serialized again, opens it and makes the notice the direct route makes', () => {
    const event = httpEvent('lark.approval', larkWebhook(larkApproval('IC-200', 'lark-uuid-1')));
    // The bus hands the body over parsed: the check signs JSON.stringify of it.
    expect((event.data as { body: unknown }).body).toEqual({ encrypt: expect.any(String) });
    expect(read(event)).toEqual({
      id: event.id,
      source: 'lark.approval',
      type: 'eventbridge:Events:HTTPEvent',
      kind: 'notice',
      notice: { kind: 'approval', platform: 'lark', eventId: 'lark-uuid-1', instanceId: 'IC-200', processCode: 'APPROVAL-ONBOARD', via: 'eventbridge' },
    });
    // Header names in any casing (the emulator lower-cases them; a bus may not).
    expect(read(httpEvent('lark.approval', larkWebhook(larkApproval('IC-201', 'lark-uuid-2'), { headerCase: 'lower' })))).toMatchObject({ kind: 'notice', notice: { instanceId: 'IC-201' } });
    // A v2 departure.
    const v2 = { schema: '2.0', header: { event_id: 'lark-ev-3', event_type: 'contact.user.deleted_v3', create_time: '1764290000000', token: LARK.verificationToken }, event: { object: { open_id: 'ou_1', user_id: 'u_1' } } };
    expect(read(httpEvent('lark.approval', larkWebhook(v2)))).toMatchObject({ kind: 'notice', notice: { kind: 'user-left', platform: 'lark', eventId: 'lark-ev-3', userIds: ['ou_1', 'u_1'] } });
  });

  it('takes an app without an Encrypt Key: plain body, the verification token checked', () => {
    const secrets = { lark: { verificationToken: LARK.verificationToken } };
    expect(read(httpEvent('lark.approval', larkWebhook(larkApproval('IC-202', 'lark-uuid-4'), { encryptKey: undefined })), secrets)).toMatchObject({ kind: 'notice', notice: { instanceId: 'IC-202' } });
    expect(read(httpEvent('lark.approval', larkWebhook(larkApproval('IC-203', 'lark-uuid-5', 'not-the-token'), { encryptKey: undefined })), secrets)).toMatchObject({ kind: 'refused', reason: 'bad-signature' });
  });

  it('the URL verification is what it is', () => {
    const challenge = { challenge: 'c-1', token: LARK.verificationToken, type: 'url_verification' };
    expect(read(httpEvent('lark.approval', larkWebhook(challenge)))).toMatchObject({ kind: 'url-check', platform: 'lark' });
  });

  it('refuses forged, tampered, wrongly keyed, wrong-token, stale and unsigned callbacks, saying why without a secret', () => {
    const approval = larkApproval('IC-666', 'lark-forged');
    const cases: Array<[string, ReturnType<typeof httpEvent>, string]> = [
      ['signed with another key', httpEvent('lark.approval', larkWebhook(approval, { signingKey: 'a-forgers-key' })), 'bad-signature'],
      ['encrypted and signed with another key', httpEvent('lark.approval', larkWebhook(approval, { encryptKey: 'another-apps-key' })), 'bad-signature'],
      ['body altered after signing', httpEvent('lark.approval', larkWebhook(approval, { tamper: (body) => body.replace(/"encrypt":"(.)/, (_m, first: string) => `"encrypt":"${first === 'A' ? 'B' : 'A'}`) })), 'bad-signature'],
      ['another verification token', httpEvent('lark.approval', larkWebhook(larkApproval('IC-666', 'lark-forged', 'not-the-token'))), 'bad-signature'],
      ['stale', httpEvent('lark.approval', larkWebhook(approval, { timestamp: Math.floor(Date.now() / 1000) - 600 })), 'stale'],
      ['no signature headers', httpEvent('lark.approval', { ...larkWebhook(approval), headers: { 'content-type': 'application/json' } }), 'malformed'],
      ['a plain event without the Encrypt Key', httpEvent('lark.approval', larkWebhook(approval, { encryptKey: undefined })), 'malformed'],
      // Sent pretty-printed, the bytes JSON.stringify gives back are not the bytes signed: Lark sends compact JSON.
      ['a body not sent compact', httpEvent('lark.approval', larkWebhook(approval, { serialize: (body) => JSON.stringify(body, null, 2) })), 'bad-signature'],
    ];
    for (const [name, event, reason] of cases) {
      const parsed = read(event);
      expect({ name, kind: parsed.kind, reason: (parsed as { reason?: string }).reason }).toEqual({ name, kind: 'refused', reason });
      expect(parsed).toMatchObject({ platform: 'lark', detail: expect.any(String) });
      expectNoSecret(parsed);
    }
  });

  it('refuses every Lark webhook when its secrets are not configured, naming the variables to set', () => {
    const parsed = read(httpEvent('lark.approval', larkWebhook(larkApproval('IC-204', 'lark-uuid-6'))), { dingtalk: DINGTALK });
    expect(parsed).toMatchObject({ kind: 'refused', platform: 'lark', reason: 'not-configured' });
    expect((parsed as { detail: string }).detail).toMatch(/ROLLCALL_LARK_VERIFICATION_TOKEN/);
  });

  it('keeps reading the already-decrypted forms (data = the event) of other types', () => {
    const decrypted = { id: 'ce-7', source: 'lark.approval', type: 'lark.event', data: larkApproval('IC-205', 'lark-uuid-7') };
    expect(read(decrypted, {})).toMatchObject({ kind: 'notice', notice: { instanceId: 'IC-205', eventId: 'ce-7' } });
  });
});

describe('approvalWebhookSecrets', () => {
  it('takes the same variables as the direct routes', () => {
    const config = readIngressConfig({
      ROLLCALL_DINGTALK_APP_KEY: DINGTALK.appKey,
      ROLLCALL_DINGTALK_APP_SECRET: 's',
      ROLLCALL_DINGTALK_TOKEN: DINGTALK.token,
      ROLLCALL_DINGTALK_AES_KEY: DINGTALK.encodingAesKey,
      ROLLCALL_LARK_APP_ID: 'cli_0123456789abcdef',
      ROLLCALL_LARK_APP_SECRET: 's',
      ROLLCALL_LARK_VERIFICATION_TOKEN: LARK.verificationToken,
      ROLLCALL_LARK_ENCRYPT_KEY: LARK.encryptKey,
    });
    expect(approvalWebhookSecrets(config)).toEqual({ dingtalk: DINGTALK, lark: LARK });
    // The apps without their callbacks (stream, long connection): no secrets.
    expect(approvalWebhookSecrets(readIngressConfig({ ROLLCALL_DINGTALK_APP_KEY: 'k', ROLLCALL_DINGTALK_APP_SECRET: 's', ROLLCALL_DINGTALK_STREAM: '1' }))).toEqual({});
  });
});
