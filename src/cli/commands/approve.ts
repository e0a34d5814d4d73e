import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { RollcallError } from '../../config/errors.js';
import { ApprovalsFile, Platform, type Flow } from '../../desired/schema.js';
import { flowCode } from '../../requests/map-approval.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

export interface ApproveOptions {
  platform: string;
  /** A process/approval code of approvals.yaml, or a request kind that names one flow of the platform. */
  flow: string;
  /** `label=value` or `field=value` (a key of the flow's `fields`, translated to its label). */
  fields: readonly string[];
  /** The chat emulator's base URL. */
  emulator: string;
  /** The desired-state folder whose approvals.yaml names the flows. */
  dir: string;
  originator: string;
  approvers: readonly string[];
  /** Complete the instance as refused instead (nothing should be committed). */
  refuse: boolean;
  json: boolean;
}

const ApproveReply = z.looseObject({
  instanceId: z.string(),
  deliveries: z.array(z.looseObject({ via: z.string(), ok: z.boolean(), status: z.number().optional(), error: z.string().optional() })),
});

/**
 * `rollcall approve`: what a person does in DingTalk or Lark, against the chat emulator. Creates an
 * approval instance of the flow with the form given, completes it, and has the emulator deliver
 * the event the way the platform does (signed and encrypted callback, Stream frame or long
 * connection), to the rollcall it delivers to. Exit 0 when some delivery was acknowledged.
 */
export async function approveCommand(options: ApproveOptions, io: CliIo): Promise<number> {
  const platform = Platform.safeParse(options.platform);
  if (!platform.success) throw new RollcallError('invalid-input', `--platform ${options.platform || '(missing)'}: must be dingtalk or lark`);
  const flows = await readFlows(path.resolve(io.cwd, options.dir));
  const flow = pickFlow(flows, platform.data, options.flow);
  const code = flow ? flowCode(flow)! : options.flow;
  if (!code) throw new RollcallError('invalid-input', '--flow: name the flow by its process/approval code or its request kind (onboard, offboard, grant, revoke)');
  const form = formOf(options.fields, flow);

  const url = `${options.emulator.replace(/\/+$/, '')}/emulator/approvals`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ platform: platform.data, code, originator: options.originator, approvers: options.approvers, form, result: options.refuse ? 'refuse' : 'agree' }),
    });
  } catch (error) {
    throw new RollcallError('invalid-input', `cannot reach the chat emulator at ${options.emulator}: start rollcall dev (or rollcall emulate chat) and pass the URL it prints as --emulator`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new RollcallError('invalid-input', `the chat emulator refused the approval (HTTP ${response.status}): ${errorText(text)}`);
  const reply = ApproveReply.safeParse(safeJson(text));
  if (!reply.success) throw new RollcallError('invalid-input', `${options.emulator} did not answer like rollcall's chat emulator: is --emulator its URL?`);

  const delivered = reply.data.deliveries.filter((delivery) => delivery.ok);
  if (options.json) io.stdout.write(`${JSON.stringify({ platform: platform.data, code, form, ...reply.data })}\n`);
  else {
    io.stdout.write(`${platform.data} approval ${reply.data.instanceId} (${code}) ${options.refuse ? 'refused' : 'approved'}\n`);
    for (const delivery of reply.data.deliveries) {
      io.stdout.write(`  ${delivery.via}: ${delivery.ok ? 'acknowledged' : `not delivered${delivery.status ? ` (HTTP ${delivery.status})` : ''}${delivery.error ? `: ${delivery.error}` : ''}`}\n`);
    }
    if (reply.data.deliveries.length === 0) io.stdout.write('  no delivery path is configured in the emulator: is rollcall running against it?\n');
  }
  return delivered.length > 0 ? EXIT.ok : EXIT.failed;
}

async function readFlows(dir: string): Promise<Flow[]> {
  const text = await readFile(path.join(dir, 'approvals.yaml'), 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  const parsed = ApprovalsFile.safeParse(parse(text));
  if (!parsed.success) throw new RollcallError('invalid-input', `${path.join(dir, 'approvals.yaml')} is not valid: run rollcall validate --dir ${dir}`);
  return parsed.data.flows;
}

/** The flow `name` names: its code, else the platform's only flow of that request kind. */
function pickFlow(flows: readonly Flow[], platform: Platform, name: string): Flow | undefined {
  const ofPlatform = flows.filter((flow) => flow.platform === platform);
  const byCode = ofPlatform.find((flow) => flowCode(flow) === name);
  if (byCode) return byCode;
  const byKind = ofPlatform.filter((flow) => flow.request === name);
  if (byKind.length === 1) return byKind[0];
  if (byKind.length > 1) throw new RollcallError('invalid-input', `--flow ${name}: ${platform} has ${byKind.length} ${name} flows; name one by its code (${byKind.map((flow) => flowCode(flow)).join(', ')})`);
  if (ofPlatform.length > 0 && /^(onboard|offboard|grant|revoke)$/.test(name)) {
    throw new RollcallError('invalid-input', `--flow ${name}: approvals.yaml has no ${platform} ${name} flow; its ${platform} flows are ${ofPlatform.map((flow) => `${flowCode(flow)} (${flow.request})`).join(', ')}`);
  }
  return undefined;
}

/** `k=v` pairs as the form; a key of the flow's `fields` becomes that field's label. */
function formOf(pairs: readonly string[], flow: Flow | undefined): Record<string, string> {
  const form: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new RollcallError('invalid-input', `--field ${pair}: write fields as label=value (or empId=…, login=…, role=… for the flow's fields)`);
    const key = pair.slice(0, at);
    const label = (flow?.fields as Record<string, string | undefined> | undefined)?.[key] ?? key;
    form[label] = pair.slice(at + 1);
  }
  return form;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorText(text: string): string {
  const parsed = safeJson(text) as { error?: unknown } | undefined;
  return typeof parsed?.error === 'string' ? parsed.error : text.slice(0, 300);
}
