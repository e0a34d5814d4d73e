import { randomBytes } from 'node:crypto';
import { httpSourceEvent, type BusEvent, type HttpSourceRequest } from '../../../src/emulators/eventbridge/cloud-event-envelope.js';
import { dingtalkSignature, encryptDingtalk } from '../../../src/ingress/dingtalk/callback-crypto.js';
import { encryptLark, larkSignature } from '../../../src/ingress/lark/callback-crypto.js';

/*
 * The platforms' webhooks as they reach an EventBridge HTTPS event source, sealed and signed with
 * rollcall's own crypto (src/ingress), and wrapped into HTTPEvents by the EventBridge emulator's
 * own envelope code (httpSourceEvent).
 */

export const DINGTALK = { token: 'dt-callback-token', encodingAesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7', appKey: 'dingappkey0001' };
export const LARK = { verificationToken: 'lark-verification-token', encryptKey: 'lark-encrypt-key' };
/** Every secret above: none may appear in a log or a refusal. */
export const WEBHOOK_SECRETS = [DINGTALK.token, DINGTALK.encodingAesKey, LARK.verificationToken, LARK.encryptKey];

export interface DingtalkWebhookOptions {
  token?: string;
  encodingAesKey?: string;
  ownerKey?: string;
  /** Epoch ms as DingTalk signs it. Default now. */
  timestamp?: number;
  /** Changes the encrypt field after signing. */
  tamper?: (encrypt: string) => string;
}

/** A DingTalk HTTP push of `event` as the HTTPS source receives it. */
export function dingtalkWebhook(event: object, options: DingtalkWebhookOptions = {}): HttpSourceRequest {
  const timestamp = String(options.timestamp ?? Date.now());
  const nonce = randomBytes(4).toString('hex');
  const encrypt = encryptDingtalk(options.encodingAesKey ?? DINGTALK.encodingAesKey, JSON.stringify(event), options.ownerKey ?? DINGTALK.appKey);
  const signature = dingtalkSignature(options.token ?? DINGTALK.token, timestamp, nonce, encrypt);
  const body = JSON.stringify({ encrypt: options.tamper ? options.tamper(encrypt) : encrypt });
  return { method: 'POST', path: '/webhook/putEvents', query: { msg_signature: signature, timestamp, nonce }, headers: { 'content-type': 'application/json; charset=utf-8', host: 'bus.example' }, body: Buffer.from(body) };
}

export interface LarkWebhookOptions {
  /** undefined: the app does not encrypt (plain body, no signature). Default LARK.encryptKey. */
  encryptKey?: string | undefined;
  /** Signs with this key instead (a forger's). */
  signingKey?: string;
  /** Epoch seconds. Default now. */
  timestamp?: number;
  /** Serializes the body (default compact, as Lark sends it). */
  serialize?: (body: object) => string;
  /** Changes the body after signing. */
  tamper?: (body: string) => string;
  /** Header names as sent (default Lark's casing). */
  headerCase?: 'lark' | 'lower';
}

/** A Lark HTTP callback of `envelope` (with its `token`) as the HTTPS source receives it. */
export function larkWebhook(envelope: object, options: LarkWebhookOptions = {}): HttpSourceRequest {
  const encryptKey = 'encryptKey' in options ? options.encryptKey : LARK.encryptKey;
  const serialize = options.serialize ?? ((value: object) => JSON.stringify(value));
  const signed = encryptKey === undefined ? serialize(envelope) : serialize({ encrypt: encryptLark(encryptKey, JSON.stringify(envelope)) });
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = randomBytes(8).toString('hex');
  const names = options.headerCase === 'lower'
    ? { ts: 'x-lark-request-timestamp', nonce: 'x-lark-request-nonce', sig: 'x-lark-signature' }
    : { ts: 'X-Lark-Request-Timestamp', nonce: 'X-Lark-Request-Nonce', sig: 'X-Lark-Signature' };
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', [names.ts]: timestamp, [names.nonce]: nonce };
  const signingKey = options.signingKey ?? encryptKey;
  if (signingKey !== undefined) headers[names.sig] = larkSignature(timestamp, nonce, signingKey, Buffer.from(signed, 'utf8'));
  const body = options.tamper ? options.tamper(signed) : signed;
  return { method: 'POST', path: '/webhook/putEvents', query: {}, headers, body: Buffer.from(body) };
}

/** The HTTPEvent the bus makes of a request to the source `sourceName`, accepted at `now`. */
export function httpEvent(sourceName: 'dingtalk.approval' | 'lark.approval', request: HttpSourceRequest, now = new Date()): BusEvent {
  return httpSourceEvent(sourceName, 'rollcall', request, { accountId: '1234567890123456', regionId: 'cn-hangzhou', publishAddr: '203.0.113.7', now });
}

/** A finished, approved DingTalk instance as its HTTP push carries it. */
export function dingtalkApproval(instanceId: string, eventId?: string): object {
  return { EventType: 'bpms_instance_change', CorpId: 'dingcorp', ...(eventId ? { eventId } : {}), processInstanceId: instanceId, processCode: 'PROC-ONBOARD', type: 'finish', result: 'agree', staffId: 'u1' };
}

/** A Lark v1 approval_instance callback, APPROVED. */
export function larkApproval(instanceCode: string, uuid: string, token = LARK.verificationToken): object {
  return { uuid, token, ts: '1764290000.000000', type: 'event_callback', event: { app_id: 'cli_0123456789abcdef', tenant_key: 't', type: 'approval_instance', approval_code: 'APPROVAL-ONBOARD', instance_code: instanceCode, status: 'APPROVED', operate_time: '1764290000000' } };
}
