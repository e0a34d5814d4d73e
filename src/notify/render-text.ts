import { RollcallError } from '../config/errors.js';
import { compareStrings } from '../desired/compare-strings.js';
import { shortRevision } from '../plan/render-plan.js';
import type { ChangeLine, ResultTrigger } from '../source/result-notes.js';
import type {
  AppliedEvent,
  ApprovalRef,
  ChatPerson,
  DigestEvent,
  DriftEvent,
  Links,
  NotifyEvent,
  PlanEvent,
  ReminderEvent,
  RequestReceivedEvent,
  RequestRefusedEvent,
  RevisionRef,
  StalledEvent,
} from './events.js';

/**
 * What a chat message says, in either language, before any platform's markup: `render-dingtalk.ts`
 * and `render-lark.ts` turn a {@link MessageModel} into their platform's JSON. All the words live
 * here (one place for zh and en), and so does the size logic: lists are built for a number of
 * items, the platform measures the serialized body, and {@link renderToFit} shrinks the number
 * until the body fits. Nothing is ever cut inside a list item, a link or a mention.
 */

/** The language of a channel's messages. */
export type Language = 'zh' | 'en';

/** How a renderer is asked for a message: its language, and the serialized body's limit in UTF-8 bytes (default: the platform's). */
export interface RenderOptions {
  language: Language;
  maxBytes?: number;
}

/** How an event went: Lark colours the card's header by it, DingTalk marks the heading. */
export type Tone = 'success' | 'failure' | 'warning' | 'info' | 'neutral';

/** A piece of a line: plain text (escaped by the renderer), bold text, a link, or a mention. */
export type Span = string | { bold: string } | { link: string; text: string } | { mention: ChatPerson };

/** One line of text; renderers never break inside it. */
export type Line = Span[];

/** A labelled value: Lark shows these side by side, DingTalk as `**label:** value`. */
export interface Field {
  label: string;
  value: Line;
}

/** A block of a message, in reading order. */
export type Block =
  | { kind: 'paragraph'; lines: Line[] }
  | { kind: 'fields'; fields: Field[] }
  | {
      kind: 'list';
      heading: string;
      items: Line[];
      /** How many items were left out to fit the platform's size limit. */
      omitted: number;
      /** The words that say so (`… and 12 more`); absent when nothing was left out. */
      more?: string;
      /** Items on one line, comma-separated (logins, instance ids), rather than one per line. */
      inline: boolean;
    }
  | { kind: 'divider' };

/** A link button (a link in the text where the message cannot have buttons). */
export interface LinkButton {
  label: string;
  url: string;
  primary: boolean;
}

/** A message with no platform markup in it. */
export interface MessageModel {
  /** Plain text: the notification line and the card's header. Always starts with `rollcall`, which a robot's keyword check can require. */
  title: string;
  tone: Tone;
  blocks: Block[];
  links: LinkButton[];
  /** Punctuation of the language: after a label, between the items of an inline list. */
  punctuation: Punctuation;
}

export interface Punctuation {
  colon: string;
  list: string;
  /** Between the clauses of a sentence. */
  clause: string;
}

// ── size ─────────────────────────────────────────────────────────────────────────────────────

/**
 * How many items each list of a message may show. Builders take every list through {@link take},
 * which also records the longest list asked for: {@link renderToFit} needs it to know where its
 * search ends.
 */
export class ListBudget {
  /** The longest list a builder asked to show. */
  longest = 0;

  constructor(readonly limit: number) {}

  /** The first `limit` items, and how many were left out. */
  take<T>(all: readonly T[]): { shown: T[]; omitted: number } {
    this.longest = Math.max(this.longest, all.length);
    const shown = all.slice(0, this.limit);
    return { shown, omitted: all.length - shown.length };
  }
}

/** UTF-8 bytes of a body as it goes on the wire. */
export function serializedBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body), 'utf8');
}

/**
 * The event as a platform body that fits in `maxBytes` of JSON: every list in full when that fits,
 * otherwise the largest per-list item count that fits (a binary search; each candidate is built
 * whole and measured, never cut). When not even counts alone fit, a message that names the event
 * and points at the status page. Throws (`invalid-input`) only when `maxBytes` is too small for that.
 */
export function renderToFit<T>(event: NotifyEvent, language: Language, maxBytes: number, toBody: (model: MessageModel) => T): T {
  const words = WORDS[language];
  const unlimited = new ListBudget(Number.POSITIVE_INFINITY);
  const full = toBody(describeEvent(event, words, unlimited));
  if (serializedBytes(full) <= maxBytes) return full;

  let best: T | undefined;
  let low = 0;
  let high = unlimited.longest - 1;
  while (low <= high) {
    const limit = Math.floor((low + high) / 2);
    const body = toBody(describeEvent(event, words, new ListBudget(limit)));
    if (serializedBytes(body) <= maxBytes) {
      best = body;
      low = limit + 1;
    } else {
      high = limit - 1;
    }
  }
  if (best !== undefined) return best;

  const fallback = toBody(tooLarge(event, words));
  const size = serializedBytes(fallback);
  if (size > maxBytes) {
    throw new RollcallError('invalid-input', `maxBytes ${maxBytes} is too small for any message: the shortest one for a ${event.kind} event takes ${size} bytes; raise maxBytes (the platforms allow about 20,000)`);
  }
  return fallback;
}

// ── text helpers ─────────────────────────────────────────────────────────────────────────────

/** Free text (errors, reasons) is clipped to this many characters so that counts always fit. */
const CLIP = { reason: 1000, error: 300, problem: 300, digestLine: 160, subject: 200 } as const;

/** At most `max` characters (code points, so no surrogate pair is split), with `…` when clipped. */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Lines of a free text, blank ones dropped: each becomes a {@link Line} so no renderer breaks inside one. */
function textLines(text: string, max: number): Line[] {
  return clip(text, max)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => [line]);
}

/** A URL inside markdown's `[text](url)`: a space or a parenthesis would end it early, so they are percent-encoded. */
export function linkTarget(url: string): string {
  return url.replace(/[\s()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** `1,234`: the same in both languages, and locale-independent. */
export function formatNumber(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function approvalName(approval: ApprovalRef): string {
  return `${approval.platform}/${approval.id}`;
}

function personName(person: ChatPerson): string {
  return person.name ?? person.id;
}

function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}

// ── words ────────────────────────────────────────────────────────────────────────────────────

type RequestKind = RequestReceivedEvent['request']['kind'];
type StalledReason = StalledEvent['reason'];
type Action = ChangeLine['action'];
type Noun = 'instance' | 'event' | 'login' | 'item';

/** Every word a message uses, per language. */
export interface Words {
  punctuation: Punctuation;
  /** A heading with the number of items under it: `Created (3)`. */
  counted(label: string, n: number): string;
  count(n: number, noun: Noun): string;
  /** The line under a list that was shortened: how many items it leaves out. */
  more(omitted: number, shown: number): string;
  duration(ms: number): string;
  change(change: ChangeLine): string;
  changeCounts(counts: Record<Action, number>): string;
  links: Record<keyof Links, string>;
  requestKind: Record<RequestKind, string>;
  trigger: Record<ResultTrigger, string>;
  label: {
    request: string;
    employee: string;
    login: string;
    role: string;
    until: string;
    approvers: string;
    approval: string;
    revision: string;
    trigger: string;
    duration: string;
    created: string;
    updated: string;
    locked: string;
    deleted: string;
    instancesOk: string;
    failedInstances: string;
    okInstances: string;
    changes: string;
    instances: string;
    problems: string;
    events: string;
    logins: string;
    window: string;
  };
  received: { title(kind: RequestKind, who: string): string; intro(approval: string, branch: string, sha: string): string };
  refused: { title(approval: string): string; intro(approval: string): string };
  plan: { title(sha: string): string; where(instances: number, total: number): string; onAll(total: number): string; on(ids: string, more: number): string; none: string };
  applied: { title(sha: string, failed: number, total: number): string; failure(operation: string | undefined, error: string | undefined): string };
  drift: { title(corrected: boolean, instances: number, sha: string): string; intro(corrected: boolean): string };
  stalled: { title: Record<StalledReason, string>; hint: Record<StalledReason, string> };
  reminder: { title(login: string): string; body(loses: ReminderEvent['loses'], on: string): string; hint: string };
  digest: { title(events: number): string; window(from: string, to: string): string; kind: Record<Exclude<NotifyEvent, DigestEvent>['kind'], (n: number) => string> };
  tooLarge(items: number): string;
}

const EN_NOUNS: Record<Noun, [string, string]> = { instance: ['instance', 'instances'], event: ['event', 'events'], login: ['login', 'logins'], item: ['item', 'items'] };
const EN_ACTIONS: Record<Action, string> = { create: 'create', update: 'update', lock: 'lock', delete: 'delete' };

const EN: Words = {
  punctuation: { colon: ': ', list: ', ', clause: ', ' },
  counted: (label, n) => `${label} (${formatNumber(n)})`,
  count: (n, noun) => `${formatNumber(n)} ${EN_NOUNS[noun][n === 1 ? 0 : 1]}`,
  more: (omitted, shown) => (shown === 0 ? `${formatNumber(omitted)}, not listed here` : `… and ${formatNumber(omitted)} more`),
  duration: (ms) => {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const seconds = Math.round(ms / 1000);
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  },
  change: (change) => `${EN_ACTIONS[change.action]} ${change.kind} ${change.name}${change.fields?.length ? ` (${change.fields.join(', ')})` : ''}`,
  changeCounts: (c) => `${formatNumber(c.create)} to create, ${formatNumber(c.update)} to update, ${formatNumber(c.lock)} to lock, ${formatNumber(c.delete)} to delete`,
  links: { pullRequest: 'Pull request', status: 'Status', history: 'History' },
  requestKind: { onboard: 'Onboard', offboard: 'Offboard', grant: 'Grant role', revoke: 'Revoke role' },
  trigger: { revision: 'new revision', drift: 'drift correction', 'new-instance': 'new instance', 'break-glass': 'break-glass' },
  label: {
    request: 'Request',
    employee: 'Employee',
    login: 'Login',
    role: 'Role',
    until: 'Until',
    approvers: 'Approvers',
    approval: 'Approval',
    revision: 'Revision',
    trigger: 'Trigger',
    duration: 'Duration',
    created: 'Created',
    updated: 'Updated',
    locked: 'Locked',
    deleted: 'Deleted',
    instancesOk: 'Instances ok',
    failedInstances: 'Failed instances',
    okInstances: 'Instances ok',
    changes: 'Changes',
    instances: 'Instances',
    problems: 'Problems',
    events: 'Events',
    logins: 'Logins',
    window: 'Window',
  },
  received: {
    title: (kind, who) => `rollcall: request received, ${EN.requestKind[kind].toLowerCase()} ${who}`,
    intro: (approval, branch, sha) => `your approval ${approval} is now commit ${sha} on branch ${branch}.`,
  },
  refused: {
    title: (approval) => `rollcall: request ${approval} not carried out`,
    intro: (approval) => `your approval ${approval} was not turned into a change:`,
  },
  plan: {
    title: (sha) => `rollcall: plan for ${sha}`,
    where: (instances, total) => `on ${formatNumber(instances)} of ${EN.count(total, 'instance')}`,
    onAll: (total) => (total === 1 ? 'on the one instance' : `on all ${EN.count(total, 'instance')}`),
    on: (ids, more) => `on ${ids}${more > 0 ? ` and ${formatNumber(more)} more` : ''}`,
    none: 'No changes: the fleet already matches this revision.',
  },
  applied: {
    title: (sha, failed, total) =>
      failed > 0 ? `rollcall: applying ${sha} failed on ${formatNumber(failed)} of ${EN.count(total, 'instance')}` : `rollcall: applied ${sha}, ${EN.count(total, 'instance')} ok`,
    failure: (operation, error) => [operation ?? 'apply', error].filter((part) => part !== undefined).join(': '),
  },
  drift: {
    title: (corrected, n, sha) => `rollcall: drift ${corrected ? 'corrected' : 'found'} on ${EN.count(n, 'instance')} (${sha})`,
    intro: (corrected) => (corrected ? 'rollcall put these instances back to the revision in force.' : 'These instances differ from the revision in force.'),
  },
  stalled: {
    title: {
      'invalid-revision': 'rollcall stalled: invalid revision',
      'deletion-guard': 'rollcall stalled: deletion guard hit',
      unreachable: 'rollcall stalled: Cloud Assistant unreachable',
      'apply-failed': 'rollcall stalled: apply failed',
    },
    hint: {
      'invalid-revision': 'Fix the files named above and push a new commit. Nothing is applied until then.',
      'deletion-guard': 'The revision locks or deletes more accounts than policy.maxDeletions allows. If that is intended, add the trailer Rollcall-Allow-Deletions: N to a new commit.',
      unreachable: 'Check that the instances are running and their Cloud Assistant agent is online. rollcall retries on its own.',
      'apply-failed': 'See the status page for the failing instances. rollcall retries on its own.',
    },
  },
  reminder: {
    title: (login) => `rollcall: access of ${login} ends soon`,
    body: (loses, on) => ('role' in loses ? `loses the role ${loses.role} after ${on}, the last day of access.` : `loses the account after ${on}, the last day of access.`),
    hint: 'To keep access, file a new approval before then.',
  },
  digest: {
    title: (n) => `rollcall: ${EN.count(n, 'event')}`,
    window: (from, to) => `${from} – ${to}`,
    kind: {
      'request-received': (n) => `${formatNumber(n)} ${n === 1 ? 'request' : 'requests'} received`,
      'request-refused': (n) => `${formatNumber(n)} refused`,
      plan: (n) => `${formatNumber(n)} ${n === 1 ? 'plan' : 'plans'}`,
      applied: (n) => `${formatNumber(n)} applied`,
      drift: (n) => `${formatNumber(n)} drift ${n === 1 ? 'report' : 'reports'}`,
      stalled: (n) => `${formatNumber(n)} stalled`,
      reminder: (n) => `${formatNumber(n)} ${n === 1 ? 'reminder' : 'reminders'}`,
    },
  },
  tooLarge: (items) => `Too large for one message (${EN.count(items, 'item')}); see the status page.`,
};

const ZH_NOUNS: Record<Noun, string> = { instance: '台实例', event: '条事件', login: '个账号', item: '项' };
const ZH_ACTIONS: Record<Action, string> = { create: '创建', update: '更新', lock: '锁定', delete: '删除' };
const ZH_KINDS: Record<ChangeLine['kind'], string> = { user: '用户', group: '用户组', sudoers: ' sudoers 规则' };

const ZH: Words = {
  punctuation: { colon: '：', list: '、', clause: '，' },
  counted: (label, n) => `${label}（${formatNumber(n)}）`,
  count: (n, noun) => `${formatNumber(n)} ${ZH_NOUNS[noun]}`,
  more: (omitted, shown) => (shown === 0 ? `共 ${formatNumber(omitted)} 项，此处未列出` : `… 另有 ${formatNumber(omitted)} 项`),
  duration: (ms) => {
    if (ms < 1000) return `${Math.round(ms)} 毫秒`;
    const seconds = Math.round(ms / 1000);
    if (seconds < 60) return `${seconds} 秒`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} 分 ${seconds % 60} 秒`;
    return `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分`;
  },
  change: (change) => `${ZH_ACTIONS[change.action]}${ZH_KINDS[change.kind]} ${change.name}${change.fields?.length ? `（${change.fields.join('、')}）` : ''}`,
  changeCounts: (c) => `创建 ${formatNumber(c.create)}，更新 ${formatNumber(c.update)}，锁定 ${formatNumber(c.lock)}，删除 ${formatNumber(c.delete)}`,
  links: { pullRequest: '拉取请求', status: '状态页', history: '历史记录' },
  requestKind: { onboard: '开通账号', offboard: '注销账号', grant: '授予角色', revoke: '收回角色' },
  trigger: { revision: '新版本', drift: '纠正漂移', 'new-instance': '新实例', 'break-glass': '紧急操作' },
  label: {
    request: '申请',
    employee: '工号',
    login: '账号',
    role: '角色',
    until: '截止日期',
    approvers: '审批人',
    approval: '审批',
    revision: '版本',
    trigger: '原因',
    duration: '耗时',
    created: '已创建',
    updated: '已更新',
    locked: '已锁定',
    deleted: '已删除',
    instancesOk: '成功实例',
    failedInstances: '失败的实例',
    okInstances: '成功的实例',
    changes: '变更',
    instances: '实例',
    problems: '问题',
    events: '事件',
    logins: '涉及账号',
    window: '时间段',
  },
  received: {
    title: (kind, who) => `rollcall：已收到申请，${ZH.requestKind[kind]} ${who}`,
    intro: (approval, branch, sha) => `你的审批 ${approval} 已记录为分支 ${branch} 上的提交 ${sha}。`,
  },
  refused: {
    title: (approval) => `rollcall：申请 ${approval} 未执行`,
    intro: (approval) => `你的审批 ${approval} 没有产生变更，原因：`,
  },
  plan: {
    title: (sha) => `rollcall：版本 ${sha} 的变更计划`,
    where: (instances, total) => `涉及 ${formatNumber(total)} 台实例中的 ${formatNumber(instances)} 台`,
    onAll: (total) => `全部 ${ZH.count(total, 'instance')}`,
    on: (ids, more) => `${ids}${more > 0 ? ` 等另 ${formatNumber(more)} 台` : ''}`,
    none: '无变更：实例已与该版本一致。',
  },
  applied: {
    title: (sha, failed, total) =>
      failed > 0 ? `rollcall：应用 ${sha} 时 ${ZH.count(total, 'instance')}中 ${formatNumber(failed)} 台失败` : `rollcall：已应用 ${sha}，${ZH.count(total, 'instance')}全部成功`,
    failure: (operation, error) => [operation ?? '应用', error].filter((part) => part !== undefined).join('：'),
  },
  drift: {
    title: (corrected, n, sha) => `rollcall：${corrected ? '已纠正' : '发现'} ${ZH.count(n, 'instance')}的漂移（${sha}）`,
    intro: (corrected) => (corrected ? 'rollcall 已将这些实例恢复为当前生效的版本。' : '这些实例与当前生效的版本不一致。'),
  },
  stalled: {
    title: {
      'invalid-revision': 'rollcall 已停止：版本无效',
      'deletion-guard': 'rollcall 已停止：触发删除保护',
      unreachable: 'rollcall 已停止：云助手不可达',
      'apply-failed': 'rollcall 已停止：应用失败',
    },
    hint: {
      'invalid-revision': '请修正上面列出的文件并推送新的提交，在此之前不会应用任何变更。',
      'deletion-guard': '该版本锁定或删除的账号超过 policy.maxDeletions 的上限。如确属预期，请在新的提交中加上 Rollcall-Allow-Deletions: N。',
      unreachable: '请检查实例是否在运行、云助手客户端是否在线。rollcall 会自动重试。',
      'apply-failed': '失败的实例见状态页。rollcall 会自动重试。',
    },
  },
  reminder: {
    title: (login) => `rollcall：${login} 的权限即将到期`,
    body: (loses, on) => ('role' in loses ? `将在 ${on}（最后可用日）之后失去角色 ${loses.role}。` : `的账号将在 ${on}（最后可用日）之后失效。`),
    hint: '如需保留，请在此之前提交新的审批。',
  },
  digest: {
    title: (n) => `rollcall：${ZH.count(n, 'event')}汇总`,
    window: (from, to) => `${from} 至 ${to}`,
    kind: {
      'request-received': (n) => `收到申请 ${formatNumber(n)} 条`,
      'request-refused': (n) => `未执行申请 ${formatNumber(n)} 条`,
      plan: (n) => `变更计划 ${formatNumber(n)} 个`,
      applied: (n) => `已应用 ${formatNumber(n)} 次`,
      drift: (n) => `漂移 ${formatNumber(n)} 次`,
      stalled: (n) => `停止 ${formatNumber(n)} 次`,
      reminder: (n) => `到期提醒 ${formatNumber(n)} 条`,
    },
  },
  tooLarge: (items) => `内容过多（${ZH.count(items, 'item')}），无法在一条消息中显示，请查看状态页。`,
};

/** The words of each language. */
export const WORDS: Record<Language, Words> = { en: EN, zh: ZH };

// ── events → models ──────────────────────────────────────────────────────────────────────────

/** The message for an event, its lists bounded by `budget`. */
export function describeEvent(event: NotifyEvent, words: Words, budget: ListBudget): MessageModel {
  return { ...describeBody(event, words, budget), punctuation: words.punctuation };
}

type Body = Omit<MessageModel, 'punctuation'>;

function describeBody(event: NotifyEvent, words: Words, budget: ListBudget): Body {
  switch (event.kind) {
    case 'request-received':
      return describeReceived(event, words);
    case 'request-refused':
      return describeRefused(event, words);
    case 'plan':
      return describePlan(event, words, budget);
    case 'applied':
      return describeApplied(event, words, budget);
    case 'drift':
      return describeDrift(event, words, budget);
    case 'stalled':
      return describeStalled(event, words, budget);
    case 'reminder':
      return describeReminder(event, words);
    case 'digest':
      return describeDigest(event, words, budget);
  }
}

/** Link buttons, the primary one first (`primary` when the event has it), then pull request, status, history. */
function linkButtons(links: Links, words: Words, primary?: keyof Links): LinkButton[] {
  const order: (keyof Links)[] = ['pullRequest', 'status', 'history'];
  const present = order.filter((key) => links[key] !== undefined && links[key] !== '');
  const main = primary && present.includes(primary) ? primary : present[0];
  const sorted = [...present.filter((key) => key === main), ...present.filter((key) => key !== main)];
  return sorted.map((key) => ({ label: words.links[key], url: links[key] as string, primary: key === main }));
}

function list(heading: string, budget: ListBudget, all: readonly Line[], words: Words, inline = false): Block {
  const { shown, omitted } = budget.take(all);
  return { kind: 'list', heading, items: shown, omitted, inline, ...(omitted > 0 ? { more: words.more(omitted, shown.length) } : {}) };
}

function revisionLine(revision: { sha: string; subject: string; approval?: string }): Line {
  const approval = revision.approval ? ` (${revision.approval})` : '';
  return [{ bold: shortRevision(revision.sha) }, ` ${clip(revision.subject, CLIP.subject).replace(/\s+/g, ' ')}${approval}`];
}

/** The revision line, after a mention of who asked for it (an approval's requester) when known. */
function requesterLine(revision: RevisionRef): Line {
  return revision.requester ? [{ mention: revision.requester }, ' ', ...revisionLine(revision)] : revisionLine(revision);
}

function describeReceived(event: RequestReceivedEvent, words: Words): Body {
  const { request, approval } = event;
  const fields: Field[] = [
    { label: words.label.request, value: [words.requestKind[request.kind]] },
    { label: words.label.employee, value: [request.empId] },
  ];
  if (request.login) fields.push({ label: words.label.login, value: [request.login] });
  if (request.role) fields.push({ label: words.label.role, value: [request.role] });
  if (request.until) fields.push({ label: words.label.until, value: [request.until] });
  if (approval.approvers.length > 0) fields.push({ label: words.label.approvers, value: [approval.approvers.map(personName).join(words.punctuation.list)] });
  return {
    title: words.received.title(request.kind, request.login ?? request.empId),
    tone: 'info',
    blocks: [
      { kind: 'paragraph', lines: [[{ mention: approval.requester }, ` ${words.received.intro(approvalName(approval), event.branch, shortRevision(event.sha))}`]] },
      { kind: 'fields', fields },
    ],
    links: linkButtons(event.links, words),
  };
}

function describeRefused(event: RequestRefusedEvent, words: Words): Body {
  const { approval } = event;
  const blocks: Block[] = [
    { kind: 'paragraph', lines: [[{ mention: approval.requester }, ` ${words.refused.intro(approvalName(approval))}`]] },
    { kind: 'paragraph', lines: textLines(event.reason, CLIP.reason) },
  ];
  if (approval.approvers.length > 0) blocks.push({ kind: 'fields', fields: [{ label: words.label.approvers, value: [approval.approvers.map(personName).join(words.punctuation.list)] }] });
  return { title: words.refused.title(approvalName(approval)), tone: 'warning', blocks, links: [] };
}

function countActions(instances: readonly { changes: readonly ChangeLine[] }[]): Record<Action, number> {
  const counts: Record<Action, number> = { create: 0, update: 0, lock: 0, delete: 0 };
  for (const instance of instances) for (const change of instance.changes) counts[change.action] += 1;
  return counts;
}

/** The instance ids a plan line names before it says `and K more`: a plan stays short. */
const PLAN_IDS_PER_CHANGE = 3;

function describePlan(event: PlanEvent, words: Words, budget: ListBudget): Body {
  const sha = shortRevision(event.revision.sha);
  const changed = event.instances.filter((instance) => instance.changes.length > 0);
  const blocks: Block[] = [{ kind: 'paragraph', lines: [requesterLine(event.revision)] }];
  if (changed.length === 0) {
    blocks.push({ kind: 'paragraph', lines: [[words.plan.none]] });
    return { title: words.plan.title(sha), tone: 'neutral', blocks, links: linkButtons(event.links, words) };
  }
  // Fleets are mostly uniform: one line per distinct change, with where it happens, is shorter
  // than one block per instance and says the same.
  const where = new Map<string, { change: ChangeLine; ids: string[] }>();
  for (const instance of event.instances) {
    for (const change of instance.changes) {
      const key = words.change(change);
      const entry = where.get(key) ?? { change, ids: [] };
      entry.ids.push(instance.id);
      where.set(key, entry);
    }
  }
  const items: Line[] = [...where.entries()].map(([text, { ids }]) => {
    const place = ids.length === event.instances.length ? words.plan.onAll(ids.length) : words.plan.on(ids.slice(0, PLAN_IDS_PER_CHANGE).join(words.punctuation.list), Math.max(0, ids.length - PLAN_IDS_PER_CHANGE));
    return [{ bold: text }, ` — ${place}`];
  });
  blocks.push({ kind: 'paragraph', lines: [[`${words.changeCounts(countActions(event.instances))}${words.punctuation.clause}${words.plan.where(changed.length, event.instances.length)}`]] });
  blocks.push(list(words.label.changes, budget, items, words));
  return { title: words.plan.title(sha), tone: 'info', blocks, links: linkButtons(event.links, words) };
}

function describeApplied(event: AppliedEvent, words: Words, budget: ListBudget): Body {
  const sha = shortRevision(event.revision.sha);
  const failed = event.instances.filter((instance) => !instance.ok);
  const ok = event.instances.filter((instance) => instance.ok);
  const { accounts } = event;
  const blocks: Block[] = [
    { kind: 'paragraph', lines: [requesterLine(event.revision)] },
    {
      kind: 'fields',
      fields: [
        { label: words.label.trigger, value: [words.trigger[event.trigger]] },
        { label: words.label.duration, value: [words.duration(event.durationMs)] },
        { label: words.label.instancesOk, value: [`${formatNumber(ok.length)} / ${formatNumber(event.instances.length)}`] },
        { label: words.label.created, value: [formatNumber(accounts.created.length)] },
        { label: words.label.updated, value: [formatNumber(accounts.updated.length)] },
        { label: words.label.locked, value: [formatNumber(accounts.locked.length)] },
        { label: words.label.deleted, value: [formatNumber(accounts.deleted.length)] },
      ],
    },
  ];
  // Failures first: they are what someone has to act on.
  if (failed.length > 0) {
    const items = failed.map((instance): Line => [{ bold: instance.id }, ` — ${clip(words.applied.failure(instance.failedOperation, instance.error), CLIP.error).replace(/\s+/g, ' ')}`]);
    blocks.push(list(words.counted(words.label.failedInstances, failed.length), budget, items, words));
  }
  const loginLists: [string, string[]][] = [
    [words.label.created, accounts.created],
    [words.label.updated, accounts.updated],
    [words.label.locked, accounts.locked],
    [words.label.deleted, accounts.deleted],
  ];
  for (const [label, logins] of loginLists) {
    if (logins.length > 0) blocks.push(list(words.counted(label, logins.length), budget, logins.map((login) => [login]), words, true));
  }
  if (ok.length > 0) blocks.push(list(words.counted(words.label.okInstances, ok.length), budget, ok.map((instance) => [instance.id]), words, true));
  const tone: Tone = failed.length > 0 ? 'failure' : event.instances.length === 0 ? 'neutral' : 'success';
  return { title: words.applied.title(sha, failed.length, event.instances.length), tone, blocks, links: linkButtons(event.links, words, failed.length > 0 ? 'status' : undefined) };
}

/** The changes one drift line lists before `and K more`. */
const DRIFT_CHANGES_PER_INSTANCE = 5;

function describeDrift(event: DriftEvent, words: Words, budget: ListBudget): Body {
  const sha = shortRevision(event.revision.sha);
  const drifted = event.instances.filter((instance) => instance.changes.length > 0);
  const items = drifted.map((instance): Line => {
    const shown = instance.changes.slice(0, DRIFT_CHANGES_PER_INSTANCE).map(words.change);
    const omitted = instance.changes.length - shown.length;
    return [{ bold: instance.id }, ` — ${shown.join('; ')}${omitted > 0 ? ` ${words.more(omitted, shown.length)}` : ''}`];
  });
  return {
    title: words.drift.title(event.corrected, drifted.length, sha),
    tone: event.corrected ? 'success' : 'warning',
    blocks: [
      { kind: 'paragraph', lines: [revisionLine(event.revision), [words.drift.intro(event.corrected)]] },
      { kind: 'paragraph', lines: [[words.changeCounts(countActions(drifted))]] },
      list(words.counted(words.label.instances, drifted.length), budget, items, words),
    ],
    links: linkButtons(event.links, words, 'status'),
  };
}

function describeStalled(event: StalledEvent, words: Words, budget: ListBudget): Body {
  const blocks: Block[] = [{ kind: 'paragraph', lines: textLines(event.message, CLIP.reason) }];
  if (event.revision) blocks.push({ kind: 'fields', fields: [{ label: words.label.revision, value: revisionLine(event.revision) }] });
  const problems = event.problems ?? [];
  if (problems.length > 0) blocks.push(list(words.counted(words.label.problems, problems.length), budget, problems.map((problem) => [clip(problem, CLIP.problem).replace(/\s+/g, ' ')]), words));
  blocks.push({ kind: 'paragraph', lines: [[words.stalled.hint[event.reason]]] });
  return { title: words.stalled.title[event.reason], tone: 'failure', blocks, links: linkButtons(event.links, words, 'status') };
}

function describeReminder(event: ReminderEvent, words: Words): Body {
  const who: Line = event.mention ? [{ mention: event.mention }, ' '] : [];
  return {
    title: words.reminder.title(event.login),
    tone: 'warning',
    blocks: [
      { kind: 'paragraph', lines: [[...who, { bold: event.login }, ` (${words.label.employee} ${event.empId}) ${words.reminder.body(event.loses, event.on)}`]] },
      { kind: 'paragraph', lines: [[words.reminder.hint]] },
    ],
    links: [],
  };
}

const SEVERITY: Record<Tone, number> = { failure: 0, warning: 1, success: 2, info: 3, neutral: 4 };

/** The logins an event is about, for a digest's list of every login it covers. */
function loginsOf(event: Exclude<NotifyEvent, DigestEvent>): string[] {
  switch (event.kind) {
    case 'request-received':
      return event.request.login ? [event.request.login] : [];
    case 'applied':
      return [...event.accounts.created, ...event.accounts.updated, ...event.accounts.locked, ...event.accounts.deleted];
    case 'plan':
    case 'drift':
      return event.instances.flatMap((instance) => instance.changes.filter((change) => change.kind === 'user').map((change) => change.name));
    case 'reminder':
      return [event.login];
    case 'request-refused':
    case 'stalled':
      return [];
  }
}

/** One line of a digest: the event's own title (without the `rollcall` prefix), the mention, the detail that matters. */
function digestLine(event: Exclude<NotifyEvent, DigestEvent>, model: MessageModel, words: Words): Line {
  const title = model.title.replace(/^rollcall[:：]?\s*/, '');
  const line: Line = [{ bold: title }];
  switch (event.kind) {
    case 'request-received':
      line.push(' ', { mention: event.approval.requester });
      if (event.links.pullRequest) line.push(' ', { link: event.links.pullRequest, text: words.links.pullRequest });
      break;
    case 'request-refused':
      line.push(' ', { mention: event.approval.requester }, ` ${clip(event.reason, CLIP.digestLine).replace(/\s+/g, ' ')}`);
      break;
    case 'applied': {
      if (event.revision.requester) line.push(' ', { mention: event.revision.requester });
      const failed = event.instances.find((instance) => !instance.ok);
      if (failed) line.push(` — ${failed.id}: ${clip(words.applied.failure(failed.failedOperation, failed.error), CLIP.digestLine).replace(/\s+/g, ' ')}`);
      break;
    }
    case 'stalled':
      line.push(` — ${clip(event.message, CLIP.digestLine).replace(/\s+/g, ' ')}`);
      break;
    case 'reminder':
      if (event.mention) line.push(' ', { mention: event.mention });
      line.push(` ${event.login} ${words.reminder.body(event.loses, event.on)}`);
      break;
    case 'plan':
    case 'drift':
      break;
  }
  return line;
}

function describeDigest(event: DigestEvent, words: Words, budget: ListBudget): Body {
  // Each event's model only for its title and tone: its own lists do not matter here.
  const parts = event.events.map((inner, index) => ({ inner, index, model: describeEvent(inner, words, new ListBudget(0)) }));
  // The ones to act on first; the order they came in otherwise.
  parts.sort((a, b) => SEVERITY[a.model.tone] - SEVERITY[b.model.tone] || a.index - b.index);
  const tone = parts[0]?.model.tone ?? 'neutral';

  const counts = new Map<string, number>();
  for (const { inner } of parts) counts.set(inner.kind, (counts.get(inner.kind) ?? 0) + 1);
  const summary = (Object.keys(words.digest.kind) as (keyof Words['digest']['kind'])[])
    .filter((kind) => counts.has(kind))
    .map((kind) => words.digest.kind[kind](counts.get(kind) ?? 0))
    .join(words.punctuation.clause);

  const logins = uniqueSorted(event.events.flatMap(loginsOf));
  const blocks: Block[] = [
    { kind: 'fields', fields: [{ label: words.label.window, value: [words.digest.window(event.from, event.to)] }, { label: words.label.events, value: [summary === '' ? '0' : summary] }] },
    list(words.counted(words.label.events, parts.length), budget, parts.map(({ inner, model }) => digestLine(inner, model, words)), words),
  ];
  if (logins.length > 0) blocks.push(list(words.counted(words.label.logins, logins.length), budget, logins.map((login) => [login]), words, true));

  // The status page and history of the whole fleet: the first event that has them.
  const links: Links = {};
  for (const inner of event.events) {
    if ('links' in inner) {
      links.status ??= inner.links.status;
      links.history ??= inner.links.history;
    }
  }
  return { title: words.digest.title(parts.length), tone, blocks, links: linkButtons(links, words) };
}

/** What is left when not even the counts fit: the title, how much there was, and where to look. */
function tooLarge(event: NotifyEvent, words: Words): MessageModel {
  const budget = new ListBudget(0);
  const model = describeEvent(event, words, budget);
  return { ...model, blocks: [{ kind: 'paragraph', lines: [[words.tooLarge(budget.longest)]] }] };
}
