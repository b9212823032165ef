import { createPortal } from 'react-dom';
import { OfflineBanner, OfflineScreen } from './OfflineNotice.js';
import { S } from './styles.js';
import { UpdatePrompt } from './UpdatePrompt.js';

/**
 * The installable app's own notices, beside the app: offline, and a new version ready. Rendered
 * outside #root (a portal into <body>) so the offline screen can make the app behind it inert.
 */
export function PwaStatus() {
  return createPortal(
    <>
      <OfflineScreen />
      <div style={S.stack}>
        <OfflineBanner />
        <UpdatePrompt />
      </div>
    </>,
    document.body,
  );
}
