/**
 * iLBC (RFC 3951, RTP payload RFC 3952, 8 kHz): our decoder in TypeScript (codecs/ilbc/), after
 * the RFC's floating-point reference decoder (its Appendix A), with its packet loss concealment
 * (§4.5) and its enhancer (§4.6, on by default as in the RFC's test program). Debian 12 ships no
 * libilbc and npm no iLBC decoder; libavcodec's (linked for G.722.1) lacks both the RFC's
 * concealment and the enhancer, and stays as the tests' reference.
 *
 * RFC 3952 §5: `mode=20` (38-octet frames, 15.2 kbit/s) or `mode=30` (50-octet frames,
 * 13.33 kbit/s), 30 when absent; a payload is a whole number of frames. The payload length
 * decides when it fits only one mode (a sender disagreeing with its SDP is common), the fmtp
 * when it fits both (every 950 octets). One decoder state per frame size, made on first use: a
 * sender that changes size mid-stream restarts the decoder, as the codec's frames then differ.
 *
 * A frame whose empty-frame bit is set (RFC 3951 §3.8) or whose start-state position is
 * impossible is concealed like a lost one; `conceal` runs the RFC's concealment frame by frame
 * for a lost packet, and the enhancer smooths the transition into the next good frame.
 */
import { IlbcFrameDecoder } from './ilbc/frame-decoder.js';
import { type FrameMode, MODE_20MS, MODE_30MS } from './ilbc/frame-mode.js';
import { fmtpParam, frameSizeFor } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

const MODES: readonly [FrameMode, FrameMode] = [MODE_20MS, MODE_30MS];
const FRAME_OCTETS: readonly [number, number] = [MODE_20MS.octets, MODE_30MS.octets];

export interface IlbcOptions {
  /** RFC 3951 §4.6 enhancer (default on; it delays the output by 40 / 80 samples). */
  enhancer?: boolean;
}

export class IlbcDecoder implements AudioDecoder {
  readonly sampleRate = 8000;
  private readonly states: [IlbcFrameDecoder | null, IlbcFrameDecoder | null] = [null, null];
  /** The state that decoded the last frame: a loss continues its signal. */
  private last: IlbcFrameDecoder | null = null;
  private readonly frame = new Int16Array(MODE_30MS.blockl);
  private readonly enhancer: boolean;

  /** `preferred`: the frame size (0: 20 ms, 1: 30 ms) for payloads that fit both. */
  constructor(
    private readonly preferred: 0 | 1,
    options: IlbcOptions = {},
  ) {
    this.enhancer = options.enhancer ?? true;
  }

  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    if (off < 0 || off > payload.length) return 0;
    const avail = Math.min(len, payload.length - off);
    const k = frameSizeFor(avail, FRAME_OCTETS, this.preferred);
    if (k === -1) return 0;
    const mode = MODES[k];
    const d = (this.states[k] ??= new IlbcFrameDecoder(mode, this.enhancer));
    const frames = Math.min(avail / mode.octets, Math.floor(out.length / mode.blockl));
    for (let f = 0; f < frames; f++) d.decode(payload, off + f * mode.octets, out, f * mode.blockl);
    if (frames > 0) this.last = d;
    return frames * mode.blockl;
  }

  /** RFC 3951 §4.5 concealment, whole frames, of `samples` (at most out.length); 0 before any frame. */
  conceal(samples: number, out: Int16Array): number {
    const d = this.last;
    if (d === null) return 0;
    const n = Math.max(0, Math.min(samples, out.length));
    const L = d.mode.blockl;
    const frame = this.frame;
    for (let at = 0; at < n; at += L) {
      d.conceal(frame, 0);
      const m = Math.min(L, n - at);
      for (let i = 0; i < m; i++) out[at + i] = frame[i]!;
    }
    return n;
  }
}

export const ILBC: DecoderFactory = {
  names: ['ilbc'],
  create(_codec, clockRate, channels, fmtp): AudioDecoder | null {
    if (clockRate !== 8000 || channels !== 1) return null;
    return new IlbcDecoder(fmtpParam(fmtp, 'mode') === '20' ? 0 : 1);
  },
};
