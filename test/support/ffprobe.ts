/**
 * Reference tools for the codec tests: ffprobe/ffmpeg (format facts, reference decodes),
 * opusinfo (Ogg Opus conformance), espeak-ng (speech), and the signal measures the tests
 * compare with (SNR, correlation, alignment by cross-correlation).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import type { RecordingWriter } from '../../codecs/types.js';
import { speak } from './speech.js';

export interface ProbeStream {
  codec: string;
  sampleRate: number;
  channels: number;
  /** Seconds, from the stream (NaN when ffprobe gives none). */
  duration: number;
}

export interface Probe {
  format: string;
  /** Seconds, from the container. */
  duration: number;
  streams: ProbeStream[];
  tags: Record<string, string>;
  streamTags: Record<string, string>;
}

interface RawProbe {
  format?: { format_name?: string; duration?: string; tags?: Record<string, string> };
  streams?: { codec_name?: string; sample_rate?: string; channels?: number; duration?: string; tags?: Record<string, string> }[];
}

/** ffprobe's view of a media file. */
export function ffprobe(path: string): Probe {
  const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8' });
  const j = JSON.parse(out) as RawProbe;
  const lower = (t: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(t ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    format: j.format?.format_name ?? '',
    duration: Number(j.format?.duration ?? Number.NaN),
    streams: (j.streams ?? []).map((s) => ({
      codec: s.codec_name ?? '',
      sampleRate: Number(s.sample_rate ?? 0),
      channels: s.channels ?? 0,
      duration: Number(s.duration ?? Number.NaN),
    })),
    tags: lower(j.format?.tags),
    streamTags: lower(j.streams?.[0]?.tags),
  };
}

/**
 * Samples ffprobe decodes from the first audio stream: the sum of its frames' `nb_samples`, after
 * the decoder's start skip and end discard (an MP3's LAME delay and padding, an Ogg Opus file's
 * pre-skip and end trim). ffprobe decodes the file to say it, so it is slower than ffprobe().
 */
export function ffprobeDecodedSamples(path: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'frame=nb_samples', '-of', 'csv=p=0', path], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  let n = 0;
  for (const line of out.split('\n')) if (line.trim() !== '') n += Number(line.split(',')[0]);
  return n;
}

export interface Decoded {
  rate: number;
  /** One array per channel. */
  channel: Int16Array[];
}

/**
 * Decodes a file with ffmpeg to 16-bit PCM at `rate` with `channels` channels (no resampling
 * when rate is the file's own). `codec` forces a decoder (e.g. 'libopus'). Also returns what
 * ffmpeg printed at level "error" (a clean file prints nothing).
 */
export function ffmpegDecode(path: string, rate: number, channels: number, codec?: string): Decoded & { errors: string } {
  const args = ['-v', 'error', ...(codec !== undefined ? ['-c:a', codec] : []), '-i', path, '-f', 's16le', '-ac', String(channels), '-ar', String(rate), '-'];
  const r = spawnSync('ffmpeg', args, { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${path}: ${r.stderr.toString()}`);
  const b = r.stdout;
  const all = new Int16Array(b.buffer, b.byteOffset, b.length >> 1);
  const n = Math.floor(all.length / channels);
  const channel = Array.from({ length: channels }, () => new Int16Array(n));
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) channel[c]![i] = all[i * channels + c]!;
  return { rate, channel, errors: r.stderr.toString().trim() };
}

export interface OpusInfo {
  output: string;
  /** Lines with WARNING or ERROR (opusinfo's own words). */
  problems: string[];
  status: number;
}

/** opus-tools' opusinfo: header and stream checks of an Ogg Opus file. */
export function opusinfo(path: string): OpusInfo {
  const r = spawnSync('opusinfo', [path], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  return { output, problems: output.split('\n').filter((l) => /warning|error/i.test(l)), status: r.status ?? -1 };
}

/** Speech of `text` at `rate` (test/support/speech.ts). */
export const speech = (text: string, rate: number): Int16Array => speak(text, rate);

/** Interleaves channels (equal lengths) into one array. */
export function interleave(chs: readonly Int16Array[]): Int16Array {
  const n = chs[0]!.length;
  const c = chs.length;
  const out = new Int16Array(n * c);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) out[i * c + k] = chs[k]![i]!;
  return out;
}

/** Signal-to-noise ratio of `x` against `ref` over their common length, in dB (Infinity when equal). */
export function snrDb(ref: ArrayLike<number>, x: ArrayLike<number>, from = 0, to = Math.min(ref.length, x.length)): number {
  let s = 0;
  let e = 0;
  for (let i = from; i < to; i++) {
    const r = ref[i]!;
    const d = r - x[i]!;
    s += r * r;
    e += d * d;
  }
  return e === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(s / e);
}

/** Normalised correlation of a[i] with b[i + lag] over their overlap. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>, lag = 0): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const start = Math.max(0, -lag);
  const end = Math.min(a.length, b.length - lag);
  for (let i = start; i < end; i++) {
    const x = a[i]!;
    const y = b[i + lag]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** The lag (b behind a, in samples, within ±maxLag) of best correlation, and that correlation. */
export function bestLag(a: ArrayLike<number>, b: ArrayLike<number>, maxLag: number): { lag: number; corr: number } {
  let best = { lag: 0, corr: -2 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const c = correlation(a, b, lag);
    if (c > best.corr) best = { lag, corr: c };
  }
  return best;
}

/**
 * Writes interleaved `pcm` through a recording writer in uneven blocks (as a mixer hands them
 * over, `blocks` frames at a time, cycling) and closes it.
 */
export function writeInBlocks<W extends RecordingWriter>(w: W, pcm: Int16Array, channels: number, blocks: readonly number[]): W {
  let i = 0;
  let k = 0;
  while (i < pcm.length) {
    const n = Math.min(blocks[k++ % blocks.length]! * channels, pcm.length - i);
    w.write(pcm.subarray(i), n);
    i += n;
  }
  return w;
}

/** × realtime of the fastest of `reps` runs of `run`, which processes `audioSeconds` of audio. */
export function bestRealtime(run: () => void, audioSeconds: number, reps = 3): number {
  let best = 0;
  for (let rep = 0; rep < reps; rep++) {
    const t0 = performance.now();
    run();
    best = Math.max(best, (audioSeconds * 1000) / (performance.now() - t0));
  }
  return best;
}
