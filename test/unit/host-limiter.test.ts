import { describe, expect, it } from '@jest/globals';
import { HostLimiter, Limiters } from '../../src/sync/http-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HostLimiter', () => {
  it('starts requests at least 1/requestsPerSecond apart, with at most `concurrency` in flight', async () => {
    const limiter = new HostLimiter(50, 2);
    const starts: number[] = [];
    let inFlight = 0;
    let most = 0;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => limiter.schedule(async () => {
      starts.push(performance.now());
      most = Math.max(most, ++inFlight);
      await sleep(30);
      inFlight -= 1;
      return i;
    })));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(2);
    // 50 per second: 20 ms between starts (the throttle counts in Date.now() milliseconds: up to 2 ms of slack).
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(gaps.filter((g) => g < 17.5)).toEqual([]);
  });

  it('passes a failure through and keeps serving', async () => {
    const limiter = new HostLimiter(1000, 1);
    await expect(limiter.schedule(async () => { throw new Error('refused'); })).rejects.toThrow('refused');
    await expect(limiter.schedule(async () => 'next')).resolves.toBe('next');
  });
});

describe('Limiters', () => {
  it('shares one limiter per host and credential', () => {
    const limiters = new Limiters();
    expect(limiters.get('a|x', 5, 2)).toBe(limiters.get('a|x', 5, 2));
    expect(limiters.get('a|x', 5, 2)).not.toBe(limiters.get('a|y', 5, 2));
  });
});
