import type { ClientMessageOf, ServerMessage } from '@duet/protocol';
import type { ClusterEvent } from '../cluster/messages.js';
import type { Lobby } from './lobby.js';

export interface ClusterInboxOptions {
  lobby: Pick<Lobby, 'calls' | 'blockPair' | 'mirror' | 'removeBanned'>;
  /** Delivers to a person connected to this node. */
  send: (userId: string, message: ServerMessage) => void;
  /** A heartbeat another node forwarded for a call this node meters. */
  heartbeat: (userId: string, m: ClientMessageOf<'heartbeat'>) => void;
  /** Another node banned someone who may be connected here. */
  banned: (userId: string, ban: { reason: string; until: number | null; appeal: string }) => void;
}

/** What this node does with each message another node sends it about a call or a person here. */
export function clusterInbox(o: ClusterInboxOptions): (e: ClusterEvent) => void {
  const { lobby } = o;
  return (e) => {
    switch (e.t) {
      case 'deliver':
        return o.send(e.to, e.message);
      case 'peer':
        return lobby.calls.fromCluster(e);
      case 'ended': {
        const call = lobby.calls.get(e.callId);
        if (!call) return;
        if ((e.reason === 'blocked' || e.reason === 'reported') && e.endedBy !== null)
          lobby.blockPair(e.endedBy, call.partnerOf(e.endedBy));
        return lobby.calls.end(call, e.reason, e.endedBy, true);
      }
      case 'matched':
        return lobby.mirror(e);
      case 'heartbeat':
        return o.heartbeat(e.from, { type: 'heartbeat', callId: e.callId, seq: e.seq, bytesReceived: e.bytesReceived });
      case 'banned':
        lobby.removeBanned(e.userId);
        return o.banned(e.userId, e.ban);
    }
  };
}
