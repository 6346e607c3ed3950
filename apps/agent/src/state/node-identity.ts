import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-file';

/** What `register` leaves in the state dir (0600) and `run` needs: who we are and where to go. */
const identitySchema = z.strictObject({
  controlPlane: z.url(),
  nodeId: z.string().min(1),
  credential: z.string().min(1),
  registeredAt: z.string(),
});

export type NodeIdentity = z.infer<typeof identitySchema>;

export const identityFile = (stateDir: string) => path.join(stateDir, 'node.json');

export async function saveIdentity(stateDir: string, identity: NodeIdentity): Promise<void> {
  await writeFileAtomic(identityFile(stateDir), JSON.stringify(identity, null, 2) + '\n', 0o600);
}

export async function loadIdentity(stateDir: string): Promise<NodeIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(identityFile(stateDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return identitySchema.parse(JSON.parse(text));
}
