import type { ClientMessageOf } from '@duet/protocol';
import type { Cluster } from '../cluster/cluster.js';
import { clusterAnswers, clusterInbox } from '../lobby/clusterInbox.js';
import type { Lobby } from '../lobby/lobby.js';
import type { Delivery } from '../signaling/outbox.js';
import type { Part } from './assembly.js';

/**
 * With several nodes: this node starts hearing the others about calls and people here (the meter
 * takes the heartbeats of calls it meters whose other side is elsewhere), and beating for them.
 */
export async function joinCluster(
  cluster: Cluster,
  lobby: Lobby,
  meter: { heartbeat(userId: string, m: ClientMessageOf<'heartbeat'>): void },
  people: Delivery,
): Promise<Part> {
  const heartbeat = (userId: string, m: ClientMessageOf<'heartbeat'>) => {
    try {
      meter.heartbeat(userId, m);
    } catch {
      // The call ended meanwhile: nothing to meter.
    }
  };
  const receive = clusterInbox({ lobby, send: people.send, heartbeat, banned: people.kick, replaced: people.retireOlder });
  cluster.attach({
    get online() {
      return lobby.online;
    },
    waitingHere: () => lobby.waitingHere(),
    orphaned: (userIds) => lobby.orphaned(userIds),
    remoteCalls: () => lobby.calls.remoteCalls(),
    receive,
    answer: clusterAnswers(lobby.calls),
  });
  await cluster.start();
  return { name: 'cluster', needs: ['calls', 'metering'], close: () => cluster.stop() };
}
