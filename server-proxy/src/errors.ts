import type { ErrorCode } from '@user-batch/contract';

/** An error whose message is meant for the person who made the request; `code` is one of the contract's ERROR_CODES. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (): HttpError => new HttpError(404, 'not_found', 'No such job. It may have been removed, or the id is mistyped.');
