/**
 * What every platform simulator offers the tests and the demo (adapters/<platform>/simulator.ts): it
 * serves a generated school in the platform's own protocol, validates credentials and sessions as the
 * platform does, counts requests, and injects the faults the adapters must survive.
 */
export interface SimulatorFaults {
  /** Every current session / token becomes invalid (the next request sees the platform's "expired"). */
  expireSessions?: boolean;
  /** The next N requests are rate limited the platform's way (HTTP 429 with Retry-After, or its own message). */
  rateLimit?: { requests: number; retryAfterSeconds: number };
  /** The next N requests (Infinity: until cleared) meet maintenance: the platform's 5xx / 550 / HTML error page. */
  maintenance?: { requests: number; style?: 'status' | 'html' };
  /** Every response is delayed by this many milliseconds. */
  slowMs?: number;
  /** One record in list answers is malformed (a broken date, an empty mark value …). */
  malformedRecord?: boolean;
}

export interface SimulatorHandle {
  /** Base URL the adapter's config points at. */
  url: string;
  /** A connection config that works against this simulator, secrets included (no rate limit needed on loopback). */
  connectionConfig(): Record<string, unknown>;
  /** The same with a wrong password or token: the platform must refuse it as it refuses a real one. */
  badConfig(): Record<string, unknown>;
  /** Values that must never show up in logs or errors (passwords, tokens, client secrets). */
  secrets(): string[];
  /** Requests served so far (all of them, faulty ones included). */
  requests(): number;
  /** Replaces the active faults; `{}` clears them. */
  setFaults(faults: SimulatorFaults): void;
  close(): Promise<void>;
}

/**
 * How a platform shows a generated school's values, where it differs from the generator's own spelling
 * (NetSchool has no «5-», Дневник.ру writes absences as `Absent` …): what a round trip compares by.
 * Groups are the generator's (src/demo/types.ts DemoGroup).
 */
export interface PlatformSpelling {
  /** The raw mark value the platform reports for a generated one. */
  markValue?(value: string): string;
  /** Whether the platform shows a generated mark at all (default: every mark is shown). */
  markShown?(value: string): boolean;
  /** The raw attendance code the platform reports for a generated one. */
  absenceCode?(code: string): string;
  /** The lesson topic as the platform shows it (NetSchool's diary has none). */
  topic?(topic: string): string;
  /** The name a class or subgroup reaches the journal under. */
  groupName?(group: { id: string; name: string; kind: string; parentId?: string | null; subjectId?: string | null }): string;
}

/**
 * What an adapter's simulator module offers (`Adapter.simulator()` loads it): a server of a generated
 * school (src/demo's DemoSchool) in the platform's protocol, and how that platform spells the school.
 * `school` is typed loosely because src/ports may not depend on src/demo; simulators take a DemoSchool.
 */
export interface SimulatorFactory {
  start(school: unknown, options?: Record<string, unknown>): Promise<SimulatorHandle>;
  spelling(school: unknown): PlatformSpelling;
}

/** How a platform answers the faults that replace a response (its own status codes and bodies). */
export interface FaultAnswers<Res> {
  rateLimited(res: Res, retryAfterSeconds: number): void;
  maintenance(res: Res, style: 'status' | 'html'): void;
}

/**
 * The front of a simulator's request handling (an Express-style middleware): counts the request, then
 * answers it with the next rate-limit or maintenance fault (spending one of its count) the platform's
 * way, or lets it through — after `slowMs` when the faults ask for slowness.
 */
export function faultGate<Req, Res>(
  state: { requests: number; faults: SimulatorFaults },
  answers: FaultAnswers<Res>,
): (req: Req, res: Res, next: () => void) => void {
  return (_req, res, next) => {
    state.requests += 1;
    const { faults } = state;
    if (faults.rateLimit && faults.rateLimit.requests > 0) {
      faults.rateLimit.requests -= 1;
      answers.rateLimited(res, faults.rateLimit.retryAfterSeconds);
      return;
    }
    if (faults.maintenance && faults.maintenance.requests > 0) {
      faults.maintenance.requests -= 1;
      answers.maintenance(res, faults.maintenance.style ?? 'status');
      return;
    }
    if (faults.slowMs) setTimeout(next, faults.slowMs);
    else next();
  };
}

/** The simulator's own copy of the faults it was given: it spends their counters, not the caller's. */
export function copyFaults(faults: SimulatorFaults): SimulatorFaults {
  return {
    ...faults,
    ...(faults.rateLimit ? { rateLimit: { ...faults.rateLimit } } : {}),
    ...(faults.maintenance ? { maintenance: { ...faults.maintenance } } : {}),
  };
}
