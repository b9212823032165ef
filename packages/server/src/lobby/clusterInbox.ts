import type { ClientMessageOf, ServerMessage } from '@duet/protocol';
import type { Calls } from '../calls/calls.js';
import type { ClusterAnswer, ClusterEvent, ClusterQuestion } from '../cluster/messages.js';
import type { Lobby } from './lobby.js';

export interface ClusterInboxOptions {
  lobby: Pick<Lobby, 'calls' | 'blockPair' | 'mirror' | 'removeBanned' | 'setHeld' | 'callOf'>;
  /** Delivers to a person connected to this node. */
  send: (userId: string, message: ServerMessage) => void;
  /** A heartbeat another node forwarded for a call this node meters. */
  heartbeat: (userId: string, m: ClientMessageOf<'heartbeat'>) => void;
  /** Another node banned someone who may be connected here. */
  banned: (userId: string, ban: { reason: string; until: number | null; appeal: string }) => void;
  /** The person connected to another node: an older connection here closes; false when the one here is newer. */
  replaced: (userId: string, elsewhere: { node: string; at: number }) => boolean;
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
      case 'held':
        return lobby.setHeld(e.userId, e.held);
      case 'replaced': {
        if (!o.replaced(e.userId, e)) return;
        // A call cannot follow its person to another node: it ends now, not after the grace window,
        // whether their old side was here or on a third node (then this node holds the partner).
        const call = lobby.calls.ofPerson(e.userId);
        if (call && call.nodeOf(e.userId) !== e.node) lobby.calls.end(call, 'connection_lost', e.userId);
        return;
      }
      case 'ask':
      case 'answer':
        return; // the cluster itself pairs questions with answers
    }
  };
}

/** What this node answers another node's question (the console's view across nodes). */
export function clusterAnswers(calls: Pick<Calls, 'kept' | 'endById'>): (q: ClusterQuestion) => ClusterAnswer {
  return (q) => {
    switch (q.q) {
      case 'live_calls':
        return { q: 'live_calls', calls: calls.kept() };
      case 'end_call':
        return { q: 'end_call', ended: calls.endById(q.callId, 'moderator', null) };
    }
  };
}
