import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * Terraform JSON in the shape `cdktf synth` writes for the alicloud provider (attribute names from
 * ../shared/reference/alicloud-provider-schema.json; blocks as lists), written by hand, and a
 * target server that records what it is sent.
 */

export interface FixtureTarget {
  target_id: string;
  type: string;
  endpoint: string;
  push_retry_strategy?: string;
  dead_letter_queue?: { arn: string }[];
  param_list: { resource_key: string; form: string; value?: string; template?: string }[];
}

/** An HTTP target to `url` with the secret header, the whole event as body. */
export function httpTarget(url: string, overrides: Partial<FixtureTarget> = {}): FixtureTarget {
  return {
    target_id: 'rollcall-ingress',
    type: url.startsWith('https:') ? 'https' : 'http',
    endpoint: url,
    push_retry_strategy: 'BACKOFF_RETRY',
    param_list: [
      { resource_key: 'url', form: 'CONSTANT', value: url },
      { resource_key: 'Body', form: 'ORIGINAL' },
      { resource_key: 'HeaderParameters', form: 'CONSTANT', value: '{"X-Rollcall-Secret":"${var.ingress_secret}"}' },
    ],
    ...overrides,
  };
}

/**
 * A stack like rollcall's: a custom bus with an HTTP source for approvals, the approvals rule on
 * it, and the Cloud Assistant rule on the default bus (where Alibaba Cloud's service events go).
 */
export function rollcallLikeStack(ingressUrl: string, options: { approvalsTargets?: FixtureTarget[]; resultsTargets?: FixtureTarget[] } = {}): Record<string, unknown> {
  return {
    '//': { metadata: { version: '0.21.0', stackName: 'rollcall', backend: 'local' } },
    terraform: { required_providers: { alicloud: { source: 'aliyun/alicloud', version: '1.289.0' } } },
    provider: { alicloud: [{ region: 'cn-hangzhou' }] },
    variable: { ingress_secret: { type: 'string', sensitive: true } },
    resource: {
      alicloud_event_bridge_event_bus: { bus: { event_bus_name: 'rollcall', description: 'rollcall approvals' } },
      alicloud_event_bridge_event_source_v2: {
        approvals_source: {
          event_bus_name: '${alicloud_event_bridge_event_bus.bus.event_bus_name}',
          event_source_name: 'dingtalk.approval',
          description: 'approval webhooks',
          source_http_event_parameters: [{ type: 'HTTPS', security_config: 'none', method: ['POST'] }],
        },
      },
      alicloud_event_bridge_rule: {
        approvals: {
          event_bus_name: '${alicloud_event_bridge_event_bus.bus.event_bus_name}',
          rule_name: 'approvals',
          filter_pattern: JSON.stringify({ source: ['dingtalk.approval', 'lark.approval'] }),
          targets: options.approvalsTargets ?? [httpTarget(ingressUrl, { dead_letter_queue: [{ arn: 'acs:mns:cn-hangzhou:1234567890123456:/queues/rollcall-dlq' }] })],
        },
        cloud_assistant_results: {
          event_bus_name: 'default',
          rule_name: 'cloud-assistant-results',
          filter_pattern: JSON.stringify({ source: ['acs.ecs'], type: ['ecs:CloudAssistant:TaskCompleted'], data: { commandName: [{ prefix: 'rollcall-' }] } }),
          targets: options.resultsTargets ?? [httpTarget(ingressUrl, { push_retry_strategy: 'EXPONENTIAL_DECAY_RETRY' })],
        },
      },
    },
  };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP server that answers each request with the next status of `statuses` (the last one repeats). */
export async function startReceiver(statuses: number[] = [200], answer: (request: ReceivedRequest) => string = () => '{"ok":true}') {
  const received: ReceivedRequest[] = [];
  let next = 0;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const entry = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
    received.push(entry);
    const status = statuses[Math.min(next++, statuses.length - 1)]!;
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(answer(entry));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
