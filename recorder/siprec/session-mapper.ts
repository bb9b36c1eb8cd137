/**
 * From a recording session's SDP offer and metadata to the recorded call: who the two sides
 * are, which party speaks on each m-line, and whether it records as mono.
 *
 *   m-line ──a=label── <stream><label> ──stream id── participant <send> (participantstreamassoc)
 *
 * (RFC 7866 §8.1.8 labels, RFC 7865 §6.9 participantstreamassoc.) Each participant's sent audio
 * goes to its party's channel: the caller's on the left, everyone else's on the right. A stream
 * several participants send, a stream marked `mixed`, or a single m-line (Metaswitch, BroadWorks)
 * is a mixed recording and renders mono.
 *
 * Caller and callee: a vendor's own word first (apkt:callingParty, `<role>`, BroadWorks or
 * Metaswitch call type), then the trunk ranges (a participant on an inbound trunk called us, one
 * on an outbound trunk was called), then the order of the m-lines (the first stream's sender is
 * the caller, as label 1 / a_leg are in practice), then the order of the participants.
 */
import type { Party } from '../calls/call.js';
import type { Direction, PartyInfo } from '../calls/call-record.js';
import type { MediaDescription } from '../sdp/session-description.js';
import { aorUser, type RecordingMetadata, type RsParticipant } from './rs-metadata.js';

export interface TrunkRanges {
  /** Regular expressions over `user@host` of a participant that is an inbound trunk (it called us). */
  inbound: readonly RegExp[];
  /** … that is an outbound trunk (it was called). */
  outbound: readonly RegExp[];
}

export const NO_TRUNKS: TrunkRanges = { inbound: [], outbound: [] };

export interface StreamAssignment {
  /** m-line index in the offer. */
  index: number;
  label: string;
  party: Party;
  /** The sending participant's id; '' when the metadata does not say. */
  participantId: string;
}

export interface SessionMapping {
  caller: PartyInfo;
  callee: PartyInfo;
  callerParticipant: string;
  calleeParticipant: string;
  /** One entry per offered audio m-line. */
  streams: StreamAssignment[];
  /** Record as one mixed (mono) channel. */
  mixed: boolean;
  /** Decided by the trunk ranges; null when they say nothing. */
  direction: Direction | null;
  /** participant id → party. */
  parties: Map<string, Party>;
}

/** `user@host` of an AOR for trunk matching (the scheme, parameters and port dropped). */
export function trunkIdentity(aor: string): string {
  const s = aor.trim().replace(/^<|>$/g, '').replace(/^(sips?|tel):/i, '');
  const at = s.indexOf('@');
  const user = aorUser(aor);
  if (at < 0) return user;
  const host = s
    .slice(at + 1)
    .replace(/[;?>].*$/, '')
    .replace(/:\d+$/, '')
    .toLowerCase();
  return `${user}@${host}`;
}

const matches = (res: readonly RegExp[], aor: string): boolean => {
  if (res.length === 0 || !aor) return false;
  const id = trunkIdentity(aor);
  return res.some((re) => re.test(id));
};

/** The metadata participant as a party of the call record. */
export function participantParty(p: RsParticipant): PartyInfo {
  const user = aorUser(p.aor);
  return { uri: p.aor, number: user, name: p.name };
}

const EMPTY_PARTY: PartyInfo = { uri: '', number: '', name: '' };

export function mapSession(
  md: RecordingMetadata | null,
  media: readonly MediaDescription[],
  trunks: TrunkRanges,
  fallback: { caller: PartyInfo; callee: PartyInfo },
): SessionMapping {
  const audio = media.filter((m) => m.type === 'audio');
  const participants = md?.participants ?? [];
  const streamByLabel = new Map((md?.streams ?? []).filter((s) => s.label !== '').map((s) => [s.label, s]));

  // Senders of each m-line, through its label.
  const senders: RsParticipant[][] = audio.map((m) => {
    const st = m.label ? streamByLabel.get(m.label) : undefined;
    if (st === undefined) return [];
    const list = participants.filter((p) => p.send.includes(st.id));
    // Draft-style metadata without send lists but with recv lists (one side only): the other
    // participant is the sender.
    if (list.length === 0) {
      const receivers = participants.filter((p) => p.recv.includes(st.id));
      if (receivers.length === 1 && participants.length === 2) return participants.filter((p) => p !== receivers[0]);
    }
    return list;
  });

  let mixed = audio.filter((m) => m.port !== 0).length <= 1 || senders.some((s) => s.length > 1);
  for (const m of audio) {
    const st = m.label ? streamByLabel.get(m.label) : undefined;
    if (st?.mode === 'mixed') mixed = true;
  }

  // Caller and callee participants.
  let caller = participants.find((p) => p.role === 'caller');
  let callee = participants.find((p) => p.role === 'callee' && p !== caller);
  if (caller === undefined) caller = participants.find((p) => p !== callee && matches(trunks.inbound, p.aor));
  if (callee === undefined) callee = participants.find((p) => p !== caller && matches(trunks.outbound, p.aor));
  if (caller === undefined) {
    for (const s of senders) {
      const p = s.length === 1 ? s[0] : undefined;
      if (p !== undefined && p !== callee) {
        caller = p;
        break;
      }
    }
  }
  if (caller === undefined) caller = participants.find((p) => p !== callee && !p.disassociateTime) ?? participants.find((p) => p !== callee);
  // The callee: whoever else sends audio here, before anyone who only listens or has left.
  if (callee === undefined) for (const list of senders) for (const p of list) if (callee === undefined && p !== caller) callee = p;
  if (callee === undefined) callee = participants.find((p) => p !== caller && !p.disassociateTime) ?? participants.find((p) => p !== caller);

  const parties = new Map<string, Party>();
  for (const p of participants) parties.set(p.id, p === caller ? 'caller' : 'callee');

  // Each m-line's party: its sender's, else by position among the unexplained ones.
  const streams: StreamAssignment[] = [];
  let unexplained = 0;
  const taken = new Set<Party>();
  audio.forEach((m, i) => {
    const s = senders[i]!;
    if (s.length === 1) {
      const party = parties.get(s[0]!.id) ?? 'callee';
      taken.add(party);
      streams.push({ index: m.index, label: m.label, party, participantId: s[0]!.id });
    } else streams.push({ index: m.index, label: m.label, party: 'caller', participantId: s.length > 1 ? '*' : '' });
  });
  for (const st of streams) {
    if (st.participantId !== '') continue;
    // No metadata for this m-line: the first such line is the caller (unless metadata already
    // gave the caller a line), the rest the callee.
    st.party = unexplained === 0 && !taken.has('caller') ? 'caller' : 'callee';
    unexplained++;
  }
  for (const st of streams) if (st.participantId === '*') st.participantId = '';

  let direction: Direction | null = null;
  if (caller && matches(trunks.inbound, caller.aor)) direction = 'inbound';
  else if (callee && matches(trunks.outbound, callee.aor)) direction = 'outbound';
  else if (trunks.inbound.length + trunks.outbound.length > 0 && caller && callee) direction = 'internal';

  return {
    caller: caller ? participantParty(caller) : fallback.caller,
    callee: callee ? participantParty(callee) : fallback.callee ?? EMPTY_PARTY,
    callerParticipant: caller?.id ?? '',
    calleeParticipant: callee?.id ?? '',
    streams,
    mixed,
    direction,
    parties,
  };
}
