import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { LOCAL_ORIGIN, onLocalCommit } from './local-wakeups';
import { parseWakeup, wakeupsFor, type WorkKind } from './node-wakeups';

const settle = () => new Promise((r) => setImmediate(r));

function record(): { woken: Array<[string[], WorkKind]>; stop(): void } {
  const woken: Array<[string[], WorkKind]> = [];
  const stop = onLocalCommit((ids, kind) => woken.push([ids, kind]));
  return { woken, stop };
}

/** What knex's transactor carries: its commit promise, and its parent when it is a savepoint. */
function fakeTransaction(parent?: object): { trx: Knex.Transaction; commit(): void; rollback(): void } {
  let commit!: () => void;
  let rollback!: () => void;
  const executionPromise = new Promise<void>((resolve, reject) => {
    commit = resolve;
    rollback = () => reject(new Error('rolled back'));
  });
  const trx = { isTransaction: true, executionPromise, ...(parent ? { parentTransaction: parent } : {}) } as unknown as Knex.Transaction;
  return { trx, commit, rollback };
}

describe('in-process wake-ups for this process’s commits', () => {
  it('wakes at once after an autocommit statement, and tags the NOTIFY with this process', () => {
    const r = record();
    const wake = wakeupsFor({} as Knex, ['node_a', 'node_b'], 'task');
    expect(parseWakeup(wake.payloads[0])).toEqual({ kind: 'task', nodeIds: ['node_a', 'node_b'], origin: LOCAL_ORIGIN });
    expect(r.woken).toEqual([]);
    wake.woken();
    expect(r.woken).toEqual([[['node_a', 'node_b'], 'task']]);
    r.stop();
  });

  it('wakes only when the outermost transaction commits, never on a rollback', async () => {
    const r = record();
    const outer = fakeTransaction();
    const savepoint = fakeTransaction(outer.trx);
    wakeupsFor(savepoint.trx, ['node_a'], 'state').woken();
    savepoint.commit();
    await settle();
    expect(r.woken).toEqual([]);
    outer.commit();
    await settle();
    expect(r.woken).toEqual([[['node_a'], 'state']]);

    const failed = fakeTransaction();
    wakeupsFor(failed.trx, ['node_b'], 'state').woken();
    failed.rollback();
    await settle();
    expect(r.woken).toHaveLength(1);
    r.stop();
  });

  it('leaves a commit it cannot see untagged, for its own listeners to take from NOTIFY', () => {
    const r = record();
    const wake = wakeupsFor({ isTransaction: true } as unknown as Knex.Transaction, ['node_a'], 'task');
    expect(parseWakeup(wake.payloads[0])).toEqual({ kind: 'task', nodeIds: ['node_a'] });
    wake.woken();
    expect(r.woken).toEqual([]);
    r.stop();
  });
});
