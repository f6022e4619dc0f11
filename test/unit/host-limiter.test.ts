import { describe, expect, it } from '@jest/globals';
import { AdapterError } from '../../src/ports/adapter.js';
import { MemoryHostGate } from '../../src/sync/host-gate.js';
import { HostLimiter, Limiters, PlatformUnavailableError } from '../../src/sync/host-limits.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const signal = new AbortController().signal;

describe('HostLimiter', () => {
  it('starts requests at least 1/requestsPerSecond apart, with at most `concurrency` in flight', async () => {
    const limiter = new HostLimiter(new MemoryHostGate(), 'a.example', 'x', 50, 2, 1000);
    const starts: number[] = [];
    let inFlight = 0;
    let most = 0;
    const asked = performance.now();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => limiter.schedule(async () => {
      starts.push(performance.now());
      most = Math.max(most, ++inFlight);
      await sleep(30);
      inFlight -= 1;
      return i;
    }, signal)));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(2);
    // 50 per second: slots 20 ms apart from when they were asked for (counted in Date.now() milliseconds:
    // up to 2 ms of slack). A start never precedes its slot; a busy machine may only make it later, so
    // only that lower bound is asserted: the k-th start is at least k slots after the asking.
    starts.forEach((t, k) => expect(Math.round(t - asked)).toBeGreaterThanOrEqual(k * 20 - 2));
  });

  it('passes a failure through and keeps serving', async () => {
    const limiter = new HostLimiter(new MemoryHostGate(), 'a.example', 'x', 1000, 1, 1000);
    await expect(limiter.schedule(async () => { throw new Error('refused'); }, signal)).rejects.toThrow('refused');
    await expect(limiter.schedule(async () => 'next', signal)).resolves.toBe('next');
  });
});

describe('the circuit breaker of a host', () => {
  const transient = () => Promise.reject(new AdapterError('transient', 'HTTP 502 on GET /x', { status: 502 }));

  it('opens after N consecutive transient failures and then refuses without calling the platform', async () => {
    const limiter = new HostLimiter(new MemoryHostGate({ failures: 3, openMs: 60_000 }), 'down.example', 'x', 1000, 1, 1000);
    await expect(limiter.schedule(transient, signal)).rejects.toThrow('HTTP 502');
    await expect(limiter.schedule(transient, signal)).rejects.toThrow('HTTP 502');
    // The third failure opens it: the caller hears so at once, with the platform's failure as the cause.
    const opened = await limiter.schedule(transient, signal).catch((e: unknown) => e);
    expect(opened).toBeInstanceOf(PlatformUnavailableError);
    expect((opened as Error).cause).toBeInstanceOf(AdapterError);
    let called = 0;
    const refused = await limiter.schedule(async () => ++called, signal).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PlatformUnavailableError);
    expect((refused as Error).message).toMatch(/^platform down\.example is unavailable, retrying at \d{4}-/);
    expect(called).toBe(0);
  });

  it('counts neither 4xx answers nor rate limiting, and any answer resets the count', async () => {
    const limiter = new HostLimiter(new MemoryHostGate({ failures: 2, openMs: 60_000 }), 'up.example', 'x', 1000, 1, 1000);
    await expect(limiter.schedule(transient, signal)).rejects.toThrow('HTTP 502');
    await expect(limiter.schedule(() => Promise.reject(new AdapterError('permanent', 'HTTP 400')), signal)).rejects.toThrow('HTTP 400');
    await expect(limiter.schedule(transient, signal)).rejects.toThrow('HTTP 502');
    await expect(limiter.schedule(() => Promise.reject(new AdapterError('rate_limited', 'HTTP 429')), signal)).rejects.toThrow('HTTP 429');
    await expect(limiter.schedule(transient, signal)).rejects.toThrow('HTTP 502');
    await expect(limiter.schedule(async () => 'ok', signal)).resolves.toBe('ok');
  });

  it('half-opens when the open time is over: one probe goes, the rest wait for it; its success closes the breaker', async () => {
    const gate = new MemoryHostGate({ failures: 1, openMs: 0 });
    const one = new HostLimiter(gate, 'flaky.example', 'x', 1000, 1, 60_000);
    const other = new HostLimiter(gate, 'flaky.example', 'y', 1000, 1, 60_000);
    await expect(one.schedule(transient, signal)).rejects.toBeInstanceOf(PlatformUnavailableError);
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => { started = resolve; });
    const probe = one.schedule(() => new Promise<string>((resolve) => {
      release = () => resolve('probed');
      started();
    }), signal);
    await running;
    await expect(other.schedule(async () => 'too early', signal)).rejects.toBeInstanceOf(PlatformUnavailableError);
    release();
    await expect(probe).resolves.toBe('probed');
    await expect(other.schedule(async () => 'closed', signal)).resolves.toBe('closed');
  });
});

describe('Limiters', () => {
  it('shares one limiter per host, credential and concurrency', () => {
    const limiters = new Limiters();
    const limits = { requestsPerSecond: 5, concurrency: 2, probeMs: 1000 };
    expect(limiters.get('a', 'x', limits)).toBe(limiters.get('a', 'x', limits));
    expect(limiters.get('a', 'x', limits)).not.toBe(limiters.get('a', 'y', limits));
    expect(limiters.get('a', 'x', limits)).not.toBe(limiters.get('a', 'x', { ...limits, concurrency: 1 }));
  });
});
