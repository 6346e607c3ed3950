import type { z } from 'zod';
import { DomainError } from '../domain/errors';

/** Parses untrusted input with a schema; failures become VALIDATION_FAILED naming every field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params' = 'body'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw DomainError.validation(
    result.error.issues.map((i) => ({
      path: i.path.length > 0 ? i.path.map(String).join('.') : where,
      message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
    })),
  );
}
