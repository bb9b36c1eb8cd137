/**
 * iLBC (RFC 3951, RTP payload RFC 3952, 8 kHz), a hybrid of two decoders of the same frames:
 *
 * - Received frames are decoded by libavcodec's native iLBC decoder, linked into codecs.node
 *   (Debian 12 ships no libilbc and npm has no iLBC decoder): bit-exact with ffmpeg.
 * - Our decoder of the RFC (codecs/ilbc/, after its floating-point reference decoder of Appendix A,
 *   without the §4.6 enhancer so that its timing is libavcodec's, no 40/80-sample delay) decodes
 *   the same frames alongside, in the same order, only to hold the state (residual, synthesis
 *   filter, pitch lag) that RFC 3951 §4.5 concealment starts from; its output for them is
 *   discarded. It agrees with libavcodec to 23 dB SNR (libavcodec is a fixed-point port that
 *   rounds its residual to 16 bits), too far to replace it but close enough to continue its signal.
 *
 * libavcodec lacks §4.5: a lost packet is concealed by our decoder (`conceal`, whole frames), and
 * so is a received frame whose empty-frame bit is set (RFC 3951 §3.8) or whose start-state
 * position is impossible: the RFC treats those as lost, libavcodec would only repeat its previous
 * residual, undamped. Such a frame keeps its slot (same output length); libavcodec still decodes
 * it, output discarded, so that the frames after it stay bit-exact with ffmpeg's decode of the
 * stream.
 *
 * RFC 3952 §5: `mode=20` (38-octet frames, 15.2 kbit/s) or `mode=30` (50-octet frames,
 * 13.33 kbit/s), 30 when absent; a payload is a whole number of frames. The payload length
 * decides when it fits only one mode (a sender disagreeing with its SDP is common), the fmtp
 * when it fits both (every 950 octets). One state per frame size in each decoder, made on first
 * use: a sender that changes size mid-stream restarts both, as the codec's frames then differ.
 */
import { IlbcFrameDecoder } from './ilbc/frame-decoder.js';
import { type FrameMode, MODE_20MS, MODE_30MS } from './ilbc/frame-mode.js';
import { FrameSizeDecoder, codecsAddonOrNull, fmtpParam } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

const MODES: readonly [FrameMode, FrameMode] = [MODE_20MS, MODE_30MS];
const FRAME_OCTETS: readonly [number, number] = [MODE_20MS.octets, MODE_30MS.octets];

class IlbcDecoder extends FrameSizeDecoder {
  /** Our decoder's state per frame size (0: 20 ms, 1: 30 ms). */
  private readonly states: [IlbcFrameDecoder | null, IlbcFrameDecoder | null] = [null, null];
  /** The state that saw the last frame: a loss continues its signal. */
  private last: IlbcFrameDecoder | null = null;
  /** Our decode of one frame: discarded, unless the frame is one the RFC conceals. */
  private readonly frame = new Int16Array(MODE_30MS.blockl);

  override decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    const n = super.decode(payload, off, len, out);
    if (n === 0) return 0;
    // libavcodec decoded n / blockl whole frames: ours takes the same ones.
    const k = this.sizeFor(len);
    if (k === -1) return n;
    const mode = MODES[k];
    const d = (this.states[k] ??= new IlbcFrameDecoder(mode));
    const frame = this.frame;
    for (let f = 0, at = 0; at < n; f++, at += mode.blockl) {
      if (d.decode(payload, off + f * mode.octets, frame, 0)) continue;
      for (let i = 0; i < mode.blockl; i++) out[at + i] = frame[i]!;
    }
    this.last = d;
    return n;
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
    const addon = codecsAddonOrNull();
    const first = addon?.open('ilbc', 30, 0) ?? null;
    if (addon === null || first === null) return null;
    addon.close(first); // the addon and libavcodec's decoder are there; states open on first use
    const preferred = fmtpParam(fmtp, 'mode') === '20' ? 0 : 1;
    return new IlbcDecoder(8000, addon, FRAME_OCTETS, preferred, (k) => addon.open('ilbc', MODES[k].ms, 0));
  },
};
