import { useEffect } from 'react';
import { useAppText } from '../i18n/index.js';
import { check, networkStatus } from './network.js';
import { useStore } from './store.js';
import { S } from './styles.js';

/**
 * What the app says when the server cannot be reached and it never could in this page (the shell
 * opened from the cache without a network): a whole screen, since nothing on the page can work;
 * the app starts by itself when the server answers again.
 */
export function OfflineScreen() {
  const t = useAppText();
  const { offline, reached, noNetwork, checking } = useStore(networkStatus);
  const shown = offline && !reached;

  // The app behind the screen cannot be used: keep focus and screen readers out of it.
  useEffect(() => {
    const root = document.getElementById('root');
    if (!root || !shown) return;
    root.inert = true;
    return () => {
      root.inert = false;
    };
  }, [shown]);

  if (!shown) return null;
  return (
    <div style={S.screen} data-testid="offline" data-mode="screen" role="alert">
      <div style={S.card}>
        <OfflineIcon />
        <h1 style={S.title}>{t(noNetwork ? 'device.offline.title' : 'device.offline.unreachableTitle')}</h1>
        <p style={S.body}>{t(noNetwork ? 'device.offline.body' : 'device.offline.unreachableBody')}</p>
        <button
          type="button"
          className="btn primary big"
          style={S.button}
          data-testid="offline-retry"
          disabled={checking}
          aria-busy={checking}
          onClick={() => void check()}
        >
          {t(checking ? 'device.offline.checking' : 'device.offline.retry')}
        </button>
      </div>
    </div>
  );
}

/**
 * The network went while the app was running: a banner over the app. The SDK reconnects by
 * itself, and a call's media may still be flowing peer to peer, so nothing is reloaded.
 */
export function OfflineBanner() {
  const t = useAppText();
  const { offline, reached, noNetwork } = useStore(networkStatus);
  if (!offline || !reached) return null;
  return (
    <div style={S.banner} data-testid="offline" data-mode="banner" role="status">
      <OfflineIcon small />
      <p style={S.bannerText}>{t(noNetwork ? 'device.offline.banner' : 'device.offline.unreachableBanner')}</p>
    </div>
  );
}

function OfflineIcon({ small = false }: { small?: boolean }) {
  const size = small ? 22 : 72;
  return (
    <svg
      viewBox="0 0 24 24"
      width={size}
      height={size}
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
    >
      <path d="M2 8.5a15 15 0 0 1 20 0" opacity="0.45" />
      <path d="M5.5 12a10 10 0 0 1 13 0" opacity="0.45" />
      <path d="M9 15.5a5 5 0 0 1 6 0" opacity="0.45" />
      <circle cx="12" cy="19" r="1.2" fill="currentColor" stroke="none" />
      <path d="M3 3l18 18" stroke="var(--accent, #ff5d73)" />
    </svg>
  );
}
