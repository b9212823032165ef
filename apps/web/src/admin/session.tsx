import { createContext, useCallback, useContext, useEffect, useRef, useState, type FormEvent } from 'react';
import { isAbort, type AdminApi } from './api.js';
import type { StaffMe } from './types.js';

export interface ConsoleSession {
  api: AdminApi;
  me: StaffMe;
  /**
   * Turns a failed request into words for the screen. A session the server no longer accepts
   * signs the console out instead (and returns null: there is nothing to show).
   */
  explain: (err: unknown) => string | null;
}

export const SessionContext = createContext<ConsoleSession | null>(null);

export function useSession(): ConsoleSession {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the console');
  return s;
}

export type Resource<T> =
  | { status: 'loading'; data: null; error: null }
  | { status: 'ready'; data: T; error: string | null }
  | { status: 'error'; data: null; error: string };

export type ResourceHandle<T> = Resource<T> & { reload: (loud?: boolean) => void; refreshing: boolean };

/**
 * Loads something from the admin API, optionally polling it while the tab is visible. A failed
 * background refresh keeps the last good data on screen (with `error` set), a failed first load
 * shows the error. `reload()` refreshes in place; `reload(true)` shows the spinner again.
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, pollMs?: number): ResourceHandle<T> {
  const { explain } = useSession();
  const [res, setRes] = useState<Resource<T>>({ status: 'loading', data: null, error: null });
  const [refreshing, setRefreshing] = useState(false);
  const inflight = useRef<AbortController | null>(null);

  const fetchNow = useCallback(
    (loud: boolean) => {
      inflight.current?.abort();
      const ctrl = new AbortController();
      inflight.current = ctrl;
      if (loud) setRes({ status: 'loading', data: null, error: null });
      else setRefreshing(true);
      load(ctrl.signal).then(
        (data) => {
          if (ctrl.signal.aborted) return;
          setRes({ status: 'ready', data, error: null });
          setRefreshing(false);
        },
        (err: unknown) => {
          if (isAbort(err) || ctrl.signal.aborted) return;
          setRefreshing(false);
          const message = explain(err);
          if (message === null) return;
          setRes((r) => (r.status === 'ready' ? { ...r, error: message } : { status: 'error', data: null, error: message }));
        },
      );
    },
    [load, explain],
  );

  useEffect(() => {
    fetchNow(true);
    const timer =
      pollMs === undefined
        ? undefined
        : setInterval(() => {
            if (document.visibilityState === 'visible') fetchNow(false);
          }, pollMs);
    return () => {
      clearInterval(timer);
      inflight.current?.abort();
    };
  }, [fetchNow, pollMs]);

  const reload = useCallback((loud = false) => fetchNow(loud), [fetchNow]);
  return { ...res, reload, refreshing };
}

/** Runs one action at a time (a button press), with its error in words. */
export function useAction() {
  const { explain } = useSession();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (key: string, f: () => Promise<unknown>): Promise<boolean> => {
      setBusy(key);
      setError(null);
      try {
        await f();
        return true;
      } catch (err) {
        setError(explain(err));
        return false;
      } finally {
        setBusy(null);
      }
    },
    [explain],
  );
  return { busy, error, setError, run };
}

/**
 * A form that checks its input, then runs one action: `error` is what is wrong with the input or
 * the request's error, `done` a sentence about what was done.
 */
export function useFormAction() {
  const action = useAction();
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  /**
   * The submit handler: `check` returns what is wrong with the input (or null); then `act` runs as
   * action `key` and returns the sentence for `done`.
   */
  const onSubmit = (key: string, check: () => string | null, act: () => Promise<string>) => async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const wrong = check();
    setProblem(wrong);
    if (wrong) return;
    let result = '';
    const ok = await action.run(key, async () => {
      result = await act();
    });
    if (ok) setDone(result);
  };
  return { busy: action.busy !== null, error: problem ?? action.error, done, setDone, onSubmit };
}
