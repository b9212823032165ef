/** The installable app (service worker, offline, updates) and the phone's devices, for the web app. */
export { PwaStatus } from './PwaStatus.js';
export { OfflineBanner, OfflineScreen } from './OfflineNotice.js';
export { UpdatePrompt } from './UpdatePrompt.js';
export { registerServiceWorker, applyUpdate, workerStatus, type WorkerStatus } from './serviceWorker.js';
export { watchNetwork, networkStatus, type NetworkStatus } from './network.js';
export { callActivity, followCallStatus, isInCall, setInCall, useCallActivity, useInCall } from './callActivity.js';
export { DeviceControls, type DeviceControlsProps } from './DeviceControls.js';
export { usePageVisibility, useWakeLock } from './devices.js';
