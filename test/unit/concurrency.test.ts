import { describe, expect, it } from '@jest/globals';
import { mapLimit } from '../../src/ports/concurrency.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('mapLimit', () => {
  it('keeps the order of the results with at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await tick();
      inFlight -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('starts no further call once one has failed, and fails with that error once the calls in flight are done', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const failure = mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 3) await tick();
      finished.push(n);
      if (n === 2) throw new Error('the second failed');
      return n;
    });
    await expect(failure).rejects.toThrow('the second failed');
    // 3 was in flight when 2 failed: the failure is reported after it finished, not beside it.
    expect(finished).toEqual([1, 2, 3]);
    await tick();
    // 1 and 2 ran together; 1 finished first and started 3, then 2 failed: nothing after 3.
    expect(started).toEqual([1, 2, 3]);
  });
});
