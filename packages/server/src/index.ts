export { createDuetServer, type DuetServer, type CreateOptions } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { Lobby, type LobbyOptions, type LobbyEvents } from './lobby/lobby.js';
export { Call, type CallState } from './calls/call.js';
export { MemoryPool } from './matchmaking/memoryPool.js';
export type { WaitingPool } from './matchmaking/pool.js';
export { DEFAULT_POLICY, compatible, pickPartner, stageOf, type MatchPolicy, type Ticket } from './matchmaking/rules.js';
export { openStorage, type Storage } from './storage/database.js';
