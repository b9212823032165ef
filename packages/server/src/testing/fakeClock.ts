/** Tests say FakeClock: time moves only when `advance` is called, and due timers fire in order. */
export { ManualClock as FakeClock } from '../util/manualClock.js';
