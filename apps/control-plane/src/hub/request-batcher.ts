// Requests that arrive while a statement runs go together in the next one: after a control-plane
// restart the whole fleet asks within seconds (admissions, node lookups), and one round trip plus
// one query build per agent was most of what that cost. A lone request goes at once, or (gatherMs)
// after a short wait with the others that arrived meanwhile.
interface Pending<Req, Res> {
  req: Req;
  resolve(res: Res): void;
  reject(err: Error): void;
}

export interface RequestBatcherOptions<Req, Res> {
  /** requests per statement */
  maxBatch: number;
  /** statements at once, each on its own pooled connection */
  maxInFlight: number;
  /** requests with the same key never share a batch: the later waits for the next one */
  key?: (req: Req) => string;
  /**
   * A request finding nothing queued waits this long (0: until the end of its turn of the event
   * loop) for others to join its batch, rather than going alone at once: a fleet reconnecting after
   * a restart arrives a few agents at a time, and a statement per agent or two was most of what
   * re-admitting it cost. Unset: a lone request goes at once.
   */
  gatherMs?: number;
  /** one outcome per request, in order; an Error rejects that request alone */
  run(batch: readonly Req[]): Promise<ReadonlyArray<Res | Error>>;
}

/** Returns the function callers use; a failed statement rejects its whole batch. */
export function createRequestBatcher<Req, Res>(opts: RequestBatcherOptions<Req, Res>): (req: Req) => Promise<Res> {
  let queue: Array<Pending<Req, Res>> = [];
  let inFlight = 0;

  function take(): Array<Pending<Req, Res>> {
    if (!opts.key) {
      const batch = queue.slice(0, opts.maxBatch);
      queue = queue.slice(batch.length);
      return batch;
    }
    const batch: Array<Pending<Req, Res>> = [];
    const later: Array<Pending<Req, Res>> = [];
    const keys = new Set<string>();
    for (const p of queue) {
      const k = opts.key(p.req);
      if (batch.length < opts.maxBatch && !keys.has(k)) {
        keys.add(k);
        batch.push(p);
      } else later.push(p);
    }
    queue = later;
    return batch;
  }

  async function run(batch: Array<Pending<Req, Res>>): Promise<void> {
    const outcomes = await opts.run(batch.map((p) => p.req));
    batch.forEach((p, i) => {
      const o = outcomes[i] as Res | Error;
      if (o instanceof Error) p.reject(o);
      else p.resolve(o);
    });
  }

  function pump(): void {
    while (inFlight < opts.maxInFlight && queue.length > 0) {
      const batch = take();
      inFlight += 1;
      run(batch)
        .catch((err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          for (const p of batch) p.reject(e);
        })
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  }

  let gathering = false;
  const gathered = () => {
    gathering = false;
    pump();
  };

  return (req) =>
    new Promise<Res>((resolve, reject) => {
      queue.push({ req, resolve, reject });
      if (opts.gatherMs === undefined) pump();
      else if (!gathering && queue.length === 1) {
        // the first of a batch to come: the others gather behind it (a batch already waiting for a
        // free statement slot needs no timer: it goes when one frees up)
        gathering = true;
        if (opts.gatherMs === 0) setImmediate(gathered);
        else setTimeout(gathered, opts.gatherMs).unref();
      }
    });
}
