import { DomainError } from '../domain/errors';

/**
 * Runs an insert/update and turns a unique violation into CONFLICT naming the field, so a
 * duplicate reads "name: plan … already exists" rather than a 500. The database decides (no
 * check-then-insert race); the constraint name tells which field collided.
 */
export async function conflictOnUnique<T>(query: PromiseLike<T>, fields: Readonly<Record<string, string>>, what: string): Promise<T> {
  try {
    return await query;
  } catch (e) {
    const err = e as { code?: unknown; constraint?: unknown };
    if (err.code !== '23505') throw e;
    const field = typeof err.constraint === 'string' ? fields[err.constraint] : undefined;
    throw new DomainError('CONFLICT', field ? `${field}: a ${what} with this ${field} already exists` : `${what} already exists`, field ? { field } : undefined);
  }
}
