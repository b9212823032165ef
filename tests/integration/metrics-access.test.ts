import { describe, expect, it } from 'vitest';
import { useTestServer } from './harness.js';

// /metrics holds business figures: without METRICS_TOKEN only this machine is answered, and "this
// machine" is the TCP peer, never an X-Forwarded-For header (test servers trust proxies, as
// production behind a proxy does).

const scrape = (url: string, headers: Record<string, string> = {}) => fetch(`${url}/metrics`, { headers });

describe('/metrics without METRICS_TOKEN', () => {
  const server = useTestServer();

  it('answers a scraper on this machine, and nobody whose request came through a proxy', async () => {
    const { httpUrl } = server();
    const local = await scrape(httpUrl);
    expect(local.status).toBe(200);
    expect(await local.text()).toContain('duet_');
    // Relayed by a proxy for someone else, or a forged "I am local": both refused.
    expect((await scrape(httpUrl, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(403);
    expect((await scrape(httpUrl, { 'x-forwarded-for': '127.0.0.1' })).status).toBe(403);
    expect((await scrape(httpUrl, { forwarded: 'for=127.0.0.1' })).status).toBe(403);
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  const token = 'scrape-token-0123456789';
  const server = useTestServer({ env: { METRICS_TOKEN: token } });

  it('answers whoever presents the token, from anywhere, and nobody else', async () => {
    const { httpUrl } = server();
    expect((await scrape(httpUrl)).status).toBe(401);
    expect((await scrape(httpUrl, { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
  });
});
