import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RollcallError } from '../config/errors.js';
import { applyCommand } from './commands/apply.js';
import { approveCommand } from './commands/approve.js';
import { devCommand } from './commands/dev.js';
import { historyCommand } from './commands/history.js';
import { lockCommand } from './commands/lock.js';
import { parseDuration, serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { emulateCommand, parseTags } from './commands/emulate.js';
import { inventoryCommand } from './commands/inventory.js';
import { executorFromFlags } from './commands/observe-fleet.js';
import { planCommand } from './commands/plan.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { EXIT } from './exit-codes.js';
import { processIo, type CliIo } from './io.js';


/** How commands that reach the fleet are told where it is (each also as ROLLCALL_*; credentials by env only). */
const FLEET_OPTIONS = {
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'command-name': { type: 'string' },
  concurrency: { type: 'string' },
  'max-errors': { type: 'string' },
  timeout: { type: 'string' },
  'agent-inline': { type: 'boolean' },
} as const;
const FLEET_USAGE = '[--region R] [--endpoint HOST:PORT] [--concurrency N] [--max-errors N] [--timeout S] [--agent-inline]';

/** The options of the commands that read git history: serve, history, lock. */
const HISTORY_OPTIONS = { repo: { type: 'string' }, path: { type: 'string' }, 'state-dir': { type: 'string' } } as const;

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: string[], io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  validate: {
    summary: 'check the desired-state files; every problem at once as file:line:col: message',
    usage: 'rollcall validate [--dir D] [--json]',
    options: { dir: { type: 'string' }, json: { type: 'boolean' } },
    run: (values, _positionals, io) => validateCommand({ dir: dirOption(values, io), json: Boolean(values.json) }, io),
  },
  plan: {
    summary: 'show what would change on which instance, like terraform plan',
    usage: `rollcall plan [--dir D] [--observed F] [--json] [--detailed-exitcode] ${FLEET_USAGE}`,
    options: {
      dir: { type: 'string' },
      observed: { type: 'string' },
      json: { type: 'boolean' },
      'detailed-exitcode': { type: 'boolean' },
      ...FLEET_OPTIONS,
    },
    run: (values, _positionals, io) => {
      const observed = stringOption(values.observed, io.env.ROLLCALL_OBSERVED);
      return planCommand(
        {
          dir: dirOption(values, io),
          ...(observed ? { observed } : { executor: executorFromFlags(values, io) }),
          json: Boolean(values.json),
          detailedExitcode: Boolean(values['detailed-exitcode']),
        },
        io,
      );
    },
  },
  apply: {
    summary: 'plan against the fleet, then apply it through Cloud Assistant',
    usage: `rollcall apply [--dir D] [--auto-approve] ${FLEET_USAGE}`,
    options: { dir: { type: 'string' }, 'auto-approve': { type: 'boolean' }, ...FLEET_OPTIONS },
    run: (values, _positionals, io) => applyCommand({ dir: dirOption(values, io), autoApprove: Boolean(values['auto-approve']), executor: executorFromFlags(values, io) }, io),
  },
  inventory: {
    summary: "the observed state of the fleet's instances (--json: the snapshot plan --observed reads)",
    usage: `rollcall inventory [--dir D] [--json] ${FLEET_USAGE}`,
    options: { dir: { type: 'string' }, json: { type: 'boolean' }, ...FLEET_OPTIONS },
    run: (values, _positionals, io) => inventoryCommand({ dir: dirOption(values, io), json: Boolean(values.json), executor: executorFromFlags(values, io) }, io),
  },
  emulate: {
    summary: 'run one emulator alone in the foreground (ecs, chat, eventbridge); prints its endpoint as one JSON line',
    usage:
      'rollcall emulate ecs [--port P] [--instances N] [--tags k=v…] [--region R]\n       rollcall emulate chat [--port P] [--deliver-to ROLLCALL_URL] [--dingtalk-via http|stream|eventbridge] [--lark-via http|long-connection|eventbridge] [--eventbridge BUS_URL]\n       rollcall emulate eventbridge [--port P] [--rules cdk.tf.json] [--redirect FROM=TO…] [--region R]   (the stack\'s variables as TF_VAR_*)',
    options: {
      port: { type: 'string' },
      instances: { type: 'string' },
      tags: { type: 'string', multiple: true },
      region: { type: 'string' },
      'deliver-to': { type: 'string' },
      eventbridge: { type: 'string' },
      'dingtalk-via': { type: 'string' },
      'lark-via': { type: 'string' },
      rules: { type: 'string' },
      redirect: { type: 'string', multiple: true },
    },
    run: (values, positionals, io) =>
      emulateCommand(
        {
          target: positionals[0] ?? '',
          port: Number(stringOption(values.port, io.env.ROLLCALL_PORT) ?? 0),
          instances: Number(stringOption(values.instances) ?? 3),
          tags: parseTags((values.tags as string[] | undefined) ?? []),
          ...(typeof values.region === 'string' ? { region: values.region } : {}),
          ...(typeof values['deliver-to'] === 'string' ? { deliverTo: values['deliver-to'] } : {}),
          ...(typeof values.eventbridge === 'string' ? { eventbridge: values.eventbridge } : {}),
          ...(typeof values['dingtalk-via'] === 'string' ? { dingtalkVia: values['dingtalk-via'] } : {}),
          ...(typeof values['lark-via'] === 'string' ? { larkVia: values['lark-via'] } : {}),
          ...(typeof values.rules === 'string' ? { rules: values.rules } : {}),
          redirects: (values.redirect as string[] | undefined) ?? [],
        },
        io,
      ),
  },
  serve: {
    summary: 'the daemon: watch the repository, reconcile every commit and every drift interval, serve /status and /metrics',
    usage: `rollcall serve [--repo PATH|URL] [--branch B] [--path desired-state] [--port P] [--state-dir D] [--poll-interval 30s] ${FLEET_USAGE}`,
    options: { ...HISTORY_OPTIONS, branch: { type: 'string' }, port: { type: 'string' }, 'poll-interval': { type: 'string' }, 'drift-interval': { type: 'string' }, ...FLEET_OPTIONS },
    run: (values, _positionals, io) => {
      const branch = stringOption(values.branch, io.env.ROLLCALL_BRANCH);
      const poll = stringOption(values['poll-interval'], io.env.ROLLCALL_POLL_INTERVAL);
      const drift = stringOption(values['drift-interval'], io.env.ROLLCALL_DRIFT_INTERVAL);
      return serveCommand(
        {
          ...historyOptions(values, io),
          ...(branch ? { branch } : {}),
          port: Number(stringOption(values.port, io.env.ROLLCALL_PORT) ?? 8080),
          fleetFlags: values,
          ...(poll ? { pollIntervalMs: parseDuration(poll, '--poll-interval') } : {}),
          ...(drift ? { driftIntervalMs: parseDuration(drift, '--drift-interval') } : {}),
        },
        io,
      );
    },
  },
  dev: {
    summary: 'the whole loop on this machine (npm start): sandbox fleet behind the ECS emulator, a scratch repo, serve',
    usage: 'rollcall dev [--dir desired-state] [--port P] [--instances N]',
    options: { dir: { type: 'string' }, port: { type: 'string' }, instances: { type: 'string' } },
    run: (values, _positionals, io) =>
      devCommand({ dir: dirOption(values, io), port: Number(stringOption(values.port, io.env.ROLLCALL_PORT) ?? 0), instancesPerTag: Number(stringOption(values.instances) ?? 2) }, io),
  },
  status: {
    summary: "the running daemon's status: Ready, Reconciling or Stalled, its revisions, per instance",
    usage: 'rollcall status [--url URL] [--state-dir D] [--json]',
    options: { url: { type: 'string' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' } },
    run: (values, _positionals, io) => {
      const url = stringOption(values.url, io.env.ROLLCALL_URL);
      return statusCommand({ ...(url ? { url } : {}), stateDir: stateDirOption(values, io), json: Boolean(values.json) }, io);
    },
  },
  history: {
    summary: 'what happened to one user: requests, approvers, revisions, and what was applied where and when',
    usage: 'rollcall history <empId|login> [--repo R] [--path P] [--json]',
    options: { ...HISTORY_OPTIONS, json: { type: 'boolean' } },
    run: (values, positionals, io) => {
      const who = positionals[0];
      if (!who) throw new RollcallError('invalid-input', 'name the user: rollcall history <empId|login>');
      return historyCommand({ who, ...historyOptions(values, io), json: Boolean(values.json) }, io);
    },
  },
  lock: {
    summary: 'break-glass: commit state: absent for a user now; the daemon applies it before anything else',
    usage: 'rollcall lock --now <empId|login> --reason "…" [--repo R] [--path P] [--url URL] [--wait 5m]',
    options: { ...HISTORY_OPTIONS, now: { type: 'boolean' }, reason: { type: 'string' }, url: { type: 'string' }, wait: { type: 'string' } },
    run: (values, positionals, io) => {
      const who = positionals[0];
      if (!who) throw new RollcallError('invalid-input', 'name the user: rollcall lock --now <empId|login> --reason "…"');
      const url = stringOption(values.url, io.env.ROLLCALL_URL);
      return lockCommand(
        {
          who,
          reason: stringOption(values.reason) ?? '',
          now: Boolean(values.now),
          ...historyOptions(values, io),
          ...(url ? { url } : {}),
          waitMs: parseDuration(stringOption(values.wait) ?? '5m', '--wait'),
        },
        io,
      );
    },
  },
  approve: {
    summary: 'approve a request in the chat emulator: it delivers the event to rollcall the way DingTalk or Lark does',
    usage: 'rollcall approve --platform dingtalk|lark --flow CODE|KIND --field k=v… [--emulator URL] [--dir D] [--originator ID] [--approver ID…] [--refuse] [--json]',
    options: {
      platform: { type: 'string' },
      flow: { type: 'string' },
      field: { type: 'string', multiple: true },
      emulator: { type: 'string' },
      dir: { type: 'string' },
      originator: { type: 'string' },
      approver: { type: 'string', multiple: true },
      refuse: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    run: (values, _positionals, io) => {
      const emulator = stringOption(values.emulator, io.env.ROLLCALL_CHAT_EMULATOR);
      if (!emulator) throw new RollcallError('invalid-input', '--emulator: give the chat emulator URL that rollcall dev (or rollcall emulate chat) printed, or set ROLLCALL_CHAT_EMULATOR');
      const flow = stringOption(values.flow);
      if (!flow) throw new RollcallError('invalid-input', '--flow: name the flow by its process/approval code or its request kind (onboard, offboard, grant, revoke)');
      return approveCommand(
        {
          platform: stringOption(values.platform) ?? '',
          flow,
          fields: (values.field as string[] | undefined) ?? [],
          emulator,
          dir: dirOption(values, io),
          originator: stringOption(values.originator) ?? 'hr-requester',
          approvers: (values.approver as string[] | undefined) ?? ['it-approver'],
          refuse: Boolean(values.refuse),
          json: Boolean(values.json),
        },
        io,
      );
    },
  },
  schema: {
    summary: 'write the JSON Schemas of the desired-state files (for editors)',
    usage: 'rollcall schema [--out DIR]',
    options: { out: { type: 'string' } },
    run: (values, _positionals, io) => schemaCommand({ out: stringOption(values.out) }, io),
  },
};

/** Runs `rollcall <argv>` and returns the exit code; never calls process.exit, so tests run it in-process. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`rollcall: unknown command "${name}"\n\n${helpText()}`);
    return EXIT.usage;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`rollcall ${name}: ${(error as Error).message}\nusage: ${command.usage}\n`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.stdout.write(`${command.summary}\n\nusage: ${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(parsed.values, parsed.positionals, io);
  } catch (error) {
    if (error instanceof RollcallError) {
      io.stderr.write(`rollcall ${name}: ${error.message}${error.cause ? ` (${String((error.cause as Error).message ?? error.cause)})` : ''}\n`);
      return EXIT.failed;
    }
    io.log.error({ err: error, command: name }, 'unexpected error: this is a bug in rollcall');
    return EXIT.failed;
  }
}

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `rollcall: keeps Linux accounts on ECS instances equal to a git repository of users and roles\n\nusage: rollcall <command> [options]\n\n${lines.join('\n')}\n\nEvery option can also be set as ROLLCALL_<OPTION> in the environment (--dir is ROLLCALL_DIR).\n`;
}

function historyOptions(values: Record<string, unknown>, io: CliIo): { repo: string; path: string; stateDir: string } {
  return {
    repo: stringOption(values.repo, io.env.ROLLCALL_REPO) ?? '.',
    path: stringOption(values.path, io.env.ROLLCALL_PATH) ?? 'desired-state',
    stateDir: stateDirOption(values, io),
  };
}

function stateDirOption(values: Record<string, unknown>, io: CliIo): string {
  return stringOption(values['state-dir'], io.env.ROLLCALL_STATE_DIR) ?? '.rollcall';
}

function dirOption(values: Record<string, unknown>, io: CliIo): string {
  return stringOption(values.dir, io.env.ROLLCALL_DIR) ?? 'desired-state';
}

/** A flag wins over its environment variable. */
function stringOption(flag: unknown, env?: string): string | undefined {
  if (typeof flag === 'string') return flag;
  return env === undefined || env === '' ? undefined : env;
}
