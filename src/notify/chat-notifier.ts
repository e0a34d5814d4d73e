import { createHash } from 'node:crypto';
import { RollcallError } from '../config/errors.js';
import type { Logger } from '../config/logger.js';
import type { Channel, Platform } from '../desired/schema.js';
import type { Notification, Notifier } from '../reconcile/outbox.js';
import type { DigestEvent, NotifyEvent } from './events.js';
import { DINGTALK_MAX_BYTES, renderDingtalk } from './render-dingtalk.js';
import { renderLark } from './render-lark.js';
import { serializedBytes } from './render-text.js';
import { LARK_MAX_BODY_BYTES } from './robots/lark-bot.js';
import { createRobotSender, type RobotSender } from './robots/robot-sender.js';

/**
 * Turns an event into a platform's robot message body that fits in `maxBytes` (default: what the
 * platform's robot client sends; lists that do not fit are summarised with counts).
 */
export type RenderMessage = (platform: Platform, event: NotifyEvent, maxBytes?: number) => object;

/**
 * Room for the `"timestamp":"…","sign":"…"` the Lark bot client adds to a card's body (about 80
 * bytes). The client refuses a signed body over LARK_MAX_BODY_BYTES (20,000), so cards are rendered
 * to that less this room: at the renderer's own default (20,000 for the card alone) every message
 * that needed the whole budget (a long digest, an apply of thousands of logins) was refused before
 * sending, and retried in vain forever.
 */
const LARK_SIGNATURE_ROOM = 100;

/** The most a rendered message may take, serialized, so that the robot client sends it as it is. */
const MAX_BYTES: Record<Platform, number> = { dingtalk: DINGTALK_MAX_BYTES, lark: LARK_MAX_BODY_BYTES - LARK_SIGNATURE_ROOM };

/** The renderers of both platforms in one language (ROLLCALL_LANGUAGE: zh, the default, or en). */
export function renderIn(language: 'zh' | 'en'): RenderMessage {
  return (platform, event, maxBytes) => {
    const options = { language, maxBytes: maxBytes ?? MAX_BYTES[platform] };
    return platform === 'dingtalk' ? renderDingtalk(event, options) : renderLark(event, options);
  };
}

export interface ChatNotifierOptions {
  /** approvals.yaml's `channels` as they are now (they change with commits). */
  channels(): Promise<Readonly<Record<string, Channel>>>;
  /** The channel that `ops` notifications go to: ROLLCALL_OPS_CHANNEL. */
  opsChannel?: string;
  render: RenderMessage;
  env: NodeJS.ProcessEnv;
  log: Logger;
  now?: () => number;
  /** Makes a channel's robot; the default is the platform's signed webhook with its rate limit. */
  createSender?: (platform: Platform, webhookUrl: string, secret: string | undefined) => RobotSender;
  /** Where each robot's sends are remembered across restarts (the daemon's state store); none: in memory only. */
  sendLog?: RobotSendLog;
}

/**
 * Each robot's recent sends, kept where a restart finds them, so that a restarted rollcall's rate
 * limit starts where the last one's stopped. Robots are named by a hash of their webhook (never the
 * webhook itself: it is a credential).
 */
export interface RobotSendLog {
  /** Send times (epoch ms) within the platforms' windows. */
  recent(robot: string): number[];
  record(robot: string, at: number): void;
}

/** The name a notification's channel resolves to, and its robot when it has one. */
interface Resolved {
  name: string;
  platform?: Platform;
  sender?: RobotSender;
  /** Why there is no robot, for the log. */
  missing?: string;
}

/**
 * The outbox's Notifier for DingTalk robots and Lark bots. A notification's channel names a
 * channel of approvals.yaml (`ops` is the one ROLLCALL_OPS_CHANNEL names); its robot's webhook URL
 * and secret come from the environment variables the channel names. Each robot keeps its rate
 * limit across messages (`readyIn` tells the outbox to let a channel collect, then send a digest).
 * A channel without a robot (not configured, or its variables unset) gets the notification in the
 * log, which counts as delivered: rollcall runs without chat.
 */
export class ChatNotifier implements Notifier {
  readonly #options: ChatNotifierOptions;
  /** One sender per channel and webhook: a robot's rate limit outlives any one message. */
  readonly #senders = new Map<string, RobotSender>();
  /** Where each sender's webhook and secret come from, for the fix a refusal names. */
  readonly #sources = new Map<RobotSender, string>();
  #channels: Readonly<Record<string, Channel>> = {};
  readonly #warned = new Set<string>();

  constructor(options: ChatNotifierOptions) {
    this.#options = options;
  }

  readyIn(channel: string): number {
    return this.#resolve(channel).sender?.readyIn(this.#now()) ?? 0;
  }

  async deliver(notification: Notification): Promise<void> {
    await this.#refresh();
    await this.#send(notification.channel, eventOf(notification), [notification]);
  }

  /**
   * As many of the notifications, from the first, as one message can show whole (every event's
   * line and every login listed): resolves with how many it carried, and the outbox keeps the rest
   * for the next message. A digest the renderer had to summarise ("… and 206 more") would leave
   * requests named nowhere, though they were marked sent.
   */
  async deliverDigest(channel: string, notifications: readonly Notification[]): Promise<number> {
    await this.#refresh();
    const { platform, sender } = this.#resolve(channel);
    // Without a robot they all go to the log, which has no size limit.
    const carried = platform === undefined || sender === undefined ? notifications.length : this.#wholeDigestCount(platform, notifications);
    const taken = notifications.slice(0, carried);
    await this.#send(channel, taken.length === 1 ? eventOf(taken[0]!) : this.#digest(taken), taken);
    return carried;
  }

  /** For status: each robot's pause and last failure (webhooks redacted). */
  robots(): { channel: string; target: string; pausedUntil?: number; lastFailure?: { code: string | number; message: string; fix?: string } }[] {
    const now = this.#now();
    return [...this.#senders.entries()].map(([key, sender]) => {
      const { lastFailure, ...status } = sender.status(now);
      const source = this.#sources.get(sender);
      return {
        channel: key.split('\n')[0]!,
        ...status,
        ...(lastFailure ? { lastFailure: { ...lastFailure, ...(lastFailure.fix !== undefined && source ? { fix: `${lastFailure.fix} (${source})` } : {}) } } : {}),
      };
    });
  }

  #digest(notifications: readonly Notification[]): DigestEvent {
    const events = notifications.map(eventOf).flatMap((event) => (event.kind === 'digest' ? event.events : [event]));
    const at = new Date(this.#now()).toISOString();
    return { kind: 'digest', events, from: at, to: at };
  }

  /**
   * The most notifications, from the first, whose digest renders whole within the platform's
   * limit (a binary search: a digest of more events is never smaller). At least one: a single
   * event too large for a message is the renderer's to summarise.
   */
  #wholeDigestCount(platform: Platform, notifications: readonly Notification[]): number {
    const whole = (count: number) => serializedBytes(this.#options.render(platform, this.#digest(notifications.slice(0, count)), Number.POSITIVE_INFINITY)) <= MAX_BYTES[platform];
    if (whole(notifications.length)) return notifications.length;
    let low = 1;
    let high = notifications.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (whole(middle)) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  async #send(channel: string, event: NotifyEvent, notifications: readonly Notification[]): Promise<void> {
    const resolved = this.#resolve(channel);
    if (!resolved.sender || !resolved.platform) {
      if (resolved.missing && !this.#warned.has(resolved.missing)) {
        this.#warned.add(resolved.missing);
        this.#options.log.warn({ channel: resolved.name }, resolved.missing);
      }
      for (const notification of notifications) this.#options.log.info({ notification: { ...notification, event: undefined } }, 'notification');
      return;
    }
    const outcome = await resolved.sender.trySend(this.#options.render(resolved.platform, event), this.#now());
    if (outcome === 'sent') return;
    if ('failed' in outcome) {
      const source = this.#sources.get(resolved.sender);
      throw new RollcallError('invalid-input', `the ${resolved.name} robot refused the message (${outcome.failed.code}: ${outcome.failed.message}): ${outcome.failed.fix}${source ? ` (${source})` : ''}`);
    }
    throw new RollcallError('cloud-api', `the ${resolved.name} robot cannot take a message for ${Math.ceil(outcome.wait / 1000)} s${outcome.reply ? ` (${outcome.reply.code}: ${outcome.reply.message})` : ''}`);
  }

  #resolve(channel: string): Resolved {
    const name = channel === 'ops' ? (this.#options.opsChannel ?? 'ops') : channel;
    const config = this.#channels[name];
    if (!config) {
      return { name, missing: channel === 'ops' && !this.#options.opsChannel ? 'ROLLCALL_OPS_CHANNEL is not set: operators\' notifications go to the log; set it to a channel of approvals.yaml' : `channel ${name} is not in approvals.yaml's channels: its notifications go to the log` };
    }
    const webhookUrl = this.#options.env[config.webhookEnv];
    if (!webhookUrl) return { name, platform: config.platform, missing: `${config.webhookEnv} is not set: channel ${name}'s notifications go to the log` };
    const secret = config.secretEnv ? this.#options.env[config.secretEnv] : undefined;
    const key = `${name}\n${config.platform}\n${webhookUrl}\n${secret ?? ''}`;
    let sender = this.#senders.get(key);
    if (!sender) {
      sender = this.#options.createSender
        ? this.#options.createSender(config.platform, webhookUrl, secret)
        : this.#createSender(config.platform, webhookUrl, secret);
      this.#senders.set(key, sender);
      // The platform's words say what is wrong with the robot; these say where rollcall reads it from.
      this.#sources.set(sender, `channel ${name} of approvals.yaml: its webhook URL is read from ${config.webhookEnv}${config.secretEnv ? `, its secret from ${config.secretEnv}` : ', and it has no secretEnv (no signature)'}`);
    }
    return { name, platform: config.platform, sender };
  }

  /** The platform's signed robot with its rate limit, resumed from the send log when there is one. */
  #createSender(platform: Platform, webhookUrl: string, secret: string | undefined): RobotSender {
    const log = this.#options.sendLog;
    const robot = createHash('sha256').update(webhookUrl).digest('hex').slice(0, 16);
    return createRobotSender(platform, {
      webhookUrl,
      ...(secret ? { secret } : {}),
      log: this.#options.log,
      ...(log ? { sentBefore: log.recent(robot), onSend: (at: number) => log.record(robot, at) } : {}),
    });
  }

  async #refresh(): Promise<void> {
    try {
      this.#channels = await this.#options.channels();
    } catch (error) {
      // The last channels read stay in use: a broken approvals.yaml must not silence the chat.
      this.#options.log.warn({ err: error }, 'could not read the channels of approvals.yaml; using the last ones read');
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

/** The notification's event, or, for one that has none, a stall with its text (rendered as plain words). */
function eventOf(notification: Notification): NotifyEvent {
  return notification.event ?? { kind: 'stalled', reason: 'apply-failed', message: `${notification.title}\n${notification.text}`, links: {} };
}
