export { createDuetServer, type DuetServer, type CreateOptions } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { Lobby, type LobbyOptions, type LobbyEvents } from './lobby/lobby.js';
export { Call, type CallState } from './calls/call.js';
export { FifoQueue } from './matchmaking/fifoQueue.js';
export type { Matchmaker, QueueEntry } from './matchmaking/matchmaker.js';
export { openStorage, type Storage } from './storage/database.js';
