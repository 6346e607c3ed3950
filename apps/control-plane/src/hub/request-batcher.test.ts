import { describe, expect, it } from 'vitest';
import { createRequestBatcher } from './request-batcher';

/** A statement the test releases by hand, recording each batch it was given. */
function gate() {
  const batches: string[][] = [];
  const open: Array<() => void> = [];
  const run = (batch: readonly string[]) =>
    new Promise<Array<string | Error>>((resolve) => {
      batches.push([...batch]);
      open.push(() => resolve(batch.map((r) => (r.startsWith('bad') ? new Error(`refused ${r}`) : r.toUpperCase()))));
    });
  return { batches, run, release: () => open.shift()!() };
}

/** lets every settled statement's callbacks run (results, then the next pump) */
const settle = () => new Promise((r) => setImmediate(r));

describe('request batcher', () => {
  it('sends a lone request at once and the ones arriving meanwhile together, up to the batch size', async () => {
    const g = gate();
    const ask = createRequestBatcher<string, string>({ maxBatch: 2, maxInFlight: 1, run: g.run });
    const first = ask('a');
    const rest = ['b', 'c', 'd'].map(ask);
    expect(g.batches).toEqual([['a']]);
    g.release();
    expect(await first).toBe('A');
    await settle();
    expect(g.batches).toEqual([['a'], ['b', 'c']]);
    g.release();
    await settle();
    g.release();
    expect(await Promise.all(rest)).toEqual(['B', 'C', 'D']);
    expect(g.batches).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('gatherMs 0: sends the requests of one turn of the event loop together, then the ones arriving meanwhile', async () => {
    const g = gate();
    const ask = createRequestBatcher<string, string>({ maxBatch: 3, maxInFlight: 1, gatherMs: 0, run: g.run });
    const turn = ['a', 'b'].map(ask);
    expect(g.batches).toEqual([]);
    await settle();
    expect(g.batches).toEqual([['a', 'b']]);
    const later = ['c', 'd', 'e', 'f'].map(ask);
    await settle();
    expect(g.batches).toEqual([['a', 'b']]);
    g.release();
    expect(await Promise.all(turn)).toEqual(['A', 'B']);
    await settle();
    expect(g.batches).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    g.release();
    await settle();
    g.release();
    expect(await Promise.all(later)).toEqual(['C', 'D', 'E', 'F']);
    expect(g.batches).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('gatherMs: a lone request waits that long for others, which join its batch', async () => {
    const g = gate();
    const ask = createRequestBatcher<string, string>({ maxBatch: 10, maxInFlight: 2, gatherMs: 30, run: g.run });
    const first = ask('a');
    await settle();
    expect(g.batches).toEqual([]);
    await new Promise((r) => setTimeout(r, 10));
    const second = ask('b');
    expect(g.batches).toEqual([]);
    await new Promise((r) => setTimeout(r, 40));
    expect(g.batches).toEqual([['a', 'b']]);
    g.release();
    expect(await Promise.all([first, second])).toEqual(['A', 'B']);
    await settle();
    // the next lone request waits again
    const third = ask('c');
    await settle();
    expect(g.batches).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(g.batches).toEqual([['a', 'b'], ['c']]);
    g.release();
    expect(await third).toBe('C');
  });

  it('keeps requests of one key out of the same batch, and rejects only the refused one', async () => {
    const g = gate();
    const ask = createRequestBatcher<string, string>({ maxBatch: 10, maxInFlight: 1, key: (r) => r.replace(/\d$/, ''), run: g.run });
    const blocker = ask('x');
    const asked = Promise.allSettled([ask('n1'), ask('n2'), ask('bad'), ask('m')]);
    g.release();
    await blocker;
    await settle();
    expect(g.batches[1]).toEqual(['n1', 'bad', 'm']);
    g.release();
    await settle();
    expect(g.batches[2]).toEqual(['n2']);
    g.release();
    const results = await asked;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  });

  it('rejects the whole batch when its statement fails, and goes on with the next', async () => {
    let calls = 0;
    const ask = createRequestBatcher<string, string>({
      maxBatch: 10,
      maxInFlight: 1,
      run: (batch) => (++calls === 1 ? Promise.reject(new Error('database gone')) : Promise.resolve(batch.map((r) => r))),
    });
    await expect(ask('a')).rejects.toThrow('database gone');
    expect(await ask('b')).toBe('b');
  });
});
