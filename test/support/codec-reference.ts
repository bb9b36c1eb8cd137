/**
 * Reference tools for the codec tests: ffmpeg (and sox, for opencore-amr) as independent
 * encoders and decoders, espeak-ng speech as the test signal, SNR, and small container readers
 * (Ogg pages, AMR storage files) to get at the coded frames. Everything runs synchronously in a
 * temporary directory that is removed at exit.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tshark } from './tshark.js';
import { loadCodecsAddon } from '../../codecs/native-addon.js';
import { snrDb } from './ffprobe.js';
import { speak } from './speech.js';
import { tempDir } from './temp-dir.js';

export { snrDb };

let workDir: string | undefined;
let counter = 0;

/** A fresh path in this process's scratch directory. */
export function scratchPath(name: string): string {
  if (workDir === undefined) {
    workDir = tempDir('codec-ref-');
  }
  return join(workDir, `${counter++}-${name}`);
}

const run = (cmd: string, args: string[]): Buffer =>
  execFileSync(cmd, args, { maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });

const asInt16 = (b: Buffer): Int16Array => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.length & ~1)));

/**
 * Decodes `input` with ffmpeg into mono 16-bit samples at the codec's own rate (no
 * resampling). `inputArgs` go before `-i` (demuxer, decoder, options: `-f g722`,
 * `-c:a libgsm`, …).
 */
export function ffmpegDecode(input: string, inputArgs: readonly string[]): Int16Array {
  return asInt16(run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...inputArgs, '-i', input, '-f', 's16le', '-acodec', 'pcm_s16le', '-ac', '1', 'pipe:1']));
}

/**
 * Encodes mono 16-bit `pcm` at `rate` with ffmpeg; `outputArgs` choose codec and muxer
 * (`-c:a g722 -f g722`). Returns the output file's bytes.
 */
export function ffmpegEncode(pcm: Int16Array, rate: number, outputArgs: readonly string[]): Buffer {
  const inFile = scratchPath('in.raw');
  const outFile = scratchPath('out.bin');
  writeFileSync(inFile, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', String(rate), '-ac', '1', '-i', inFile, ...outputArgs, '-y', outFile]);
  return readFileSync(outFile);
}

/** Writes bytes to a scratch file and returns its path (for ffmpeg/sox inputs). */
export function scratchFile(name: string, data: Uint8Array): string {
  const p = scratchPath(name);
  writeFileSync(p, data);
  return p;
}

const speechCache = new Map<number, Int16Array>();

/**
 * About `seconds` of espeak-ng speech (repeated to length) at `rate`, mono 16-bit, resampled by
 * sox; scaled to peak near -3 dBFS so codecs see a realistic level.
 */
export function speech(rate: number, seconds = 4): Int16Array {
  let base = speechCache.get(rate);
  if (base === undefined) {
    base = speak('The quick brown fox jumps over the lazy dog. Recording calls needs every codec to decode.', rate, { wpm: 150, peakDb: -3 });
    speechCache.set(rate, base);
  }
  const out = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i += base.length) out.set(base.subarray(0, Math.min(base.length, out.length - i)), i);
  return out;
}

/** The lag in [-maxLag, maxLag] (x delayed by lag against ref) with the best SNR, and that SNR. */
export function alignedSnr(ref: Int16Array, x: Int16Array, maxLag: number): { lag: number; snr: number } {
  let best = { lag: 0, snr: Number.NEGATIVE_INFINITY };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const a = lag >= 0 ? ref : ref.subarray(-lag);
    const b = lag >= 0 ? x.subarray(lag) : x;
    const snr = snrDb(a, b);
    if (snr > best.snr) best = { lag, snr };
  }
  return best;
}

/** Root mean square of samples. */
export function rms(x: Int16Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return x.length === 0 ? 0 : Math.sqrt(s / x.length);
}

/** The packets of an Ogg stream (RFC 3533 pages, lacing values joined), all logical streams. */
export function oggPackets(file: Uint8Array): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  let pos = 0;
  while (pos + 27 <= file.length) {
    if (file[pos] !== 0x4f || file[pos + 1] !== 0x67 || file[pos + 2] !== 0x67 || file[pos + 3] !== 0x53) throw new Error(`no Ogg page at ${pos}`);
    const segments = file[pos + 26]!;
    let data = pos + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const lace = file[pos + 27 + i]!;
      pending.push(file.subarray(data, data + lace));
      data += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    pos = data;
  }
  return packets;
}

/** Frames (storage format, RFC 4867 §5) of an `.amr` / `.awb` file (RFC 4867 §5.1 magic). */
export function amrStorageFrames(file: Uint8Array, wideband: boolean): Uint8Array[] {
  const magic = wideband ? '#!AMR-WB\n' : '#!AMR\n';
  if (Buffer.from(file.subarray(0, magic.length)).toString('latin1') !== magic) throw new Error('not an AMR storage file');
  const sizes = wideband ? [17, 23, 32, 36, 40, 46, 50, 58, 60, 5, -1, -1, -1, -1, 0, 0] : [12, 13, 15, 17, 19, 20, 26, 31, 5, -1, -1, -1, -1, -1, -1, 0];
  const frames: Uint8Array[] = [];
  for (let pos = magic.length; pos < file.length; ) {
    const size = sizes[(file[pos]! >> 3) & 0x0f]!;
    if (size < 0 || pos + 1 + size > file.length) throw new Error(`bad AMR frame at ${pos}`);
    frames.push(file.subarray(pos, pos + 1 + size));
    pos += 1 + size;
  }
  return frames;
}

/** An `.amr` / `.awb` storage file made of the given frames. */
export function amrStorageFile(frames: readonly Uint8Array[], wideband: boolean): Buffer {
  return Buffer.concat([Buffer.from(wideband ? '#!AMR-WB\n' : '#!AMR\n', 'latin1'), ...frames]);
}

/** Decodes an `.amr` / `.awb` file with sox, which runs opencore-amr (the library we link). */
export function soxDecodeAmr(file: string, wideband: boolean): Int16Array {
  return asInt16(run('sox', ['-t', wideband ? 'amr-wb' : 'amr-nb', file, '-t', 'raw', '-b', '16', '-e', 'signed-integer', '-L', '-']));
}

/** Encodes 8 kHz mono pcm to an `.amr` file with sox (opencore-amrnb's encoder) in `mode` 0-7. */
export function soxEncodeAmrNb(pcm: Int16Array, mode: number): Buffer {
  const inFile = scratchFile('in.raw', new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  const outFile = scratchPath('out.amr');
  run('sox', ['-t', 'raw', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', inFile, '-t', 'amr-nb', '-C', String(mode), outFile]);
  return readFileSync(outFile);
}

export interface RtpPayload {
  seq: number;
  pt: number;
  payload: Buffer;
}

/** RTP payloads of one SSRC as tshark sees them; `decodeAs` for RTP without SDP (`udp.port==N,rtp`). */
export function tsharkRtpPayloads(file: string, ssrc: number, decodeAs?: string): RtpPayload[] {
  const args = ['-r', file, ...(decodeAs === undefined ? [] : ['-d', decodeAs]), '-Y', `rtp.ssrc == 0x${ssrc.toString(16)}`];
  const out = tshark([...args, '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.p_type', '-e', 'rtp.payload']);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [seq = '', pt = '', hex = ''] = l.split('\t');
      return { seq: Number(seq), pt: Number(pt), payload: Buffer.from(hex.replace(/:/g, ''), 'hex') };
    });
}

/** Concatenates decoded chunks. */
export function concat(chunks: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), for malformed-payload tests. */
export function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** Minimal decoder shape, so this module needs nothing from codecs/. */
interface PayloadDecoder {
  decode(payload: Uint8Array, off: number, len: number, out: Int16Array): number;
}

/** Decodes payloads in order (as a render does, one scratch buffer) and joins the output. */
export function decodePayloads(dec: PayloadDecoder, payloads: readonly Uint8Array[], scratch = new Int16Array(1 << 17)): Int16Array {
  const chunks: Int16Array[] = [];
  for (const p of payloads) {
    const n = dec.decode(p, 0, p.length, scratch);
    chunks.push(scratch.slice(0, n));
  }
  return concat(chunks);
}

/** Splits `data` into payloads of `size` octets (the last may be shorter). */
export function chunk(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, Math.min(data.length, i + size)));
  return out;
}

/**
 * Feeds a decoder hostile payloads (random bytes of every length up to `maxLen`, truncations
 * and extensions of `valid`, empty, huge) and checks the AudioDecoder contract: it never throws,
 * returns an integer in [0, out.length], and a multiple of `frameSamples`. Returns the total
 * samples decoded (to show the garbage reached the library).
 */
export function fuzzDecoder(dec: PayloadDecoder, valid: Uint8Array, frameSamples: number, maxLen = 400): number {
  const out = new Int16Array(4096);
  const small = new Int16Array(frameSamples - 1);
  let total = 0;
  const check = (p: Uint8Array, off: number, len: number, dst: Int16Array): void => {
    const n = dec.decode(p, off, len, dst);
    if (!Number.isInteger(n) || n < 0 || n > dst.length || n % frameSamples !== 0) {
      throw new Error(`decode(${len} octets) returned ${n} (out ${dst.length}, frame ${frameSamples})`);
    }
    total += n;
  };
  for (let len = 0; len <= maxLen; len++) check(randomBytes(len, 1 + len * 7919), 0, len, out);
  for (let len = 0; len <= valid.length + 3; len++) {
    const p = new Uint8Array(len);
    p.set(valid.subarray(0, Math.min(len, valid.length)));
    check(p, 0, len, out);
  }
  check(valid, 0, valid.length, small); // no room for a frame
  check(valid, 1, valid.length - 1, out); // misaligned start
  check(valid, valid.length, 0, out);
  check(valid, 0, valid.length + 100, out); // length beyond the array: nothing read past it
  check(randomBytes(20000, 99), 0, 20000, out);
  check(new Uint8Array(1000).fill(0xff), 0, 1000, out);
  return total;
}

/** Sun .au encodings of the G.72x ADPCM codes sox decodes with Sun's reference g72x code. */
const AU_G72X: Readonly<Record<number, number>> = { 3: 25, 4: 23, 5: 26 };

/**
 * Decodes G.726 code words packed least significant bit first (RFC 3551 §4.5.4 packing, also
 * Sun's .au G.72x packing) with sox, i.e. with Sun Microsystems' reference G.721/G.723 code:
 * an implementation independent of spandsp and ffmpeg. 3, 4 or 5 bits per code word (sox has
 * no 16 kbit/s G.726).
 */
export function soxDecodeG726(packed: Uint8Array, bits: 3 | 4 | 5): Int16Array {
  const header = Buffer.alloc(28);
  header.writeUInt32BE(0x2e736e64, 0); // ".snd"
  header.writeUInt32BE(28, 4);
  header.writeUInt32BE(packed.length, 8);
  header.writeUInt32BE(AU_G72X[bits]!, 12);
  header.writeUInt32BE(8000, 16);
  header.writeUInt32BE(1, 20);
  const file = scratchFile('g72x.au', Buffer.concat([header, packed]));
  return asInt16(run('sox', [file, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L', '-']));
}

/** Code words of `bits` bits packed LSB first (RFC 3551) → the same words packed MSB first (AAL2). */
export function repackMsbFirst(packed: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(packed.length);
  let acc = 0;
  let have = 0;
  let outBits = 0;
  const put = (code: number): void => {
    for (let k = bits - 1; k >= 0; k--, outBits++) if (((code >> k) & 1) !== 0) out[outBits >> 3]! |= 0x80 >> (outBits & 7);
  };
  for (const byte of packed) {
    acc |= byte << have;
    have += 8;
    while (have >= bits) {
      put(acc & ((1 << bits) - 1));
      acc >>>= bits;
      have -= bits;
    }
  }
  return out;
}

/** bcg729's encoder over `pcm`: one entry per 10 ms frame, 10 octets (speech), 2 (SID) or 0 (not sent). */
export function encodeG729(pcm: Int16Array, vad: boolean): Uint8Array[] {
  const lib = loadCodecsAddon();
  const h = lib.g729EncoderOpen(vad);
  const frames: Uint8Array[] = [];
  const buf = new Uint8Array(10);
  for (let off = 0; off + 80 <= pcm.length; off += 80) frames.push(buf.slice(0, lib.g729Encode(h, pcm, off, buf, 0)));
  lib.close(h);
  return frames;
}
