import { describe, expect, it } from 'vitest';
import { firstHeartbeatEvent } from '../../src/emulators/ecs/first-heartbeat-event.js';
import { taskCompletedEvent, type TaskCompletedFields } from '../../src/emulators/ecs/task-completed-event.js';
import { httpSourceEvent, type PublishContext } from '../../src/emulators/eventbridge/cloud-event-envelope.js';
import { compileEventPattern } from '../../src/emulators/eventbridge/event-pattern.js';
import { readCloudEvents } from '../../src/ingress/eventbridge/cloud-events.js';
import { FULL_CONFIG, MINIMAL_CONFIG, synthStack, terraformText, type TerraformDocument } from './stack-fixtures.js';

/*
 * The rules' filter_pattern exactly as synthesized (Terraform's reading of the string), compiled
 * by the EventBridge emulator's pattern engine, against events in the shapes EventBridge delivers
 * them: approval webhooks as the HTTPS source makes them, decrypted approvals bridged by a
 * publisher, and Cloud Assistant's own events.
 */

const NOW = new Date('2026-11-28T02:00:00.000Z');
const CONTEXT: PublishContext = { accountId: '1234567890', regionId: 'cn-shanghai', publishAddr: '203.0.113.9', now: NOW };

function matchers(document: TerraformDocument): Record<'approvals' | 'cloud-assistant-results' | 'new-instances', (event: unknown) => boolean> {
  const rules = document.resource['alicloud_event_bridge_rule']!;
  const compile = (name: string) => compileEventPattern(terraformText(rules[name]!['filter_pattern'] as string));
  return { approvals: compile('approvals'), 'cloud-assistant-results': compile('cloud-assistant-results'), 'new-instances': compile('new-instances') };
}

/** What each rule says of an event: the names of the rules it matches. */
const routed = (rules: ReturnType<typeof matchers>, event: unknown) => Object.entries(rules).flatMap(([name, match]) => (match(event) ? [name] : []));

/** A webhook post to an HTTPS event source, as the source turns it into an event. */
const webhook = (source: string, body: unknown, query: Record<string, string> = {}) =>
  httpSourceEvent(source, 'rollcall-prod', { method: 'POST', path: '/webhook/putEvents', query, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) }, CONTEXT);

// DingTalk's HTTP push: the encrypted envelope, signature in the query (the published vector).
const DINGTALK_PUSH = webhook(
  'dingtalk.approval',
  { encrypt: '0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3' },
  { msg_signature: '03044561471240d4a14bb09372dfcfd4fd0e40cb', timestamp: '1608001896814', nonce: 'WL4PK6yA' },
);
// A decrypted bpms_instance_change bridged onto the bus by a publisher (PutEvents).
const bridgedDingtalk = (result: 'agree' | 'refuse') => ({
  id: 'ce-dt-1',
  source: 'dingtalk.approval',
  specversion: '1.0',
  type: 'dingtalk:approval:bpms_instance_change',
  time: NOW.toISOString(),
  data: { EventType: 'bpms_instance_change', processInstanceId: 'pi-1', processCode: 'PROC-ONBOARD', type: 'finish', result, staffId: 'u-1', finishTime: NOW.getTime() },
  aliyunaccountid: '1234567890',
  aliyunpublishtime: NOW.toISOString(),
  aliyuneventbusname: 'rollcall-prod',
  aliyunregionid: 'cn-shanghai',
  aliyunpublishaddr: '203.0.113.9',
});
const LARK_CALLBACK = webhook('lark.approval', {
  uuid: 'u-1',
  token: 'verification-token',
  ts: '1700000000.0',
  type: 'event_callback',
  event: { app_id: 'cli_0123456789abcdef', tenant_key: 't', type: 'approval_instance', approval_code: 'AC-1', instance_code: 'IC-1', status: 'APPROVED', operate_time: '1700000000000', uuid: 'u-1' },
});

const completion = (fields: Partial<TaskCompletedFields> = {}) =>
  taskCompletedEvent({ accountId: '1234567890', regionId: 'cn-shanghai', invokeId: 't-sh0001', commandId: 'c-sh0001', commandName: 'rollcall-agent', instanceId: 'i-sh0001', invocationStatus: 'Success', exitCode: 0, finishTime: NOW, ...fields }, NOW);
const HEARTBEAT = firstHeartbeatEvent({ accountId: '1234567890', regionId: 'cn-shanghai', instanceId: 'i-new0001', firstHeartbeatTime: NOW }, NOW);

describe('the synthesized rules against real events', () => {
  const rules = matchers(synthStack(FULL_CONFIG).document);

  it('approvals: a DingTalk push, a bridged DingTalk approval and a Lark callback, each to the approvals rule only', () => {
    expect(routed(rules, DINGTALK_PUSH)).toEqual(['approvals']);
    expect(routed(rules, bridgedDingtalk('agree'))).toEqual(['approvals']);
    expect(routed(rules, LARK_CALLBACK)).toEqual(['approvals']);
    // What the rule delivers is what rollcall's ingress reads as an approval.
    expect(readCloudEvents(Buffer.from(JSON.stringify(bridgedDingtalk('agree'))))).toMatchObject({ ok: true, events: [{ kind: 'notice', notice: { kind: 'approval', instanceId: 'pi-1' } }] });
  });

  it('approvals: a refused approval still reaches rollcall (the rule filters on source only; rollcall confirms and drops it)', () => {
    expect(routed(rules, bridgedDingtalk('refuse'))).toEqual(['approvals']);
    expect(readCloudEvents(Buffer.from(JSON.stringify(bridgedDingtalk('refuse'))))).toMatchObject({ ok: true, events: [{ kind: 'ignored', reason: expect.stringContaining('refuse') }] });
  });

  it('approvals: near misses of the source do not match', () => {
    for (const source of ['dingtalk.approvals', 'Dingtalk.approval', 'dingtalk', 'lark.approval.v2', 'feishu.approval', 'acs.ecs']) {
      expect(rules.approvals({ ...bridgedDingtalk('agree'), source }), source).toBe(false);
    }
    // Only the configured platforms: a dingtalk-only stack takes no Lark events.
    const dingtalkOnly = matchers(synthStack(MINIMAL_CONFIG).document);
    expect(dingtalkOnly.approvals(DINGTALK_PUSH)).toBe(true);
    expect(dingtalkOnly.approvals(LARK_CALLBACK)).toBe(false);
  });

  it('cloud-assistant-results: TaskCompleted of rollcall’s commands, whatever the outcome', () => {
    expect(routed(rules, completion())).toEqual(['cloud-assistant-results']);
    expect(routed(rules, completion({ invocationStatus: 'Failed', exitCode: 1 }))).toEqual(['cloud-assistant-results']);
    expect(routed(rules, completion({ invocationStatus: 'Timeout', exitCode: undefined }))).toEqual(['cloud-assistant-results']);
    // --agent-inline runs are named rollcall-agent-inline.
    expect(routed(rules, completion({ commandName: 'rollcall-agent-inline' }))).toEqual(['cloud-assistant-results']);
  });

  it('cloud-assistant-results: other commands, other types and other sources do not match', () => {
    for (const commandName of ['other-command', 'my-rollcall-agent', 'Rollcall-agent', 'rollcall', 'rollcall_agent', ' rollcall-agent']) {
      expect(rules['cloud-assistant-results'](completion({ commandName })), commandName).toBe(false);
    }
    const event = completion();
    expect(rules['cloud-assistant-results']({ ...event, type: 'ecs:CloudAssistant:TaskStarted' })).toBe(false);
    expect(rules['cloud-assistant-results']({ ...event, source: 'acs.oos' })).toBe(false);
    expect(rules['cloud-assistant-results']({ ...event, data: { ...event.data, commandName: undefined } })).toBe(false);
    expect(rules['cloud-assistant-results'](HEARTBEAT)).toBe(false);
  });

  it('new-instances: a FirstHeartbeat only', () => {
    expect(routed(rules, HEARTBEAT)).toEqual(['new-instances']);
    expect(rules['new-instances']({ ...HEARTBEAT, source: 'acs.ecs.heartbeat' })).toBe(false);
    expect(rules['new-instances']({ ...HEARTBEAT, type: 'ecs:Instance:StateChange' })).toBe(false);
    expect(rules['new-instances'](completion())).toBe(false);
  });
});
