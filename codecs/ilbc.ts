/**
 * iLBC (RFC 3951, RTP payload RFC 3952, 8 kHz) through libavcodec's native iLBC decoder, linked
 * into codecs.node: Debian 12 ships no libilbc and npm has no iLBC decoder.
 *
 * RFC 3952 §5: `mode=20` (38-octet frames, 15.2 kbit/s) or `mode=30` (50-octet frames,
 * 13.33 kbit/s), 30 when absent; a payload is a whole number of frames. The payload length
 * decides when it fits only one mode (a sender disagreeing with its SDP is common), the fmtp
 * when it fits both (every 950 octets).
 *
 * Loss concealment: libavcodec's decoder lacks RFC 3951 §4.5 PLC (an invalid frame only
 * re-synthesises the previous residual, undamped) and the §4.6 enhancer, so a loss is concealed
 * on the decoded signal instead, by pitch-waveform repetition (waveform-plc.ts, after G.711
 * Appendix I): not the RFC's algorithm, but the same idea (repeat the last pitch period, fade).
 */
import { FrameSizeDecoder, codecsAddonOrNull, fmtpParam } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';
import { WaveformPlc } from './waveform-plc.js';

const MODES = [20, 30] as const;
const FRAME_OCTETS: readonly [number, number] = [38, 50];

class IlbcDecoder extends FrameSizeDecoder {
  private readonly plc = new WaveformPlc(8000);

  override decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    const n = super.decode(payload, off, len, out);
    if (n > 0) this.plc.remember(out, n);
    return n;
  }

  conceal(samples: number, out: Int16Array): number {
    return this.plc.conceal(samples, out);
  }
}

export const ILBC: DecoderFactory = {
  names: ['ilbc'],
  create(_codec, clockRate, channels, fmtp): AudioDecoder | null {
    if (clockRate !== 8000 || channels !== 1) return null;
    const addon = codecsAddonOrNull();
    const first = addon?.open('ilbc', 30, 0) ?? null;
    if (addon === null || first === null) return null;
    addon.close(first); // the addon and libavcodec's decoder are there; states open on first use
    const preferred = fmtpParam(fmtp, 'mode') === '20' ? 0 : 1;
    return new IlbcDecoder(8000, addon, FRAME_OCTETS, preferred, (k) => addon.open('ilbc', MODES[k], 0));
  },
};
