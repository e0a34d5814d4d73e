/**
 * How fast does the EventBridge emulator's pattern engine match? Events per second, each event
 * tried against every rule of a bus: 50 rules (EventBridge's limit a bus) and 1,000 rules.
 *
 * The rules are the kind a bus holds: every one filters on `source` and `type` (exact), most on
 * `data.commandName` with a prefix, some also on `data.invocationStatus` with anything-but (a
 * value or a list) or on `data.durationMs` with a numeric range. The events are TaskCompleted-like
 * CloudEvents from the same sources and types (half from acs.ecs, as one source carries most of a bus's traffic).
 *
 * The floor, in the same process: a plain JavaScript loop over the same rules that compares the
 * same fields of the event with `===` (prefix, anything-but and numeric become `===` too: the
 * floor is the cheapest loop that reads the same fields, not an equivalent matcher). Also the
 * same === comparisons as one generated function a rule, called as the engine's matchers are:
 * the part of the gap that is one call per rule. All run in turn, several rounds after three
 * warm-up rounds; the figures are medians, and the ratio engine time / floor time is the number
 * that counts (the machines are shared and noisy).
 *
 *   npm run bench:patterns     (node --import tsx bench/eventbridge-patterns.ts [--events N] [--rounds N])
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { compileEventPattern, type EventMatcher } from '../src/emulators/eventbridge/event-pattern.js';
import { seededRandom } from '../test/reliability/seeded-random.js';

const { values } = parseArgs({ options: { events: { type: 'string' }, rounds: { type: 'string' } } });
const EVENTS = Number(values.events ?? 20_000);
const ROUNDS = Number(values.rounds ?? 9);
const RULE_COUNTS = [50, 1_000];
const WARM_UP = 3;

const SOURCES = ['acs.ecs', 'acs.oss', 'acs.rds', 'acs.fc', 'acs.ram', 'dingtalk.approval', 'lark.approval', 'rollcall', 'acs.slb', 'acs.vpc'];
const TYPES = ['TaskCompleted', 'FirstHeartbeat', 'ObjectCreated', 'InstanceStateChange', 'Committed', 'Applied'];
const STATUSES = ['Success', 'Failed', 'Timeout', 'Cancelled', 'Invalid'];
const TEAMS = ['rollcall', 'backup', 'deploy', 'patch', 'audit', 'metrics', 'logs', 'cron'];

/** Seeded (mulberry32, as the reliability tests use): the same rules and events on every run. */
function random(seed: number): () => number {
  const seeded = seededRandom(seed);
  return () => seeded.next();
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** What the floor compares: the same fields, each an exact value or unused. */
interface FloorRule {
  source: string;
  type: string;
  commandName: string | undefined;
  invocationStatus: string | undefined;
  durationMs: number | undefined;
}

interface Rules {
  patterns: unknown[];
  floor: FloorRule[];
}

function buildRules(count: number, rand: () => number): Rules {
  const patterns: unknown[] = [];
  const floor: FloorRule[] = [];
  for (let n = 0; n < count; n++) {
    const source = pick(rand, SOURCES);
    const type = `${source.split('.')[1] ?? source}:${pick(rand, TYPES)}`;
    const team = pick(rand, TEAMS);
    const data: Record<string, unknown[]> = {};
    const rule: FloorRule = { source, type, commandName: undefined, invocationStatus: undefined, durationMs: undefined };
    if (rand() < 0.7) {
      data.commandName = [{ prefix: `${team}-` }];
      rule.commandName = `${team}-agent`;
    }
    const extra = rand();
    if (extra < 0.15) {
      data.invocationStatus = [{ 'anything-but': 'Success' }];
      rule.invocationStatus = 'Failed';
    } else if (extra < 0.25) {
      data.invocationStatus = [{ 'anything-but': ['Success', 'Cancelled'] }];
      rule.invocationStatus = 'Timeout';
    } else if (extra < 0.4) {
      const low = Math.floor(rand() * 10_000);
      data.durationMs = [{ numeric: ['>=', low, '<', low + 60_000] }];
      rule.durationMs = low;
    }
    patterns.push(Object.keys(data).length > 0 ? { source: [source], type: [type], data } : { source: [source], type: [type] });
    floor.push(rule);
  }
  return { patterns, floor };
}

function buildEvents(count: number, rand: () => number): unknown[] {
  const events: unknown[] = [];
  for (let n = 0; n < count; n++) {
    // A few sources carry most of the traffic, as on a real bus.
    const source = rand() < 0.5 ? SOURCES[0]! : pick(rand, SOURCES);
    events.push({
      id: `e-${n}`,
      source,
      specversion: '1.0',
      type: `${source.split('.')[1] ?? source}:${pick(rand, TYPES)}`,
      subject: `acs:ecs:cn-hangzhou:1234567890:instance/i-${n.toString(36)}`,
      time: '2026-11-28T04:00:00Z',
      aliyunaccountid: '1234567890',
      aliyunregionid: 'cn-hangzhou',
      data: {
        commandId: `c-${n.toString(36)}`,
        commandName: `${pick(rand, TEAMS)}-${rand() < 0.5 ? 'agent' : 'job'}`,
        exitCode: rand() < 0.8 ? '0' : '1',
        invocationStatus: pick(rand, STATUSES),
        durationMs: Math.floor(rand() * 120_000),
        instanceId: `i-${n.toString(36)}`,
      },
    });
  }
  return events;
}

function floorLoop(events: readonly unknown[], rules: readonly FloorRule[]): number {
  let matched = 0;
  for (const item of events) {
    const event = item as { source: string; type: string; data: { commandName: string; invocationStatus: string; durationMs: number } };
    for (const rule of rules) {
      if (
        event.source === rule.source &&
        event.type === rule.type &&
        (rule.commandName === undefined || event.data.commandName === rule.commandName) &&
        (rule.invocationStatus === undefined || event.data.invocationStatus === rule.invocationStatus) &&
        (rule.durationMs === undefined || event.data.durationMs === rule.durationMs)
      ) {
        matched++;
      }
    }
  }
  return matched;
}

function engineLoop(events: readonly unknown[], matchers: readonly EventMatcher[]): number {
  let matched = 0;
  for (const event of events) {
    for (const matcher of matchers) if (matcher(event)) matched++;
  }
  return matched;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function perSecond(events: number, ms: number): string {
  return `${Math.round((events / ms) * 1000).toLocaleString('en-US')} events/s`;
}

/**
 * The same === comparisons as the floor, one generated function per rule, called like the
 * engine's matchers: what one call per rule costs by itself (the engine's overhead beyond it is
 * its own checks: absent fields, arrays, types).
 */
function perRuleFunctions(rules: readonly FloorRule[]): ((event: unknown) => boolean)[] {
  return rules.map((rule) => {
    const tests = [`e.source === ${JSON.stringify(rule.source)}`, `e.type === ${JSON.stringify(rule.type)}`];
    if (rule.commandName !== undefined) tests.push(`e.data.commandName === ${JSON.stringify(rule.commandName)}`);
    if (rule.invocationStatus !== undefined) tests.push(`e.data.invocationStatus === ${JSON.stringify(rule.invocationStatus)}`);
    if (rule.durationMs !== undefined) tests.push(`e.data.durationMs === ${rule.durationMs}`);
    return new Function('e', `return ${tests.join(' && ')};`) as (event: unknown) => boolean;
  });
}

const events = buildEvents(EVENTS, random(7));
console.log(`${EVENTS.toLocaleString('en-US')} events, ${ROUNDS} rounds each (medians), Node ${process.version}`);
for (const count of RULE_COUNTS) {
  const rules = buildRules(count, random(count));
  const compileStart = performance.now();
  const matchers = rules.patterns.map((pattern) => compileEventPattern(pattern));
  const compileMs = performance.now() - compileStart;
  const calls = perRuleFunctions(rules.floor);
  const contenders = {
    engine: () => engineLoop(events, matchers),
    floor: () => floorLoop(events, rules.floor),
    calls: () => engineLoop(events, calls),
  };
  type Name = keyof typeof contenders;
  const names = Object.keys(contenders) as Name[];
  const matches: Record<Name, number> = { engine: 0, floor: 0, calls: 0 };
  const times: Record<Name, number[]> = { engine: [], floor: [], calls: [] };
  // Warm-up, long enough for the optimising compiler to settle (each rule's matcher is its own
  // function, optimised on its own: 1,000 of them take a few rounds).
  for (let round = 0; round < WARM_UP; round++) for (const name of names) matches[name] = contenders[name]();
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate which goes first, so none always runs on a warmer (or busier) machine.
    for (let offset = 0; offset < names.length; offset++) {
      const name = names[(round + offset) % names.length]!;
      const start = performance.now();
      matches[name] = contenders[name]();
      times[name].push(performance.now() - start);
    }
  }
  const engineMs = median(times.engine);
  const floorMs = median(times.floor);
  const callsMs = median(times.calls);
  console.log(`\n${count} rules (compiled in ${compileMs.toFixed(1)} ms): ${matches.engine.toLocaleString('en-US')} matches (the === loops: ${matches.floor.toLocaleString('en-US')}, ${matches.calls.toLocaleString('en-US')})`);
  console.log(`  pattern engine:              ${engineMs.toFixed(1)} ms, ${perSecond(EVENTS, engineMs)}`);
  console.log(`  === floor (one loop):        ${floorMs.toFixed(1)} ms, ${perSecond(EVENTS, floorMs)}`);
  console.log(`  === in one function a rule:  ${callsMs.toFixed(1)} ms, ${perSecond(EVENTS, callsMs)}`);
  console.log(`  engine / floor:              ${(engineMs / floorMs).toFixed(2)}x`);
  console.log(`  engine / one function a rule: ${(engineMs / callsMs).toFixed(2)}x`);
}
