import { CLOSE, ERROR_CODES, type ErrorCode } from '@duet/protocol';
import type { CallState, DuetErrorEvent } from './types.js';

/** A catalogue code, or one of the two failures only the browser can see. */
export type DuetErrorCode = DuetErrorEvent['code'];

/**
 * The one error the SDK throws or reports. `code` is the server's catalogue code when the server
 * gave (or implied) one, `network` when it could not be reached or understood, `media` for capture.
 * Built only by the factories below, so each message has one wording and one code.
 */
export class DuetClientError extends Error {
  override name = 'DuetClientError';

  private constructor(
    readonly code: DuetErrorCode,
    message: string,
    /** The type of the message the server refused, when it says (e.g. 'join'). */
    readonly ref?: string,
  ) {
    super(message);
  }

  /** fetch() itself failed: offline, DNS, refused. */
  static unreachable(): DuetClientError {
    return new DuetClientError('network', 'Could not reach the Duet server. Check your connection and try again.');
  }

  /**
   * An HTTP answer that is not 2xx. The body's catalogue code and wording are kept when it has them;
   * otherwise the status says what kind of failure it was.
   */
  static fromResponse(status: number, body: unknown): DuetClientError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = isCatalogueCode(error?.code) ? error.code : codeOfStatus(status);
    const message = typeof error?.message === 'string' ? error.message : `The server answered ${status}.`;
    return new DuetClientError(code, message);
  }

  /** The server refused a WebSocket message (`error`), keeping what it refused. */
  static fromServer(m: { code: string; message: string; ref?: string | undefined }): DuetClientError {
    return new DuetClientError(isCatalogueCode(m.code) ? m.code : 'internal', m.message, m.ref);
  }

  /** The signaling socket closed before the server said welcome. */
  static socketClosed(closeCode: number): DuetClientError {
    return new DuetClientError(codeOfClose(closeCode), `Could not reach the Duet server (code ${closeCode}).`);
  }

  /** A message was meant for the server while the socket is down; the connection is retrying. */
  static notConnected(): DuetClientError {
    return new DuetClientError('network', 'Not connected to Duet. Reconnecting…');
  }

  /** The server sent something this version's schemas reject (a newer server, or a broken proxy). */
  static unreadable(): DuetClientError {
    return new DuetClientError('network', 'Received a message this version of Duet does not understand.');
  }

  /** Something in the RTCPeerConnection's negotiation threw. */
  static callSetup(cause: unknown): DuetClientError {
    return new DuetClientError('network', `Call setup problem: ${cause instanceof Error ? cause.message : String(cause)}`);
  }

  /** A method was called before the step it depends on. */
  static outOfOrder(message: string): DuetClientError {
    return new DuetClientError('out_of_turn', message);
  }

  /** The call state machine refused a move its table does not allow. */
  static illegalTransition(from: CallState, to: CallState): DuetClientError {
    return new DuetClientError('out_of_turn', `Call state cannot move ${from} -> ${to}.`);
  }

  /** The plain payload of the `error` event (an Error's message does not survive a spread). */
  toEvent(): DuetErrorEvent {
    return { code: this.code, message: this.message, ...(this.ref ? { ref: this.ref } : {}) };
  }
}

const CATALOGUE: ReadonlySet<string> = new Set(ERROR_CODES);

function isCatalogueCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CATALOGUE.has(code);
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'internal' : 'invalid_request';
}

/** What a close code means in the catalogue's terms; anything unexplained is a network failure. */
function codeOfClose(code: number): DuetErrorCode {
  switch (code) {
    case CLOSE.unsupportedVersion:
      return 'unsupported_version';
    case CLOSE.invalidToken:
      return 'invalid_token';
    case CLOSE.replaced:
      return 'session_replaced';
    case CLOSE.helloTimeout:
      return 'not_authenticated';
    case CLOSE.banned:
      return 'banned';
    case CLOSE.busy:
      return 'server_busy';
    default:
      return 'network';
  }
}
