import type { ServerMessage } from '@duet/protocol';

/** How the domains reach people: they never touch sockets. */
export interface Delivery {
  send(userId: string, message: ServerMessage): void;
  /** One message to many people (serialised once). */
  broadcast(userIds: string[], message: ServerMessage): void;
  /** A banned person is told why and disconnected. */
  kick(userId: string, ban: { reason: string; until: number | null; appeal: string }): void;
  /** The person connected to another node: a connection of theirs here that is older closes (4002). */
  retireOlder(userId: string, elsewhere: { node: string; at: number }): boolean;
}

/**
 * Delivery bound to the signaling hub once it exists. The domains that send are built before the hub
 * (the hub hands them people's intents); nobody can be sent to before they connect through the hub,
 * so nothing is lost before it is bound.
 */
export class Outbox implements Delivery {
  #to: Delivery | undefined;

  bind(to: Delivery): void {
    this.#to = to;
  }

  send = (userId: string, message: ServerMessage): void => this.#to?.send(userId, message);
  broadcast = (userIds: string[], message: ServerMessage): void => this.#to?.broadcast(userIds, message);
  kick = (userId: string, ban: { reason: string; until: number | null; appeal: string }): void => this.#to?.kick(userId, ban);
  retireOlder = (userId: string, elsewhere: { node: string; at: number }): boolean => this.#to?.retireOlder(userId, elsewhere) ?? true;
}
