// HTTP-01 key authorizations installed by `issue-challenge` tasks: in memory for the responder,
// and in `<state dir>/acme-challenges.json` so a restarted agent still answers a validation the
// CA has not made yet.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { issueChallengeTaskSpecSchema, isoTimeSchema } from '@karvon/protocol';
import { writeFileAtomic } from '../state/atomic-file';

/** A pending authorization lives 7 days at Let's Encrypt; a token never removed goes after that. */
export const CHALLENGE_TTL_MS = 7 * 24 * 3_600_000;
/** Far above the challenges in flight for one region; a bound on memory and file size. */
export const MAX_CHALLENGES = 10_000;

const entrySchema = z.object({
  token: issueChallengeTaskSpecSchema.shape.token,
  hostname: issueChallengeTaskSpecSchema.shape.hostname,
  keyAuthorization: issueChallengeTaskSpecSchema.shape.keyAuthorization,
  installedAt: isoTimeSchema,
});
const fileSchema = z.object({ challenges: z.array(entrySchema).max(MAX_CHALLENGES) });

export type ChallengeEntry = z.infer<typeof entrySchema>;

export class ChallengeStoreFull extends Error {}

export function createChallengeStore(stateDir: string, now: () => number = Date.now) {
  const file = path.join(stateDir, 'acme-challenges.json');
  const byToken = new Map<string, ChallengeEntry>();
  // Writes are chained: two overlapping atomic writes could land in the wrong order.
  let persisting: Promise<void> = Promise.resolve();

  const expired = (e: ChallengeEntry) => now() - Date.parse(e.installedAt) > CHALLENGE_TTL_MS;

  function persist(): Promise<void> {
    const snapshot = JSON.stringify({ challenges: [...byToken.values()] });
    persisting = persisting.catch(() => undefined).then(() => writeFileAtomic(file, snapshot, 0o600));
    return persisting;
  }

  return {
    async load(): Promise<void> {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const entry of fileSchema.parse(JSON.parse(text)).challenges) {
        if (!expired(entry)) byToken.set(entry.token, entry);
      }
    },
    async install(entry: Omit<ChallengeEntry, 'installedAt'>): Promise<void> {
      for (const [token, e] of byToken) if (expired(e)) byToken.delete(token);
      if (!byToken.has(entry.token) && byToken.size >= MAX_CHALLENGES) throw new ChallengeStoreFull(`${MAX_CHALLENGES} challenges installed`);
      byToken.set(entry.token, { ...entry, installedAt: new Date(now()).toISOString() });
      await persist();
    },
    /** True when the token was installed. */
    async remove(token: string): Promise<boolean> {
      const had = byToken.delete(token);
      if (had) await persist();
      return had;
    },
    /** The key authorization for a token, only when asked for under the hostname it was issued for. */
    answer(token: string, hostname: string): string | undefined {
      const e = byToken.get(token);
      return e && e.hostname === hostname && !expired(e) ? e.keyAuthorization : undefined;
    },
    get size(): number {
      return byToken.size;
    },
  };
}

export type ChallengeStore = ReturnType<typeof createChallengeStore>;
