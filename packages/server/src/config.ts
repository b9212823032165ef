import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { MatchPolicy } from './matchmaking/rules.js';

/** Every setting Duet reads, with its default. Documented in the README's configuration table. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().url().optional(),
  DUET_SECRET: z.string().min(32, 'DUET_SECRET must be at least 32 characters').optional(),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(15_000),
  RECONNECT_GRACE_MS: z.coerce.number().int().min(1000).max(120_000).default(15_000),
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(500).max(60_000).default(5_000),
  STUN_URLS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^stuns?:/, 'STUN_URLS entries start with stun: or stuns:'))),
  WEB_DIR: z.string().optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  SESSION_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(30),
  WS_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65_535).default(4096),
  BUSY_LAG_MS: z.coerce.number().int().min(0).max(60_000).default(200),
  BUSY_PENDING: z.coerce.number().int().min(0).max(1_000_000).default(2_000),
  BUSY_RETRY_AFTER_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  PRICE_PER_MINUTE: z
    .string()
    .default('0')
    .refine((v) => /^\d+(\.\d{1,6})?$/.test(v), 'PRICE_PER_MINUTE is a number of credits, e.g. 0.25')
    .transform((v) => Math.round(Number(v) * 1_000_000)),
  BILLING_ROUNDING: z.enum(['second', 'minute']).default('second'),
  WELCOME_CREDITS: z
    .string()
    .default('0')
    .refine((v) => /^\d+(\.\d{1,6})?$/.test(v), 'WELCOME_CREDITS is a number of credits')
    .transform((v) => Math.round(Number(v) * 1_000_000)),
  DAILY_FREE_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(0),
  OVERDRAFT_CREDITS: z
    .string()
    .default('0')
    .refine((v) => /^\d+(\.\d{1,6})?$/.test(v), 'OVERDRAFT_CREDITS is a number of credits')
    .transform((v) => Math.round(Number(v) * 1_000_000)),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_', 'STRIPE_WEBHOOK_SECRET starts with whsec_').optional(),
  STRIPE_SECRET_KEY: z.string().optional(),
  // What a top-up credits: `<currency>:<amount in minor units>=<credits>`, comma-separated (eur:500=5).
  TOPUP_PACKS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const packs: TopupPack[] = [];
      for (const item of v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const m = /^([a-z]{3}):(\d{1,9})=(\d{1,7}(?:\.\d{1,6})?)$/i.exec(item);
        const micros = m ? Math.round(Number(m[3]) * 1_000_000) : 0;
        if (!m || Number(m[2]) <= 0 || micros <= 0 || micros > 1_000_000 * 1_000_000) {
          ctx.addIssue({
            code: 'custom',
            message: `TOPUP_PACKS entry "${item}" is not <currency>:<amount in minor units>=<credits> (e.g. eur:500=5)`,
          });
          return z.NEVER;
        }
        const pack = { currency: m[1]!.toLowerCase(), amountMinor: Number(m[2]), micros };
        if (packs.some((p) => p.currency === pack.currency && p.amountMinor === pack.amountMinor)) {
          ctx.addIssue({ code: 'custom', message: `TOPUP_PACKS names ${pack.currency}:${pack.amountMinor} twice` });
          return z.NEVER;
        }
        packs.push(Object.freeze(pack));
      }
      return Object.freeze(packs);
    }),
  RELAY_COST_PER_GB: z.coerce.number().min(0).max(1000).default(0.05),
  SERVER_COST_PER_HOUR: z.coerce.number().min(0).max(10_000).default(0.05),
  PAYMENT_FEE_PERCENT: z.coerce.number().min(0).max(50).default(2.9),
  METER_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(60_000).default(5_000),
  MAX_CALL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(240),
  METER_SILENCE_MS: z.coerce.number().int().min(10_000).max(3_600_000).default(90_000),
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'ADMIN_PASSWORD must be at least 12 characters').optional(),
  CHAT_FILTER: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  HOLD_REPORTED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  STRIKES: z.coerce.number().int().min(0).max(100).default(3),
  STRIKE_WINDOW_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  SUSPENSION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  EVIDENCE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  QUALITY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  CALL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'REDIS_URL starts with redis:// or rediss://')
    .optional(),
  REDIS_PREFIX: z.string().min(1).max(64).default('duet:{pool}:'),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  CLUSTER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  POOL_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  TURN_MODE: z.enum(['auto', 'managed', 'external', 'off']).default('auto'),
  TURN_BINARY: z.string().default('turnserver'),
  TURN_SECRET: z.string().min(32, 'TURN_SECRET must be at least 32 characters').optional(),
  TURN_URLS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^turns?:/, 'TURN_URLS entries start with turn: or turns:'))),
  TURN_HOST: z.string().optional(),
  TURN_PORT: z.coerce.number().int().min(1).max(65535).default(3478),
  TURN_TLS_PORT: z.coerce.number().int().min(1).max(65535).default(5349),
  TURN_MIN_PORT: z.coerce.number().int().min(1024).max(65535).default(49160),
  TURN_MAX_PORT: z.coerce.number().int().min(1024).max(65535).default(49999),
  TURN_LISTEN_IPS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  TURN_ALLOWED_PEER_IPS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  TURN_ALLOW_LOOPBACK_PEERS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  TURN_CREDENTIAL_TTL_S: z.coerce.number().int().min(60).max(86_400).default(3_600),
  TURN_SECRET_ROTATE_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(86_400),
  TURN_USER_QUOTA: z.coerce.number().int().min(1).max(1000).default(12),
  TURN_TOTAL_QUOTA: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  TURN_MAX_BPS: z.coerce.number().int().min(10_000).max(1e9).default(500_000),
  RELAY_ONLY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  MATCH_MODES: z
    .string()
    .default('chat')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9-]{1,32}$/, 'MATCH_MODES entries are lower-case words such as language-exchange')).min(1)),
  MATCH_INTERESTS_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  MATCH_REGION_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  MATCH_RECENT_PARTNERS: z.coerce.number().int().min(0).max(100).default(5),
  MATCH_RECENT_MINUTES: z.coerce.number().int().min(0).max(1440).default(30),
  MATCH_SMALL_POOL: z.coerce.number().int().min(0).max(100).default(3),
  MATCH_RELAX_RECENT_AFTER_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  WELCOME_PER_ADDRESS_PER_DAY: z.coerce.number().int().min(1).max(100_000).default(3),
  VERIFICATION: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  VERIFIED_ONLY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  VERIFICATION_VALID_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  VERIFICATION_FAILURES_PER_HOUR: z.coerce.number().int().min(1).max(100).default(5),
  VERIFICATION_DEADLINE_MS: z.coerce.number().int().min(5_000).max(120_000).default(20_000),
  // Age assurance in the liveness check (docs/safety.md): 0 is off; otherwise the age the estimate must reach.
  AGE_CHALLENGE: z.coerce.number().int().min(0).max(99).default(0),
  AGE_CHECK_URL: z
    .string()
    .url()
    .regex(/^https:\/\//, 'AGE_CHECK_URL must be an https:// address')
    .optional(),
  AGE_REVIEW: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  // Blur-first screening of incoming video in the browser (docs/safety.md).
  SCREENING: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  SCREEN_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.7),
  SCREEN_THRESHOLDS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().regex(/^[a-z0-9-]{1,32}=(0(\.\d+)?|1(\.0+)?)$/, 'SCREEN_THRESHOLDS entries are mode=number in (0, 1], e.g. chat=0.6'),
      ),
    ),
  SCREEN_HOLD_VIEWERS: z.coerce.number().int().min(0).max(100).default(2),
  SCREEN_FLAGS_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(20),
});

/** One row of the top-up price table: a Stripe payment of exactly this amount credits this much. */
export interface TopupPack {
  readonly currency: string;
  /** In the currency's minor unit, as Stripe's `amount_total` (500 = €5.00). */
  readonly amountMinor: number;
  readonly micros: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly secret: string | undefined;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly trustProxy: boolean;
  readonly logLevel: string;
  readonly connectTimeoutMs: number;
  /** How long a connected call survives a media or signaling drop (ICE restart, reconnect). */
  readonly reconnectGraceMs: number;
  readonly heartbeatIntervalMs: number;
  readonly stunUrls: readonly string[];
  /** Folder of the built web app; undefined serves no web app (API and signaling only). */
  readonly webDir: string | undefined;
  readonly shutdownGraceMs: number;
  /** New guest sessions (and rule acceptances) per client address per minute. */
  readonly sessionRateLimit: number;
  /** Open WebSockets allowed per client address. */
  readonly wsMaxPerAddress: number;
  /** Connections the kernel may queue before the server accepts them (capped by net.core.somaxconn). */
  readonly listenBacklog: number;
  /**
   * When the node is saturated, new sessions and sockets are refused with `server_busy` and a
   * retry-after: event-loop lag (a moving average) over `lagMs`, or `pending` requests in flight (0: never).
   */
  readonly busy: { readonly lagMs: number; readonly pending: number; readonly retryAfterMs: number };
  readonly billing: {
    readonly perMinuteMicros: number;
    readonly rounding: 'second' | 'minute';
    readonly welcomeMicros: number;
    /** New people per client address per 24 h who get welcome credits (one per browser ever). */
    readonly welcomePerAddressPerDay: number;
    /** Free minutes of billable time per person per UTC day (0: off). */
    readonly dailyFreeMinutes: number;
    readonly overdraftMicros: number;
    readonly heartbeatMs: number;
    readonly maxCallMs: number;
    /** A call with no media from one side for this long is ended. */
    readonly silenceMs: number;
    readonly stripe:
      { readonly webhookSecret: string; readonly apiKey: string | undefined; readonly packs: readonly TopupPack[] } | undefined;
    /** The cost model behind the unit economics report (credits). */
    readonly costs: { readonly relayPerGbMicros: number; readonly serverPerHourMicros: number; readonly paymentFeePercent: number };
  };
  /** Bearer token Prometheus must send for /metrics (open when unset). */
  readonly metricsToken: string | undefined;
  /** Bearer token for the console's APIs (automation); people sign in with staff accounts. */
  readonly adminToken: string | undefined;
  /** The first admin account, created at start when no account has that email. */
  readonly bootstrapAdmin: { readonly email: string; readonly password: string } | undefined;
  readonly safety: {
    readonly chatFilter: boolean;
    readonly holdReported: boolean;
    readonly strikes: number;
    readonly strikeWindowDays: number;
    readonly suspensionDays: number;
    readonly evidenceRetentionDays: number;
  };
  /** Verified humans (docs/verification.md). */
  readonly verification: {
    readonly enabled: boolean;
    /** Only verified people may start calls. */
    readonly required: boolean;
    readonly validityMs: number;
    readonly maxFailuresPerHour: number;
    /** How long a person has to answer a challenge. */
    readonly deadlineMs: number;
    /** Age assurance: `challenge` 0 is off; an estimate below it is refused the pool. */
    readonly age: {
      readonly challenge: number;
      /** The operator's own age check (an ID check), offered to people the estimate refused. */
      readonly checkUrl: string | undefined;
      /** People refused may ask a moderator to review. */
      readonly review: boolean;
    };
  };
  /** Blur-first screening of incoming video (docs/safety.md). */
  readonly screening: {
    readonly enabled: boolean;
    /** Porn + Hentai probability at or above which a frame is flagged, per mode (`default` for the rest). */
    readonly thresholds: Readonly<Record<string, number>>;
    /** Flags from this many different viewers hold a person for review (0: never). */
    readonly holdViewers: number;
    /** Flags one viewer may file per hour. */
    readonly flagsPerHour: number;
  };
  readonly retention: { readonly qualityDays: number; readonly callDays: number };
  readonly turn: {
    readonly mode: 'auto' | 'managed' | 'external' | 'off';
    readonly binary: string;
    readonly secret: string | undefined;
    readonly urls: readonly string[];
    /** Host or IP browsers use to reach the managed relay. */
    readonly host: string;
    /** TURN_HOST was not set and HOST listens everywhere: the relay address is a guess (127.0.0.1). */
    readonly hostDefaulted: boolean;
    readonly port: number;
    readonly tlsPort: number;
    readonly minPort: number;
    readonly maxPort: number;
    readonly listenIps: readonly string[];
    readonly allowedPeerIps: readonly string[];
    readonly allowLoopbackPeers: boolean;
    readonly credentialTtlSeconds: number;
    /** Managed mode rotates its secret this often (0: never). */
    readonly rotateSecretSeconds: number;
    readonly userQuota: number;
    readonly totalQuota: number;
    readonly maxBytesPerSecond: number;
    readonly realm: string;
  };
  /** Several nodes sharing one Redis pool; undefined on a single node. */
  readonly cluster:
    | {
        readonly redisUrl: string;
        readonly prefix: string;
        readonly nodeId: string;
        readonly heartbeatMs: number;
        readonly leaseMs: number;
      }
    | undefined;
  /** IP privacy for everyone: media only through the relay, so nobody learns the other's address. */
  readonly relayOnly: boolean;
  /** Modes people may choose (the first is the default). */
  readonly modes: readonly string[];
  readonly matchPolicy: MatchPolicy;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates configuration once; the result is frozen. Never exits the process. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: Partial<Config> = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'env'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (Boolean(e.ADMIN_EMAIL) !== Boolean(e.ADMIN_PASSWORD)) {
    throw new ConfigError('Invalid configuration:\n  ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (e.TURN_MODE === 'external' && (!e.TURN_SECRET || e.TURN_URLS.length === 0)) {
    throw new ConfigError(
      "Invalid configuration:\n  TURN_MODE=external needs TURN_URLS and TURN_SECRET (the relay fleet's static-auth-secret)",
    );
  }
  if (e.STRIPE_WEBHOOK_SECRET && e.TOPUP_PACKS.length === 0) {
    // Credits come from what was paid, never from the checkout's metadata: without a price table nothing can be credited.
    throw new ConfigError(
      'Invalid configuration:\n  STRIPE_WEBHOOK_SECRET needs TOPUP_PACKS (what each paid amount credits, e.g. eur:500=5,eur:1000=11)',
    );
  }
  if (e.TURN_MIN_PORT > e.TURN_MAX_PORT) throw new ConfigError('Invalid configuration:\n  TURN_MIN_PORT must not exceed TURN_MAX_PORT');
  if (e.AGE_CHALLENGE > 0 && e.AGE_CHALLENGE < 13) {
    throw new ConfigError('Invalid configuration:\n  AGE_CHALLENGE is 0 (off) or an age from 13 to 99');
  }
  if (e.AGE_CHALLENGE > 0 && !(e.VERIFICATION || e.VERIFIED_ONLY)) {
    throw new ConfigError('Invalid configuration:\n  AGE_CHALLENGE needs VERIFICATION=true: the age is estimated in the liveness check');
  }
  const screenThresholds: Record<string, number> = { default: e.SCREEN_THRESHOLD };
  for (const entry of e.SCREEN_THRESHOLDS) {
    const [mode = '', value = ''] = entry.split('=');
    if (!e.MATCH_MODES.includes(mode))
      throw new ConfigError(`Invalid configuration:\n  SCREEN_THRESHOLDS names "${mode}", not one of MATCH_MODES`);
    if (Number(value) <= 0) throw new ConfigError(`Invalid configuration:\n  SCREEN_THRESHOLDS for "${mode}" must be above 0`);
    screenThresholds[mode] = Number(value);
  }
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError('Invalid configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    secret: e.DUET_SECRET,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    connectTimeoutMs: e.CONNECT_TIMEOUT_MS,
    reconnectGraceMs: e.RECONNECT_GRACE_MS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    stunUrls: Object.freeze([...e.STUN_URLS]),
    webDir: e.WEB_DIR ? path.resolve(e.WEB_DIR) : undefined,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    sessionRateLimit: e.SESSION_RATE_LIMIT,
    wsMaxPerAddress: e.WS_MAX_PER_ADDRESS,
    listenBacklog: e.LISTEN_BACKLOG,
    busy: Object.freeze({ lagMs: e.BUSY_LAG_MS, pending: e.BUSY_PENDING, retryAfterMs: e.BUSY_RETRY_AFTER_MS }),
    billing: Object.freeze({
      perMinuteMicros: e.PRICE_PER_MINUTE,
      rounding: e.BILLING_ROUNDING,
      welcomeMicros: e.WELCOME_CREDITS,
      welcomePerAddressPerDay: e.WELCOME_PER_ADDRESS_PER_DAY,
      dailyFreeMinutes: e.DAILY_FREE_MINUTES,
      overdraftMicros: e.OVERDRAFT_CREDITS,
      heartbeatMs: e.METER_HEARTBEAT_MS,
      maxCallMs: e.MAX_CALL_MINUTES * 60_000,
      silenceMs: e.METER_SILENCE_MS,
      stripe: e.STRIPE_WEBHOOK_SECRET
        ? Object.freeze({ webhookSecret: e.STRIPE_WEBHOOK_SECRET, apiKey: e.STRIPE_SECRET_KEY, packs: e.TOPUP_PACKS })
        : undefined,
      costs: Object.freeze({
        relayPerGbMicros: Math.round(e.RELAY_COST_PER_GB * 1_000_000),
        serverPerHourMicros: Math.round(e.SERVER_COST_PER_HOUR * 1_000_000),
        paymentFeePercent: e.PAYMENT_FEE_PERCENT,
      }),
    }),
    metricsToken: e.METRICS_TOKEN,
    adminToken: e.ADMIN_TOKEN,
    bootstrapAdmin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? Object.freeze({ email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD }) : undefined,
    safety: Object.freeze({
      chatFilter: e.CHAT_FILTER,
      holdReported: e.HOLD_REPORTED,
      strikes: e.STRIKES,
      strikeWindowDays: e.STRIKE_WINDOW_DAYS,
      suspensionDays: e.SUSPENSION_DAYS,
      evidenceRetentionDays: e.EVIDENCE_RETENTION_DAYS,
    }),
    verification: Object.freeze({
      enabled: e.VERIFICATION || e.VERIFIED_ONLY,
      // Age assurance keeps the refused out of the pool the only way the lobby knows: verification is required.
      required: e.VERIFIED_ONLY || e.AGE_CHALLENGE > 0,
      validityMs: e.VERIFICATION_VALID_DAYS * 24 * 3600_000,
      maxFailuresPerHour: e.VERIFICATION_FAILURES_PER_HOUR,
      deadlineMs: e.VERIFICATION_DEADLINE_MS,
      age: Object.freeze({ challenge: e.AGE_CHALLENGE, checkUrl: e.AGE_CHECK_URL, review: e.AGE_REVIEW }),
    }),
    screening: Object.freeze({
      enabled: e.SCREENING,
      thresholds: Object.freeze(screenThresholds),
      holdViewers: e.SCREEN_HOLD_VIEWERS,
      flagsPerHour: e.SCREEN_FLAGS_PER_HOUR,
    }),
    retention: Object.freeze({ qualityDays: e.QUALITY_RETENTION_DAYS, callDays: e.CALL_RETENTION_DAYS }),
    turn: Object.freeze({
      mode: e.TURN_MODE,
      binary: e.TURN_BINARY,
      secret: e.TURN_SECRET,
      urls: Object.freeze([...e.TURN_URLS]),
      host: e.TURN_HOST ?? (e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST),
      hostDefaulted: e.TURN_HOST === undefined && (e.HOST === '0.0.0.0' || e.HOST === '::'),
      port: e.TURN_PORT,
      tlsPort: e.TURN_TLS_PORT,
      minPort: e.TURN_MIN_PORT,
      maxPort: e.TURN_MAX_PORT,
      listenIps: Object.freeze([...e.TURN_LISTEN_IPS]),
      allowedPeerIps: Object.freeze([...e.TURN_ALLOWED_PEER_IPS]),
      allowLoopbackPeers: e.TURN_ALLOW_LOOPBACK_PEERS,
      credentialTtlSeconds: e.TURN_CREDENTIAL_TTL_S,
      rotateSecretSeconds: e.TURN_SECRET_ROTATE_S,
      userQuota: e.TURN_USER_QUOTA,
      totalQuota: e.TURN_TOTAL_QUOTA,
      maxBytesPerSecond: e.TURN_MAX_BPS,
      realm: 'duet',
    }),
    relayOnly: e.RELAY_ONLY,
    cluster: e.REDIS_URL
      ? Object.freeze({
          redisUrl: e.REDIS_URL,
          prefix: e.REDIS_PREFIX,
          nodeId: e.NODE_ID ?? `${os.hostname()}-${process.pid}`,
          heartbeatMs: e.CLUSTER_HEARTBEAT_MS,
          leaseMs: e.POOL_LEASE_MS,
        })
      : undefined,
    modes: Object.freeze([...e.MATCH_MODES]),
    matchPolicy: Object.freeze({
      interestsRequiredMs: e.MATCH_INTERESTS_WAIT_MS,
      regionRequiredMs: Math.max(e.MATCH_REGION_WAIT_MS, e.MATCH_INTERESTS_WAIT_MS),
      recentCount: e.MATCH_RECENT_PARTNERS,
      recentWindowMs: e.MATCH_RECENT_MINUTES * 60_000,
      smallPool: e.MATCH_SMALL_POOL,
      relaxRecentAfterMs: e.MATCH_RELAX_RECENT_AFTER_MS,
    }),
    ...defaults,
  });
}
