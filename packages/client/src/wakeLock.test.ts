import { describe, expect, it } from 'vitest';
import { ScreenWakeLock, type VisibilitySource, type WakeLockSentinelLike } from './wakeLock.js';

class FakeDocument implements VisibilitySource {
  visibilityState: DocumentVisibilityState = 'visible';
  readonly #listeners = new Set<() => void>();
  addEventListener(_type: 'visibilitychange', l: () => void) {
    this.#listeners.add(l);
  }
  removeEventListener(_type: 'visibilitychange', l: () => void) {
    this.#listeners.delete(l);
  }
  show(state: DocumentVisibilityState) {
    this.visibilityState = state;
    for (const l of this.#listeners) l();
  }
}

class FakeSentinel implements WakeLockSentinelLike {
  released = false;
  readonly #onRelease: Array<() => void> = [];
  async release() {
    if (this.released) return;
    this.released = true;
    for (const l of this.#onRelease) l();
  }
  addEventListener(_type: 'release', l: () => void) {
    this.#onRelease.push(l);
  }
}

function setup(refuse = false) {
  const doc = new FakeDocument();
  const sentinels: FakeSentinel[] = [];
  const api = {
    requests: 0,
    async request() {
      api.requests++;
      if (refuse) throw new DOMException('refused', 'NotAllowedError');
      const s = new FakeSentinel();
      sentinels.push(s);
      return s;
    },
  };
  const lock = new ScreenWakeLock({ wakeLock: api, document: doc });
  const changes: boolean[] = [];
  lock.on('change', ({ held }) => changes.push(held));
  return { doc, api, sentinels, lock, changes };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('ScreenWakeLock', () => {
  it('holds the screen while wanted and lets it go when not', async () => {
    const { lock, api, sentinels, changes } = setup();
    await lock.hold(true);
    await lock.hold(true);
    expect(api.requests).toBe(1);
    expect(lock.held).toBe(true);
    await lock.hold(false);
    expect(sentinels[0]!.released).toBe(true);
    expect(lock.held).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it('asks again when the page is shown after the browser dropped the lock', async () => {
    const { lock, api, sentinels, doc, changes } = setup();
    await lock.hold(true);
    // Hiding the page: the browser releases the lock itself.
    doc.show('hidden');
    await sentinels[0]!.release();
    expect(lock.held).toBe(false);
    doc.show('visible');
    await settle();
    expect(api.requests).toBe(2);
    expect(lock.held).toBe(true);
    expect(changes).toEqual([true, false, true]);
  });

  it('does not ask while hidden, nor after the call, and a refusal is not an error', async () => {
    const hidden = setup();
    hidden.doc.visibilityState = 'hidden';
    await hidden.lock.hold(true);
    expect(hidden.api.requests).toBe(0);
    await hidden.lock.hold(false);
    hidden.doc.show('visible');
    await settle();
    expect(hidden.api.requests).toBe(0);

    const refused = setup(true);
    await expect(refused.lock.hold(true)).resolves.toBeUndefined();
    expect(refused.lock.held).toBe(false);
  });

  it('is a quiet no-op where the browser has no wake lock', async () => {
    const lock = new ScreenWakeLock({ wakeLock: null, document: new FakeDocument() });
    expect(lock.supported).toBe(false);
    await lock.hold(true);
    expect(lock.held).toBe(false);
  });
});
