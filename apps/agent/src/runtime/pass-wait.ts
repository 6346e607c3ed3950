// The wait between two reconcile passes: it ends when its time is up, when something wakes it (a
// new desired state, stop), or, while a replica is starting, when a quick probe finds one answering
// (so its route and rollout move on within a probe interval of it listening, not at the next pass).
//
// Each wait runs its own probe loop, which ends with the wait. (A single loop shared between waits,
// guarded by a flag, let a wait that began while the previous wait's loop was still asleep go
// without any probe: a replica then waited up to a whole pass interval to be found healthy.)

export interface PassWait {
  /** resolves when the wait is over, however it ended */
  done: Promise<void>;
  /** ends the wait now */
  wake: () => void;
}

export interface PassWaitOptions {
  ms: number;
  /** probe while waiting (something is starting) */
  probing: boolean;
  probeEveryMs: number;
  /** true when a starting replica answered */
  probe(): Promise<boolean>;
}

export function startPassWait(o: PassWaitOptions): PassWait {
  let over = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      resolve();
    };
  });
  const timer = setTimeout(finish, o.ms);
  if (o.probing) {
    void (async () => {
      while (!over) {
        await new Promise((r) => setTimeout(r, o.probeEveryMs));
        if (over) return;
        const answered = await o.probe().catch(() => false);
        if (answered) finish();
      }
    })();
  }
  return { done, wake: finish };
}
