import { Testing } from 'cdktf';
import { RollcallStack } from '../../stacks/rollcall-stack.js';
import type { RollcallStackConfigInput } from '../../stacks/stack-config.js';

/** A deployment with every option on: both platforms, both notices, inline mode, a dead-letter queue, instance tags. */
export const FULL_CONFIG = {
  region: 'cn-shanghai',
  busName: 'rollcall-prod',
  ingressUrl: 'https://rollcall.example.com/',
  ingressSecret: 'a-secret-of-32-characters-000000',
  platforms: ['dingtalk', 'lark'],
  completionNotice: {
    dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=abc123', secret: 'SECdingtalk' },
    lark: { webhook: 'https://open.feishu.cn/open-apis/bot/v2/hook/hook-token' },
  },
  inlineMode: true,
  deadLetterQueueArn: 'acs:mns:cn-shanghai:1234567890:/queues/rollcall-dlq',
  instanceTags: { rollcall: 'managed' },
  commandTimeoutSeconds: 900,
} satisfies RollcallStackConfigInput;

/** The least a deployment must say. */
export const MINIMAL_CONFIG = { region: 'cn-hangzhou', ingressUrl: 'https://rollcall.example.com', platforms: ['dingtalk'] } satisfies RollcallStackConfigInput;

/** The stack synthesized in memory, as a JSON string and parsed. */
export function synthStack(config: RollcallStackConfigInput): { json: string; document: TerraformDocument; stack: RollcallStack } {
  const stack = new RollcallStack(Testing.app(), 'rollcall', config);
  const json = Testing.synth(stack);
  return { json, document: JSON.parse(json) as TerraformDocument, stack };
}

export interface TerraformDocument {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  provider?: Record<string, unknown>;
  variable?: Record<string, Record<string, unknown>>;
  output?: Record<string, { value: unknown }>;
}

/** Terraform's reading of a literal string of the JSON: `$${` is a literal `${`, `%%{` a literal `%{`. */
export function terraformText(text: string): string {
  return text.replaceAll('$${', '${').replaceAll('%%{', '%{');
}
