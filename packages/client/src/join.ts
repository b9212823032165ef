import type { ClientMessageOf } from '@duet/protocol';

export interface StartOptions {
  interests?: string[];
  /** Language to talk in (e.g. "en"); defaults to the browser's. */
  language?: string;
  region?: string;
  /** One of the server's modes; defaults to the server's first. */
  mode?: string;
  /** IP privacy: media only through the relay, so the partner never learns this person's address. */
  privacy?: boolean;
  /** Meet only people who passed the liveness check. */
  verifiedOnly?: boolean;
}

/** The browser's primary language subtag, when it is one the protocol accepts. */
export function browserLanguage(): string | undefined {
  const tag = (globalThis.navigator?.language ?? '').toLowerCase().split('-')[0] ?? '';
  return /^[a-z]{2,3}$/.test(tag) ? tag : undefined;
}

/** The `join` message for these options: only what was asked for, the browser's language by default. */
export function joinMessage(options: StartOptions): ClientMessageOf<'join'> {
  const message: ClientMessageOf<'join'> = { type: 'join' };
  if (options.interests && options.interests.length > 0) message.interests = options.interests;
  const language = options.language ?? browserLanguage();
  if (language) message.language = language;
  if (options.region) message.region = options.region;
  if (options.mode) message.mode = options.mode;
  if (options.privacy) message.privacy = true;
  if (options.verifiedOnly) message.verifiedOnly = true;
  return message;
}
