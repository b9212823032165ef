import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nProvider } from '../i18n/index.js';
import { AdminApp } from './AdminApp.js';
import './admin.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider catalogue="console">
      <AdminApp />
    </I18nProvider>
  </StrictMode>,
);
