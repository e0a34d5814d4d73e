/** The faults that hit one instance's run, as they stood when the invocation started. */
export interface InstanceFaults {
  offline: boolean;
  aborted: boolean;
  hang: boolean;
  lostResult: boolean;
}

/**
 * Faults to inject into the emulator, changeable while it runs: what goes wrong in a real fleet,
 * on demand, so rollcall's handling of it can be tested. Actions are named as in the API
 * (`RunCommand`); `'*'` stands for every action. Instance faults apply to the invocations dispatched
 * while they are set: an invocation keeps the faults it started with.
 *
 * ```ts
 * emulator.faults.setThrottle('DescribeInvocationResults', 0.3); // 30 % of calls: Throttling.User
 * emulator.faults.setLatency('*', 200);                          // every call waits 200 ms
 * emulator.faults.offline.add('i-local0002');                    // agent down: ClientNotRunning
 * emulator.faults.hang.add('i-local0003');                       // runs hit their Timeout
 * ```
 */
export class Faults {
  /** Action (or `'*'`) → share of calls refused with `Throttling.User`, 0..1. */
  readonly throttle = new Map<string, number>();
  /** Action (or `'*'`) → milliseconds each call waits before it is handled. */
  readonly latencyMs = new Map<string, number>();
  /** Instances whose Cloud Assistant agent is not running: status "false", invocations `Failed` with `ClientNotRunning`. */
  readonly offline = new Set<string>();
  /** Instances a command is never delivered to: `Aborted` with `DeliveryTimeout` after the delivery deadline. */
  readonly aborted = new Set<string>();
  /** Instances where a run hangs: the script is replaced by a `sleep` past its Timeout, so it ends `Timeout`. */
  readonly hang = new Set<string>();
  /**
   * Instances whose results are lost on the way back: the run happens, but DescribeInvocationResults
   * omits the instance, DescribeInvocations shows it Running forever, and no TaskCompleted event is sent.
   */
  readonly lostResult = new Set<string>();
  readonly #random: () => number;

  /** `seed` makes the throttling decisions repeatable; without one they differ from run to run. */
  constructor(seed: number = Math.floor(Math.random() * 2 ** 32)) {
    this.#random = mulberry32(seed);
  }

  /** Refuse `rate` (0..1) of the calls to `action` (or every action, `'*'`) with `Throttling.User`. */
  setThrottle(action: string, rate: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`a throttling rate is a share of calls from 0 to 1, not ${rate}`);
    if (rate === 0) this.throttle.delete(action);
    else this.throttle.set(action, rate);
  }

  /** Delay every call to `action` (or every action, `'*'`) by `ms` milliseconds. */
  setLatency(action: string, ms: number): void {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`a latency is a number of milliseconds, 0 or more, not ${ms}`);
    if (ms === 0) this.latencyMs.delete(action);
    else this.latencyMs.set(action, ms);
  }

  /**
   * Whether this call to `action` is throttled. The action's own rate wins over `'*'`. Only rates
   * strictly between 0 and 1 draw a random number, so with a seed the sequence of decisions
   * depends only on the sequence of such calls.
   */
  shouldThrottle(action: string): boolean {
    const rate = this.throttle.get(action) ?? this.throttle.get('*') ?? 0;
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.#random() < rate;
  }

  /** The faults of one instance now, for an invocation to keep for its whole run. */
  forInstance(instanceId: string): InstanceFaults {
    return {
      offline: this.offline.has(instanceId),
      aborted: this.aborted.has(instanceId),
      hang: this.hang.has(instanceId),
      lostResult: this.lostResult.has(instanceId),
    };
  }

  /** Milliseconds a call to `action` waits: its own latency, or the `'*'` one. */
  latencyFor(action: string): number {
    return this.latencyMs.get(action) ?? this.latencyMs.get('*') ?? 0;
  }

  /** Removes every fault. */
  reset(): void {
    this.throttle.clear();
    this.latencyMs.clear();
    this.offline.clear();
    this.aborted.clear();
    this.hang.clear();
    this.lostResult.clear();
  }
}

/** A small, well-known 32-bit PRNG: the same seed gives the same sequence on every platform. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
