import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { RollcallError, type SourceProblem } from '../../config/errors.js';
import { BUS_LIMITS } from './bus-limits.js';
import { compileEventPattern, type EventMatcher } from './event-pattern.js';
import { checkTargetParam, type TargetParam, type TransformForm } from './target-transform.js';
import { resolveTerraformValue, UnresolvedReference, type TerraformScope } from './terraform-references.js';

/*
 * The buses, rules and HTTP event sources of a synthesized stack, read from its Terraform JSON
 * (`cdktf.out/stacks/<stack>/cdk.tf.json`) so the emulator runs exactly what `apply` would create.
 * Every problem in the file is collected and reported at once, each with the resource it is in.
 */

/** A bus: declared in the file, or only named by a rule or a source (it must exist in the account then). */
export interface BusConfig {
  name: string;
  /** Whether an `alicloud_event_bridge_event_bus` in the file creates it (`default` always exists). */
  declared: boolean;
}

export type RetryStrategy = 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY';

export interface TargetConfig {
  id: string;
  /** `http`, `https`, `acs.dingtalk`, … */
  type: string;
  endpoint: string;
  retryStrategy: RetryStrategy;
  /** The dead-letter queue's ARN, when the target has one. */
  deadLetterQueue?: string;
  /** The `param_list`, by resource key. */
  params: ReadonlyMap<string, TargetParam>;
}

export interface RuleConfig {
  /** `alicloud_event_bridge_rule.<name>`: where it is in the file. */
  address: string;
  busName: string;
  name: string;
  /** `filter_pattern`, parsed. */
  pattern: unknown;
  match: EventMatcher;
  /** `status` ENABLE (the default) or DISABLE. */
  enabled: boolean;
  targets: TargetConfig[];
}

/** An HTTP/HTTPS event source (`alicloud_event_bridge_event_source_v2` with `source_http_event_parameters`). */
export interface HttpSourceConfig {
  address: string;
  name: string;
  busName: string;
  /** `HTTP`, `HTTPS` or `HTTP&HTTPS`: the emulator serves plain HTTP whichever it is. */
  protocol: string;
  /** Methods accepted; empty: any. */
  methods: string[];
  /** `none`, `ip` or `referer`. */
  securityConfig: string;
  /** With `ip`: addresses or IPv4 CIDR blocks allowed. */
  ip: string[];
  /** With `referer`: Referer host names allowed. */
  referer: string[];
}

export interface BusRules {
  buses: BusConfig[];
  rules: RuleConfig[];
  sources: HttpSourceConfig[];
}

export interface LoadRulesOptions {
  /** Values of the stack's Terraform variables (`${var.NAME}`); `TF_VAR_NAME` in `env` otherwise. */
  variables?: Readonly<Record<string, string>>;
  env?: NodeJS.ProcessEnv;
  /** The file's name in messages. */
  file?: string;
}

/** The resource keys of HTTP targets the emulator understands (README.md says what each does). */
export const HTTP_TARGET_KEYS = ['url', 'Body', 'Method', 'HeaderParameters', 'QueryStringParameters', 'Network', 'VpcId', 'VSwitchIds', 'SecurityGroupId'] as const;
/** The resource keys of `acs.dingtalk` targets. */
export const DINGTALK_TARGET_KEYS = ['URL', 'SecretKey', 'Body'] as const;

const FORMS: readonly TransformForm[] = ['ORIGINAL', 'JSONPATH', 'CONSTANT', 'TEMPLATE'];
const RETRY_STRATEGIES: readonly RetryStrategy[] = ['BACKOFF_RETRY', 'EXPONENTIAL_DECAY_RETRY'];

/** A Terraform block: a list of objects in the JSON, or (written by hand) one object. */
const block = <T extends z.ZodType>(item: T) => z.union([z.array(item), item.transform((one) => [one])]).optional();
const Param = z.looseObject({ resource_key: z.string().min(1), form: z.string(), value: z.string().optional(), template: z.string().optional() });
const Target = z.looseObject({
  target_id: z.string().min(1),
  type: z.string().min(1),
  endpoint: z.string(),
  push_retry_strategy: z.string().optional(),
  dead_letter_queue: block(z.looseObject({ arn: z.string().optional() })),
  param_list: block(Param),
});
const Rule = z.looseObject({
  event_bus_name: z.string().min(1),
  rule_name: z.string().min(1),
  filter_pattern: z.string(),
  status: z.string().optional(),
  targets: block(Target),
});
const Bus = z.looseObject({ event_bus_name: z.string().min(1) });
const HttpParameters = z.looseObject({
  type: z.string().optional(),
  security_config: z.string().optional(),
  ip: z.array(z.string()).optional(),
  referer: z.array(z.string()).optional(),
  method: z.array(z.string()).optional(),
});
const Source = z.looseObject({
  event_bus_name: z.string().min(1),
  event_source_name: z.string().min(1),
  source_http_event_parameters: block(HttpParameters),
});

/** Reads and checks a `cdk.tf.json` file. @throws RollcallError('invalid-input') listing every problem. */
export async function loadTerraformRules(file: string, options: LoadRulesOptions = {}): Promise<BusRules> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RollcallError('invalid-input', `cannot read the rules file ${file}: ${(error as Error).message}; run npm run synth first, or pass --rules with the path of a cdk.tf.json`, { cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new RollcallError('invalid-input', `${file} is not JSON (${(error as Error).message}): pass the cdk.tf.json that cdktf synth wrote`, { cause: error });
  }
  return readTerraformRules(document, { ...options, file });
}

/**
 * The buses, rules and HTTP sources of a parsed Terraform JSON document. References to other
 * resources of the file, `var.*` and `local.*` are resolved; filter patterns compiled; target
 * params checked.
 *
 * @throws RollcallError('invalid-input') with every problem as `problems` and in the message.
 */
export function readTerraformRules(document: unknown, options: LoadRulesOptions = {}): BusRules {
  const file = options.file ?? 'cdk.tf.json';
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new RollcallError('invalid-input', `${file} is not a Terraform JSON document (an object with "resource"): pass the cdk.tf.json that cdktf synth wrote`);
  }
  const scope: TerraformScope = { document: document as Record<string, unknown>, variables: options.variables ?? {}, env: options.env ?? process.env };
  const resources = asRecord((document as Record<string, unknown>)['resource']) ?? {};
  const problems: string[] = [];

  /** Resolves and parses one resource; undefined (with its problems noted) when it cannot be read. */
  const read = <T>(type: string, name: string, schema: z.ZodType<T>, fields: readonly string[]): T | undefined => {
    // Only the attributes the emulator uses: a description may hold an expression it need not know.
    const resource = asRecord(resources[type])?.[name] ?? {};
    const used = Object.fromEntries(Object.entries(resource).filter(([key]) => fields.includes(key)));
    let resolved: unknown;
    try {
      resolved = resolveTerraformValue(used, scope);
    } catch (error) {
      if (!(error instanceof UnresolvedReference)) throw error;
      problems.push(`${type}.${name}: ${error.message}`);
      return undefined;
    }
    const parsed = schema.safeParse(resolved);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${type}.${name}: ${issue.path.join('.') || 'the resource'}: ${issue.message}`);
      return undefined;
    }
    return parsed.data;
  };
  const namesOf = (type: string) => Object.keys(asRecord(resources[type]) ?? {});

  const buses = new Map<string, BusConfig>([['default', { name: 'default', declared: true }]]);
  for (const name of namesOf('alicloud_event_bridge_event_bus')) {
    const bus = read('alicloud_event_bridge_event_bus', name, Bus, ['event_bus_name']);
    if (bus) buses.set(bus.event_bus_name, { name: bus.event_bus_name, declared: true });
  }
  const named = (busName: string) => {
    if (!buses.has(busName)) buses.set(busName, { name: busName, declared: false });
  };

  const sources: HttpSourceConfig[] = [];
  for (const name of namesOf('alicloud_event_bridge_event_source_v2')) {
    const address = `alicloud_event_bridge_event_source_v2.${name}`;
    const source = read('alicloud_event_bridge_event_source_v2', name, Source, ['event_bus_name', 'event_source_name', 'source_http_event_parameters']);
    const http = source?.source_http_event_parameters?.[0];
    if (!source || !http) continue;
    named(source.event_bus_name);
    const securityConfig = (http.security_config ?? 'none').toLowerCase();
    if (!['none', 'ip', 'referer'].includes(securityConfig)) problems.push(`${address}: security_config ${http.security_config}: must be none, ip or referer`);
    sources.push({
      address,
      name: source.event_source_name,
      busName: source.event_bus_name,
      protocol: http.type ?? 'HTTPS',
      methods: (http.method ?? []).map((method) => method.toUpperCase()),
      securityConfig,
      ip: http.ip ?? [],
      referer: http.referer ?? [],
    });
  }
  for (const [index, source] of sources.entries()) {
    if (sources.findIndex((other) => other.name === source.name) !== index) problems.push(`${source.address}: another event source is also named ${source.name}: names are unique in an account`);
  }

  const rules: RuleConfig[] = [];
  for (const name of namesOf('alicloud_event_bridge_rule')) {
    const address = `alicloud_event_bridge_rule.${name}`;
    const rule = read('alicloud_event_bridge_rule', name, Rule, ['event_bus_name', 'rule_name', 'filter_pattern', 'status', 'targets']);
    if (!rule) continue;
    named(rule.event_bus_name);
    let pattern: unknown;
    let match: EventMatcher | undefined;
    try {
      pattern = JSON.parse(rule.filter_pattern);
      match = compileEventPattern(pattern);
    } catch (error) {
      problems.push(`${address}: filter_pattern: ${(error as Error).message}`);
    }
    const status = (rule.status ?? 'ENABLE').toUpperCase();
    if (status !== 'ENABLE' && status !== 'DISABLE') problems.push(`${address}: status ${rule.status}: must be ENABLE or DISABLE`);
    const targets = (rule.targets ?? []).map((target, index) => readTarget(target, `${address}: targets[${index}] (${target.target_id})`, problems));
    if (targets.length === 0) problems.push(`${address}: no targets: a rule needs at least one`);
    if (targets.length > BUS_LIMITS.targetsPerRule) problems.push(`${address}: ${targets.length} targets: a rule takes at most ${BUS_LIMITS.targetsPerRule}`);
    for (const [index, target] of targets.entries()) {
      if (targets.findIndex((other) => other.id === target.id) !== index) problems.push(`${address}: two targets have the id ${target.id}: target ids are unique in a rule`);
    }
    if (match) rules.push({ address, busName: rule.event_bus_name, name: rule.rule_name, pattern, match, enabled: status === 'ENABLE', targets });
  }
  for (const bus of buses.values()) {
    const onBus = rules.filter((rule) => rule.busName === bus.name);
    if (onBus.length > BUS_LIMITS.rulesPerBus) problems.push(`bus ${bus.name}: ${onBus.length} rules: a bus takes at most ${BUS_LIMITS.rulesPerBus}`);
    for (const [index, rule] of onBus.entries()) {
      if (onBus.findIndex((other) => other.name === rule.name) !== index) problems.push(`${rule.address}: another rule on bus ${bus.name} is also named ${rule.name}`);
    }
  }

  if (problems.length > 0) {
    const list: SourceProblem[] = problems.map((message) => ({ file, line: 0, col: 0, message }));
    throw new RollcallError('invalid-input', `${file}: the EventBridge resources have ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`, { problems: list });
  }
  return { buses: [...buses.values()], rules, sources };
}

function readTarget(target: z.infer<typeof Target>, where: string, problems: string[]): TargetConfig {
  const strategy = (target.push_retry_strategy ?? 'BACKOFF_RETRY') as RetryStrategy;
  if (!RETRY_STRATEGIES.includes(strategy)) problems.push(`${where}: push_retry_strategy ${target.push_retry_strategy}: must be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY`);
  const params = new Map<string, TargetParam>();
  for (const raw of target.param_list ?? []) {
    const form = raw.form.toUpperCase() as TransformForm;
    if (!FORMS.includes(form)) {
      problems.push(`${where}: param ${raw.resource_key}: form ${raw.form}: must be ORIGINAL, JSONPATH, CONSTANT or TEMPLATE`);
      continue;
    }
    const param: TargetParam = { resourceKey: raw.resource_key, form, ...(raw.value !== undefined ? { value: raw.value } : {}), ...(raw.template !== undefined ? { template: raw.template } : {}) };
    try {
      checkTargetParam(param);
    } catch (error) {
      problems.push(`${where}: param ${raw.resource_key}: ${(error as Error).message}`);
      continue;
    }
    if (params.has(raw.resource_key)) problems.push(`${where}: two params have the resource key ${raw.resource_key}`);
    params.set(raw.resource_key, param);
  }
  const known: readonly string[] | undefined = target.type === 'http' || target.type === 'https' ? HTTP_TARGET_KEYS : target.type === 'acs.dingtalk' ? DINGTALK_TARGET_KEYS : undefined;
  for (const key of params.keys()) {
    if (known !== undefined && !known.includes(key)) problems.push(`${where}: param ${key}: ${target.type} targets take ${known.join(', ')} (resource keys are case-sensitive)`);
  }
  const deadLetterQueue = target.dead_letter_queue?.[0]?.arn;
  return {
    id: target.target_id,
    type: target.type,
    endpoint: target.endpoint,
    retryStrategy: strategy,
    ...(deadLetterQueue ? { deadLetterQueue } : {}),
    params,
  };
}

function asRecord(value: unknown): Record<string, Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, Record<string, unknown>>) : undefined;
}
