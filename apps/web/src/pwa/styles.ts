import type { CSSProperties } from 'react';

/**
 * The PWA layer's few styles, set through React (the CSS object model, which the page's CSP
 * allows) so this folder needs no stylesheet of its own. The colours are the app's tokens (base.css).
 */
export const S = {
  screen: {
    position: 'fixed',
    inset: 0,
    zIndex: 1000,
    display: 'grid',
    placeItems: 'center',
    padding: 'max(24px, env(safe-area-inset-top)) 24px max(24px, env(safe-area-inset-bottom))',
    background: 'var(--bg, #12121a)',
    color: 'var(--text, #f2f2f7)',
  },
  card: {
    maxWidth: 420,
    width: '100%',
    textAlign: 'center',
    display: 'grid',
    gap: 16,
    justifyItems: 'center',
  },
  title: { margin: 0, fontSize: '1.5rem', fontWeight: 750, lineHeight: 1.25 },
  body: { margin: 0, color: 'var(--muted, #a3a3b8)', lineHeight: 1.5 },
  icon: { width: 72, height: 72 },
  /** The notices' column across the top, above the app (the offline screen covers everything instead). */
  stack: {
    position: 'fixed',
    insetInline: 12,
    top: 'max(12px, env(safe-area-inset-top))',
    zIndex: 1000,
    display: 'grid',
    gap: 8,
    justifyItems: 'center',
    pointerEvents: 'none',
  },
  banner: {
    pointerEvents: 'auto',
    width: '100%',
    maxWidth: 560,
    display: 'flex',
    alignItems: 'center',
    gap: 12,
    flexWrap: 'wrap',
    padding: '12px 16px',
    borderRadius: 14,
    background: 'var(--panel-2, #252533)',
    color: 'var(--text, #f2f2f7)',
    border: '1px solid rgb(255 255 255 / 0.12)',
    boxShadow: '0 8px 28px rgb(0 0 0 / 0.45)',
  },
  bannerText: { flex: '1 1 220px', margin: 0, lineHeight: 1.4 },
  bannerDetail: { display: 'block', color: 'var(--muted, #a3a3b8)', fontSize: '0.9rem', marginTop: 2 },
  actions: { display: 'flex', gap: 8, marginInlineStart: 'auto' },
  button: { minHeight: 44, minWidth: 44 },
} satisfies Record<string, CSSProperties>;
