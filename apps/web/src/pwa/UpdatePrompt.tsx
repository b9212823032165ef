import { useState } from 'react';
import { useAppText } from '../i18n/index.js';
import { useInCall } from './callActivity.js';
import { applyUpdate, workerStatus } from './serviceWorker.js';
import { useStore } from './store.js';
import { S } from './styles.js';

/**
 * "A new version is ready": shown when a new service worker waits, never during a call (the
 * update reloads the page). Update lets it take over and reloads; Later hides it for this page.
 */
export function UpdatePrompt() {
  const t = useAppText();
  const { updateReady, updating } = useStore(workerStatus);
  const inCall = useInCall();
  const [later, setLater] = useState(false);
  if (!updateReady || later || (inCall && !updating)) return null;
  return (
    <div style={S.banner} data-testid="update-ready" role="status">
      <p style={S.bannerText}>
        <strong>{t('device.update.title')}</strong>
        <span style={S.bannerDetail}>{t('device.update.detail')}</span>
      </p>
      <div style={S.actions}>
        <button
          type="button"
          className="btn"
          style={S.button}
          data-testid="update-later"
          disabled={updating}
          onClick={() => setLater(true)}
        >
          {t('device.update.later')}
        </button>
        <button
          type="button"
          className="btn primary"
          style={S.button}
          data-testid="update-apply"
          disabled={updating}
          aria-busy={updating}
          onClick={() => applyUpdate()}
        >
          {t(updating ? 'device.update.applying' : 'device.update.apply')}
        </button>
      </div>
    </div>
  );
}
