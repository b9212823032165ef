import { AdminApiError } from './api.js';
import type { T } from './format.js';

/**
 * A failed request in the staff member's language. What the console itself knows (no network, an
 * unreadable answer, a refusal by kind) is said in their words; anything else is the server's own
 * sentence, which names the case exactly ("already refunded").
 */
export function errorText(t: T, err: unknown): string {
  if (err instanceof AdminApiError) {
    switch (err.code) {
      case 'network':
        return t('console.error.network');
      case 'bad_response':
        return t('console.error.badResponse');
      case 'admin_disabled':
        return t('console.error.adminDisabled');
      case 'forbidden':
        return t('console.error.forbidden');
      case 'rate_limited':
        return t('console.error.rateLimited');
      default:
        return err.message;
    }
  }
  return err instanceof Error ? err.message : t('console.error.generic');
}
