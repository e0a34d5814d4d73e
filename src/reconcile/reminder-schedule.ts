import type { Logger } from '../config/logger.js';
import { Platform } from '../desired/schema.js';
import type { DesiredState, User } from '../desired/types.js';
import type { ChatPerson } from '../notify/events.js';
import { dueReminders, reminderKey } from '../notify/reminders.js';
import { localDate } from '../plan/local-date.js';
import type { Outbox } from './outbox.js';

/** How often the schedule looks: often enough that a new day (in any timezone) is noticed within the hour. */
const CHECK_EVERY_MS = 3_600_000;

/** The desired state in force and where it came from. */
export interface InForce {
  sha: string;
  desired: DesiredState;
}

export interface ReminderScheduleOptions {
  /** The revision in force (the last good one); undefined before there is one. */
  inForce(): InForce | undefined;
  /** The `Flow:` of the approval that last changed `users/<empId>.yaml` up to `sha`, if any. */
  requestFlowOf(sha: string, empId: string): Promise<string | undefined>;
  /** The notify channel of a flow (`<platform>/<code>`) in the state in force; `ops` for none. */
  channelOfFlow(flow: string | undefined): string;
  outbox: Outbox;
  log: Logger;
  now?: () => Date;
  intervalMs?: number;
}

/**
 * Sends `policy.remindBefore` reminders: once an hour (and at start) it lists the reminders due
 * today in policy.timezone from the revision in force and puts each in the outbox under a key that
 * names the user, what they lose and the day, so each is sent once however often it is found. A
 * reminder goes to the channel of the flow whose approval last changed the user's file (the
 * user's request channel), else to the operators, and mentions the user by their id on that
 * channel's platform when the record has one.
 */
export class ReminderSchedule {
  readonly #options: ReminderScheduleOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(options: ReminderScheduleOptions) {
    this.#options = options;
  }

  start(): void {
    void this.check();
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs ?? CHECK_EVERY_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Enqueues what is due now (each once); resolves with how many were new to the outbox's eyes. Never throws. */
  check(): Promise<number> {
    this.#running ??= this.#check()
      .catch((error: unknown) => {
        this.#options.log.warn({ err: error }, 'could not check for reminders; trying again within the hour');
        return 0;
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #check(): Promise<number> {
    const inForce = this.#options.inForce();
    if (!inForce) return 0;
    const { policy } = inForce.desired.fleet;
    const { users } = inForce.desired;
    const today = localDate((this.#options.now ?? (() => new Date()))(), policy.timezone);
    const due = dueReminders(users, today, policy.remindBefore);
    let enqueued = 0;
    for (const reminder of due) {
      const flow = await this.#options.requestFlowOf(inForce.sha, reminder.empId);
      const channel = this.#options.channelOfFlow(flow);
      const mention = mentionOf(users.find((candidate) => candidate.empId === reminder.empId), flow);
      const what = 'role' in reminder.loses ? `role ${reminder.loses.role}` : 'access';
      if (
        this.#options.outbox.enqueue(reminderKey(reminder), {
          kind: 'reminder',
          channel,
          title: `${reminder.login} loses ${what} after ${reminder.on}`,
          text: `${reminder.login} (${reminder.empId}) loses ${what} after ${reminder.on}: extend it with a new request, or let it end.`,
          event: { ...reminder, ...(mention ? { mention } : {}) },
        })
      ) {
        enqueued += 1;
      }
    }
    if (enqueued > 0) this.#options.log.info({ reminders: enqueued, today }, 'reminders queued');
    return enqueued;
  }
}

/** The user as the flow's platform knows them (`ids.<platform>`), for a mention; undefined when it does not. */
function mentionOf(user: User | undefined, flow: string | undefined): ChatPerson | undefined {
  const platform = Platform.safeParse(flow?.split('/')[0]);
  const id = platform.success ? user?.ids?.[platform.data] : undefined;
  if (!platform.success || id === undefined) return undefined;
  return { id, platform: platform.data, ...(user?.name ? { name: user.name } : {}) };
}
