import { ERRORS, type ErrorCode } from '@duet/protocol';

/** An error a client caused; its code comes from the protocol's catalogue and is sent back as is. */
export class DuetError extends Error {
  override name = 'DuetError';
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code],
  ) {
    super(message);
  }
}
