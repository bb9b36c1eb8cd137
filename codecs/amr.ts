/**
 * AMR (8 kHz, `AMR/8000`) and AMR-WB (16 kHz, `AMR-WB/16000`) through opencore-amr in
 * codecs.node. The RFC 4867 payload is unpacked by amr-payload.ts; each frame, NO_DATA and
 * SID included, is one 20 ms decoder call, so DTX comfort noise (TS 26.092 / 26.193) and
 * bad-frame concealment (Q = 0, TS 26.091 / 26.191) come from the decoders themselves.
 *
 * Session parameters (RFC 4867 §8.1): `octet-align=1` selects the octet-aligned format,
 * otherwise bandwidth-efficient. Interleaving, `crc=1` and `robust-sorting=1` are not
 * supported: create() returns null and the render notes the stream as unsupported. Multichannel
 * sessions (`AMR/8000/2`) likewise.
 */
import { AmrFrames, decodeAmrPayload } from './amr-payload.js';
import { fmtpParam, openNative, type CodecHandle, type CodecsAddon } from './native-addon.js';
import type { AudioDecoder, DecoderFactory } from './types.js';

class AmrDecoder implements AudioDecoder {
  readonly sampleRate: number;
  private readonly frameSamples: number;
  private readonly frames = new AmrFrames();
  private handle: CodecHandle | null;
  inDtx = false;

  constructor(
    private readonly addon: CodecsAddon,
    handle: CodecHandle,
    private readonly wideband: boolean,
    private readonly octetAligned: boolean,
  ) {
    this.handle = handle;
    this.sampleRate = wideband ? 16000 : 8000;
    this.frameSamples = wideband ? 320 : 160;
  }

  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number {
    const h = this.handle;
    const f = this.frames;
    if (h === null || decodeAmrPayload(payload, off, len, this.wideband, this.octetAligned, f) !== 'ok') return 0;
    let n = 0;
    for (let i = 0; i < f.count && n + this.frameSamples <= out.length; i++) n += this.addon.decode(h, f.buf, f.off[i]!, f.len[i]!, out, n);
    // Frame types: SID 8 (AMR) / 9 (AMR-WB), NO_DATA 15 (RFC 4867 §4.3.2; TS 26.101, 26.201).
    const last = f.count > 0 ? f.ft[f.count - 1]! : 15;
    this.inDtx = last === (this.wideband ? 9 : 8) || last === 15;
    return n;
  }

  conceal(samples: number, out: Int16Array): number {
    return this.handle === null ? 0 : this.addon.conceal(this.handle, samples, out, 0);
  }

  free(): void {
    if (this.handle !== null) this.addon.close(this.handle);
    this.handle = null;
  }
}

/** Whether the fmtp asks for something this depacketizer does not do. */
function unsupportedFmtp(fmtp: string): boolean {
  const on = (name: string): boolean => {
    const v = fmtpParam(fmtp, name);
    return v !== undefined && v !== '0';
  };
  return fmtpParam(fmtp, 'interleaving') !== undefined || on('crc') || on('robust-sorting');
}

export const AMR: DecoderFactory = {
  names: ['amr', 'amr-wb'],
  create(codec, clockRate, channels, fmtp): AudioDecoder | null {
    const wideband = codec.toLowerCase() === 'amr-wb';
    if (clockRate !== (wideband ? 16000 : 8000) || channels !== 1 || unsupportedFmtp(fmtp)) return null;
    const n = openNative(wideband ? 'amrwb' : 'amrnb');
    return n === null ? null : new AmrDecoder(n.addon, n.handle, wideband, fmtpParam(fmtp, 'octet-align') === '1');
  },
};
