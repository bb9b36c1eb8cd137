/**
 * What the HEP input needs from the call registry, attached without changing the registry:
 * - every SDP the registry receives also teaches the relay-candidate table (TURN flags resolved
 *   through `typ relay` candidates, whatever input the SIP came from);
 * - when a call ends, the packets its HEP senders lost while it was up become a note on the call.
 *   The note starts with "capture dropped", which CallRecorder already treats as making the
 *   recording incomplete, so HEP loss is reported exactly like kernel capture drops.
 *
 * Both wrap the registry instance's methods (typed, so a signature change breaks the build).
 */
import { CallState } from '../calls/call.js';
import type { CallRegistry } from '../calls/call-registry.js';
import type { HepLossTracker } from './hep-loss.js';
import type { RelayCandidates } from './relay-candidates.js';

export function attachHepToRegistry(registry: CallRegistry, relays: RelayCandidates, loss: HepLossTracker): void {
  learnRelayCandidates(registry, relays);
  noteHepLoss(registry, loss);
}

/** Every SDP the registry receives also teaches `relays` (also used by the recorder's own TURN unwrap). */
export function learnRelayCandidates(registry: CallRegistry, relays: RelayCandidates): void {
  const setMedia = registry.setMedia.bind(registry);
  registry.setMedia = (call, party, sdp, now): void => {
    relays.learn(sdp);
    setMedia(call, party, sdp, now);
  };
}

/** HEP sequence gaps during a call become its "capture dropped" note. */
export function noteHepLoss(registry: CallRegistry, loss: HepLossTracker): void {
  const end = registry.end.bind(registry);
  registry.end = (call, reason, now): void => {
    if (call.protocol !== 'rtp' && call.state !== CallState.Ended) {
      for (const { sender, lost } of loss.lostDuring(call.start, Math.max(now, registry.lastActivity(call)))) {
        call.note(`capture dropped ${lost} packets during the call (HEP sequence gaps from ${sender.label})`);
      }
    }
    end(call, reason, now);
  };
}
