import type { Db } from '../db/connect';
import { newId } from '../db/ids';
import { DomainError } from '../domain/errors';
import { conflictOnUnique } from './unique-violation';

export const RUNTIME_KINDS = ['node', 'python', 'go', 'php', 'static'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

/** A language runtime builds from git use: the base image and default build/start commands. */
export interface Runtime {
  id: string;
  kind: RuntimeKind;
  version: string;
  baseImage: string;
  buildCommand: string | null;
  startCommand: string | null;
}

export type NewRuntime = Omit<Runtime, 'id' | 'buildCommand' | 'startCommand'> & { id?: string; buildCommand?: string; startCommand?: string };
export type RuntimePatch = Partial<Omit<Runtime, 'id'>>;

interface RuntimeRow {
  id: string;
  kind: RuntimeKind;
  version: string;
  base_image: string;
  build_command: string | null;
  start_command: string | null;
}

const COLUMNS = ['id', 'kind', 'version', 'base_image', 'build_command', 'start_command'];
// One runtime per kind and version: a build names "node 20" and must get one answer.
const UNIQUE_FIELDS = { runtimes_pkey: 'id', runtimes_kind_version_key: 'version' } as const;

const toRuntime = (r: RuntimeRow): Runtime => ({
  id: r.id,
  kind: r.kind,
  version: r.version,
  baseImage: r.base_image,
  buildCommand: r.build_command,
  startCommand: r.start_command,
});

export async function listRuntimes(db: Db): Promise<Runtime[]> {
  return (await db('runtimes').orderBy([{ column: 'kind' }, { column: 'version' }, { column: 'id' }]).select<RuntimeRow[]>(COLUMNS)).map(toRuntime);
}

export async function getRuntime(db: Db, id: string): Promise<Runtime | undefined> {
  const row = await db('runtimes').where({ id }).first<RuntimeRow | undefined>(COLUMNS);
  return row && toRuntime(row);
}

export async function createRuntime(db: Db, rt: NewRuntime): Promise<Runtime> {
  const rows = await conflictOnUnique(
    db('runtimes')
      .insert({
        id: rt.id ?? newId('rt'),
        kind: rt.kind,
        version: rt.version,
        base_image: rt.baseImage,
        build_command: rt.buildCommand ?? null,
        start_command: rt.startCommand ?? null,
      })
      .returning<RuntimeRow[]>(COLUMNS),
    UNIQUE_FIELDS,
    'runtime',
  );
  return toRuntime(rows[0]!);
}

export async function updateRuntime(db: Db, id: string, patch: RuntimePatch): Promise<Runtime> {
  const rows = await conflictOnUnique(
    db('runtimes')
      .where({ id })
      .update({
        ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
        ...(patch.version !== undefined ? { version: patch.version } : {}),
        ...(patch.baseImage !== undefined ? { base_image: patch.baseImage } : {}),
        ...(patch.buildCommand !== undefined ? { build_command: patch.buildCommand } : {}),
        ...(patch.startCommand !== undefined ? { start_command: patch.startCommand } : {}),
      })
      .returning<RuntimeRow[]>(COLUMNS),
    UNIQUE_FIELDS,
    'runtime',
  );
  if (rows.length === 0) throw new DomainError('NOT_FOUND', 'runtime not found');
  return toRuntime(rows[0]!);
}

/** Nothing references a runtime row (a build records the image it used), so any runtime can go. */
export async function deleteRuntime(db: Db, id: string): Promise<void> {
  const n = await db('runtimes').where({ id }).delete();
  if (n === 0) throw new DomainError('NOT_FOUND', 'runtime not found');
}
