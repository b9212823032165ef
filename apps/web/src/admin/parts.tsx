import { useRef, type KeyboardEvent, type ReactNode } from 'react';
import { useConsoleText } from '../i18n/index.js';
import type { ResourceHandle } from './session.js';

export function Brand() {
  return (
    <div className="brand">
      <span className="dot a" aria-hidden="true" />
      <span className="dot b" aria-hidden="true" />
      Duet
    </div>
  );
}

/** A titled dashboard panel; `empty` replaces the body with a sentence instead of empty axes. */
export function Card({
  title,
  hint,
  empty,
  className,
  children,
}: {
  title: string;
  hint?: ReactNode;
  empty?: string | null;
  className?: string;
  children: ReactNode;
}) {
  return (
    <section className={`card ${className ?? ''}`} aria-label={title}>
      <header className="card-head">
        <h2>{title}</h2>
        {hint && <span className="card-hint">{hint}</span>}
      </header>
      {empty ? <EmptyState text={empty} /> : children}
    </section>
  );
}

/**
 * A table that may scroll sideways: a focusable region (so the keyboard can scroll it) named after
 * its table, distinct from the card around it that carries the same title.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  const t = useConsoleText();
  return (
    <div className="table-wrap" role="region" aria-label={t('console.tableRegion', { name: label })} tabIndex={0}>
      {children}
    </div>
  );
}

export function EmptyState({ text, detail }: { text: string; detail?: string }) {
  return (
    <div className="empty" data-testid="empty-state">
      <EmptyIcon />
      <p>{text}</p>
      {detail && <p className="muted">{detail}</p>}
    </div>
  );
}

export function Tile({
  label,
  value,
  sub,
  tone,
  testId,
}: {
  label: string;
  value: ReactNode;
  sub?: ReactNode;
  tone?: 'ok' | 'warn' | 'bad';
  testId?: string;
}) {
  return (
    <div className={`tile ${tone ?? ''}`} data-testid={testId}>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
      {sub && <span className="tile-sub">{sub}</span>}
    </div>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <div className="loading" role="status">
      <div className="spinner" aria-hidden="true" />
      <p>{label}</p>
    </div>
  );
}

function EmptyIcon() {
  return (
    <svg className="empty-icon" viewBox="0 0 48 48" aria-hidden="true">
      <rect x="6" y="26" width="7" height="14" rx="2" />
      <rect x="20.5" y="18" width="7" height="22" rx="2" />
      <rect x="35" y="10" width="7" height="30" rx="2" />
    </svg>
  );
}

/** A user, call or report id shortened to its first 8 characters; the whole id on hover and for screen readers. */
export function ShortId({ id, label }: { id: string; label?: string }) {
  return (
    <code className="short-id" title={id} aria-label={label ? `${label} ${id}` : id}>
      {id.slice(0, 8)}
    </code>
  );
}

/** The head of a console section: its title, a line about it, and its controls. */
export function SectionHead({ title, sub, children }: { title: string; sub?: ReactNode; children?: ReactNode }) {
  return (
    <div className="subbar">
      <div className="subbar-title">
        <h1>{title}</h1>
        {sub && <span className="muted">{sub}</span>}
      </div>
      {children && <div className="subbar-tools">{children}</div>}
    </div>
  );
}

export function ErrorCard({ title, message, onRetry }: { title: string; message: string; onRetry?: () => void }) {
  const t = useConsoleText();
  return (
    <div className="card error-card" role="alert">
      <p className="error-title">{title}</p>
      <p className="muted">{message}</p>
      {onRetry && (
        <button className="btn primary" onClick={onRetry}>
          {t('console.common.tryAgain')}
        </button>
      )}
    </div>
  );
}

/** A background refresh failed: the data on screen is the last good one. */
export function StaleNote({ res }: { res: ResourceHandle<unknown> }) {
  const t = useConsoleText();
  const error = res.status === 'ready' ? res.error : null;
  if (!error) return null;
  return (
    <p className="callout warn" role="status">
      {t('console.common.stale', { error })}
    </p>
  );
}

/**
 * A resource in a section: a spinner while it first loads, an error card with a retry when that
 * fails, then `empty` as an empty state if given (nothing to list), else `children` with the data.
 */
export function Loadable<T>({
  res,
  loading,
  failed,
  empty,
  children,
}: {
  res: ResourceHandle<T>;
  loading: string;
  failed: string;
  empty?: { text: string; detail?: string } | null;
  children: (data: T) => ReactNode;
}) {
  if (res.status === 'loading') return <Spinner label={loading} />;
  if (res.status === 'error') return <ErrorCard title={failed} message={res.error} onRetry={() => res.reload(true)} />;
  return empty ? <EmptyState text={empty.text} detail={empty.detail} /> : children(res.data);
}

/** A column heading: its label, or the label with `num` (right-aligned), a `title`, or `hidden` (for screen readers only). */
export type Column = string | { label: string; num?: boolean; title?: string; hidden?: boolean };

export function TableHead({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => {
          const col = typeof c === 'string' ? { label: c } : c;
          return (
            <th key={col.label} scope="col" className={col.num ? 'num' : undefined} title={col.title}>
              {col.hidden ? <span className="sr-only">{col.label}</span> : col.label}
            </th>
          );
        })}
      </tr>
    </thead>
  );
}

export function RefreshButton({
  refreshing,
  disabled,
  onClick,
  title,
}: {
  refreshing: boolean;
  disabled?: boolean;
  onClick: () => void;
  title?: string;
}) {
  const t = useConsoleText();
  return (
    <button className="btn small" onClick={onClick} disabled={disabled ?? refreshing} title={title} aria-busy={refreshing}>
      {refreshing ? t('console.common.refreshing') : t('console.common.refresh')}
    </button>
  );
}

/** A form's outcome: what is wrong (a validation problem or the request's error), or what was done. */
export function FormStatus({
  error,
  done,
  errorTestId,
  doneTestId,
}: {
  error: string | null;
  done: string | null;
  errorTestId?: string;
  doneTestId?: string;
}) {
  return (
    <>
      {error && (
        <p className="callout bad" role="alert" data-testid={errorTestId}>
          {error}
        </p>
      )}
      <div role="status" className={done ? undefined : 'sr-only'}>
        {done && (
          <p className="callout ok" data-testid={doneTestId}>
            {done}
          </p>
        )}
      </div>
    </>
  );
}

/**
 * One of a few choices, as a radio group: Tab reaches the chosen one, arrow keys (Home, End)
 * move the choice, as with native radio buttons. Its label comes from the fieldset's legend.
 */
export function Choice<V extends string>({
  value,
  options,
  onChange,
  label,
}: {
  label?: string;
  value: V;
  options: Array<{ value: V; label: string; testId?: string }>;
  onChange: (v: V) => void;
}) {
  const group = useRef<HTMLDivElement>(null);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = options.findIndex((o) => o.value === value);
    // Right to left, the arrow that points forwards is the left one.
    const rtl = getComputedStyle(e.currentTarget).direction === 'rtl';
    const step = { ArrowDown: 1, ArrowUp: -1, ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[e.key];
    const next =
      e.key === 'Home' ? 0 : e.key === 'End' ? options.length - 1 : step === undefined ? -1 : (i + step + options.length) % options.length;
    if (next < 0) return;
    e.preventDefault();
    onChange(options[next]!.value);
    group.current?.querySelectorAll<HTMLButtonElement>('[role="radio"]')[next]?.focus();
  };
  return (
    <div className="ranges" role="radiogroup" aria-label={label} ref={group} onKeyDown={onKey}>
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          role="radio"
          aria-checked={value === o.value}
          tabIndex={value === o.value ? 0 : -1}
          className={`seg ${value === o.value ? 'on' : ''}`}
          data-testid={o.testId}
          onClick={() => onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
