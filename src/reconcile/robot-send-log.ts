import type { RobotSendLog } from '../notify/chat-notifier.js';
import type { StateStore } from './state-store.js';

/** Longer than any platform's rate window (DingTalk and Lark count a minute). */
const KEEP_MS = 120_000;
/** More than any bucket lets through in KEEP_MS (Lark: 90 a minute). */
const KEEP_MAX = 200;

/**
 * Robots' recent sends in the state store's meta table (`robot-sends:<robot>`), so that the rate
 * limit of a restarted rollcall resumes where the previous process left it. One small write per
 * message sent.
 */
export function storeSendLog(store: StateStore, now: () => number = Date.now): RobotSendLog {
  const key = (robot: string) => `robot-sends:${robot}`;
  const read = (robot: string): number[] => {
    try {
      const parsed = JSON.parse(store.getMeta(key(robot)) ?? '[]') as unknown;
      return Array.isArray(parsed) ? parsed.filter((at): at is number => typeof at === 'number') : [];
    } catch {
      // A damaged entry only costs the memory of a minute's sends.
      return [];
    }
  };
  return {
    recent: (robot) => read(robot).filter((at) => at > now() - KEEP_MS),
    record: (robot, at) => {
      const kept = [...read(robot).filter((time) => time > at - KEEP_MS), at].slice(-KEEP_MAX);
      store.setMeta(key(robot), JSON.stringify(kept));
    },
  };
}
