import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nProvider } from './i18n/index.js';
import { App } from './App.js';
import { followCallStatus } from './pwa/callActivity.js';
import { PwaStatus } from './pwa/PwaStatus.js';
import { watchNetwork } from './pwa/network.js';
import { registerServiceWorker } from './pwa/serviceWorker.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider catalogue="app">
      <App />
      <PwaStatus />
    </I18nProvider>
  </StrictMode>,
);

watchNetwork();
// Never an update's reload during a call: the call's state as the page shows it.
followCallStatus();
// The service worker (offline shell, updates) in a production build only: in development it would
// serve yesterday's modules over Vite's hot reload.
if (import.meta.env.PROD) void registerServiceWorker();
