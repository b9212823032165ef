import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import type { FaceMeasure } from './detector.js';
import { ageRefusalMessage } from './routes.js';
import { ageEstimate } from './service.js';
import type { AnalyzedFrame } from './verify.js';

const face = (age?: number): FaceMeasure => ({
  score: 0.9,
  box: [0, 0, 10, 10],
  yaw: 0,
  pitch: 0,
  roll: 0,
  eyeOpenness: 0.3,
  mouthOpenness: 0,
  embedding: [],
  real: 1,
  live: 1,
  ...(age === undefined ? {} : { age }),
});
const frames = (...ages: (number | undefined | null)[]): AnalyzedFrame[] =>
  ages.map((a, i) => ({ offsetMs: i * 100, analysis: a === null ? { faces: 0, ms: 1 } : { faces: 1, face: face(a), ms: 1 } }));

describe('age estimate of an attempt', () => {
  it('is the median of the frames that have one, in whole years: one odd frame moves nothing', () => {
    expect(ageEstimate(frames(29.3, 29.2, 33.7, 12, 29.4))).toBe(29);
    expect(ageEstimate(frames(30.9, null, 31.9))).toBe(31);
    expect(ageEstimate(frames(24.99, 25.01))).toBe(25);
  });

  it('is absent without any estimate', () => {
    expect(ageEstimate(frames(null, undefined))).toBeUndefined();
    expect(ageEstimate([])).toBeUndefined();
  });
});

describe('age assurance settings', () => {
  it('is off by default, and on it makes verification a condition of matching', () => {
    expect(loadConfig({}).verification.age).toEqual({ challenge: 0, checkUrl: undefined, review: true });
    expect(loadConfig({}).verification.required).toBe(false);
    const on = loadConfig({ AGE_CHALLENGE: '25', AGE_CHECK_URL: 'https://id.example.com/x', AGE_REVIEW: 'false' });
    expect(on.verification).toMatchObject({
      enabled: true,
      required: true,
      age: { challenge: 25, checkUrl: 'https://id.example.com/x', review: false },
    });
  });

  it('refuses an age under 13, age assurance without the check, and a link that is not https', () => {
    expect(() => loadConfig({ VERIFICATION: 'true', AGE_CHALLENGE: '12' })).toThrow(ConfigError);
    expect(() => loadConfig({ VERIFICATION: 'false', AGE_CHALLENGE: '25' })).toThrow(/needs VERIFICATION=true/);
    expect(() => loadConfig({ VERIFICATION: 'true', AGE_CHALLENGE: '25', AGE_CHECK_URL: 'http://id.example.com' })).toThrow(/https/);
  });

  it('words the refusal with the operator’s ways forward, or says so when there are none', () => {
    expect(ageRefusalMessage({ challenge: 25, checkUrl: 'https://x', review: true })).toMatch(
      /could not confirm that you are 25 or older.*confirm your age with an ID check, or ask a moderator to review\./,
    );
    expect(ageRefusalMessage({ challenge: 25, checkUrl: null, review: false })).toContain('Nothing about you was kept but the estimate.');
  });
});

describe('screening settings', () => {
  it('has a default threshold, per-mode ones for known modes only, and holds after two viewers', () => {
    expect(loadConfig({}).screening).toEqual({ enabled: true, thresholds: { default: 0.7 }, holdViewers: 2, flagsPerHour: 20 });
    const c = loadConfig({ MATCH_MODES: 'chat,dating', SCREEN_THRESHOLD: '0.8', SCREEN_THRESHOLDS: 'dating=0.6' });
    expect(c.screening.thresholds).toEqual({ default: 0.8, dating: 0.6 });
    expect(() => loadConfig({ SCREEN_THRESHOLDS: 'dating=0.6' })).toThrow(/not one of MATCH_MODES/);
    expect(() => loadConfig({ SCREEN_THRESHOLDS: 'chat=1.5' })).toThrow(ConfigError);
    expect(() => loadConfig({ SCREEN_THRESHOLD: '0' })).toThrow(ConfigError);
  });
});
