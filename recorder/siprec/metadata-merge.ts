/**
 * Metadata updates during a recording session (RFC 7866 §7.1.1 re-INVITE/UPDATE carrying
 * metadata; RFC 7865 §6.1 dataMode). A `complete` snapshot replaces what we had; a `partial` one
 * carries only what changed (new participants and streams, new association times), so it is
 * merged by element id into the current state.
 */
import type { RecordingMetadata, RsGroup, RsParticipant, RsSession, RsStream } from './rs-metadata.js';

const MAX_ITEMS = 256;

export function mergeMetadata(current: RecordingMetadata | null, update: RecordingMetadata): RecordingMetadata {
  if (current === null || update.dataMode === 'complete') return update;
  const participants = mergeById(current.participants, update.participants, mergeParticipant);
  // Associations in the update also reach participants described only earlier (RFC 7865 §6.1).
  for (const a of update.associations) {
    const i = participants.findIndex((p) => p.id === a.participantId);
    if (i < 0) continue;
    const p = { ...participants[i]! };
    if (a.associateTime) p.associateTime = a.associateTime;
    if (a.disassociateTime) p.disassociateTime = a.disassociateTime;
    if (a.send !== null && a.recv !== null && (a.send.length > 0 || a.recv.length > 0)) {
      p.send = a.send;
      p.recv = a.recv;
    }
    participants[i] = p;
  }
  return {
    schema: current.schema,
    namespace: current.namespace,
    // The merged state is a full picture again.
    dataMode: 'complete',
    recordingId: update.recordingId || current.recordingId,
    groups: mergeById(current.groups, update.groups, mergeGroup),
    sessions: mergeById(current.sessions, update.sessions, mergeSession),
    participants,
    streams: mergeById(current.streams, update.streams, mergeStream),
    associations: [...current.associations, ...update.associations].slice(-MAX_ITEMS),
    extensions: update.extensions.length > 0 ? update.extensions : current.extensions,
    hints: {
      callType: update.hints.callType || current.hints.callType,
      callingParty: update.hints.callingParty || current.hints.callingParty,
      calledParty: update.hints.calledParty || current.hints.calledParty,
      recordedParty: update.hints.recordedParty || current.hints.recordedParty,
      fromHeader: update.hints.fromHeader || current.hints.fromHeader,
      toHeader: update.hints.toHeader || current.hints.toHeader,
      callId: update.hints.callId || current.hints.callId,
      ucid: update.hints.ucid || current.hints.ucid,
    },
    wellFormed: current.wellFormed && update.wellFormed,
    problems: [...current.problems, ...update.problems].slice(0, 16),
  };
}

function mergeById<T extends { id: string }>(old: readonly T[], upd: readonly T[], merge: (a: T, b: T) => T): T[] {
  const out = old.slice();
  for (const u of upd) {
    const i = out.findIndex((x) => x.id === u.id);
    if (i >= 0) out[i] = merge(out[i]!, u);
    else if (out.length < MAX_ITEMS) out.push(u);
  }
  return out;
}

const pick = (a: string, b: string): string => b || a;

const mergeGroup = (a: RsGroup, b: RsGroup): RsGroup => ({
  id: a.id,
  initiator: pick(a.initiator, b.initiator),
  associateTime: pick(a.associateTime, b.associateTime),
  disassociateTime: pick(a.disassociateTime, b.disassociateTime),
  extensions: b.extensions.length > 0 ? b.extensions : a.extensions,
});

const mergeSession = (a: RsSession, b: RsSession): RsSession => ({
  id: a.id,
  groupId: pick(a.groupId, b.groupId),
  sipSessionIds: b.sipSessionIds.length > 0 ? b.sipSessionIds : a.sipSessionIds,
  startTime: pick(a.startTime, b.startTime),
  stopTime: pick(a.stopTime, b.stopTime),
  associateTime: pick(a.associateTime, b.associateTime),
  disassociateTime: pick(a.disassociateTime, b.disassociateTime),
  extensions: b.extensions.length > 0 ? b.extensions : a.extensions,
});

const mergeParticipant = (a: RsParticipant, b: RsParticipant): RsParticipant => ({
  id: a.id,
  aor: pick(a.aor, b.aor),
  name: pick(a.name, b.name),
  sessionIds: b.sessionIds.length > 0 ? b.sessionIds : a.sessionIds,
  // Stream associations given in the update replace the old ones; none given: unchanged.
  send: b.send.length > 0 || b.recv.length > 0 ? b.send : a.send,
  recv: b.send.length > 0 || b.recv.length > 0 ? b.recv : a.recv,
  role: b.role || a.role,
  associateTime: pick(a.associateTime, b.associateTime),
  disassociateTime: pick(a.disassociateTime, b.disassociateTime),
  extensions: b.extensions.length > 0 ? b.extensions : a.extensions,
});

const mergeStream = (a: RsStream, b: RsStream): RsStream => ({
  id: a.id,
  sessionId: pick(a.sessionId, b.sessionId),
  label: pick(a.label, b.label),
  mode: pick(a.mode, b.mode),
  associateTime: pick(a.associateTime, b.associateTime),
  disassociateTime: pick(a.disassociateTime, b.disassociateTime),
  extensions: b.extensions.length > 0 ? b.extensions : a.extensions,
});
