// One error class with a closed set of codes. Domain code throws these; the HTTP layer maps codes
// to statuses in one table (http/error-status.ts); anything else becomes INTERNAL.

export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'INSUFFICIENT_FUNDS',
  'PAYLOAD_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldProblem {
  path: string;
  message: string;
}

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  static validation(problems: FieldProblem[]): DomainError {
    const message = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
    return new DomainError('VALIDATION_FAILED', message, { fields: problems });
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
