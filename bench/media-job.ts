/**
 * The media job on its own: a spooled 10-minute two-party G.711 call rendered to each format
 * (decode, align, mix dual-channel, encode), timed on one thread; beside it ffmpeg doing the
 * same encode from a WAV of the same audio (`-threads 1`), and the pieces (decoder, resampler,
 * mixer) in isolation. × realtime = audio seconds ÷ wall seconds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingFormat } from '../codecs/types.js';
import { encodeUlaw } from '../codecs/g711.js';
import { WasmMixer } from '../codecs/wasm-mixer.js';
import { createDecoder, prepareDecoders } from '../recorder/media/decoder.js';
import { Mixer } from '../recorder/media/mixer.js';
import { MediaJobPool } from '../recorder/media/job-pool.js';
import { Resampler } from '../recorder/media/resample.js';
import { streamInfo, writeSpool, type TestPacket } from '../test/recorder/spool/spool-helpers.js';

export interface MediaJobRow {
  name: string;
  seconds: number;
  realtime: number;
  bytes?: number;
}

const T0 = 1_790_000_000;

/** Speech (espeak-ng, two voices) at 8 kHz, looped to `seconds`. */
function speechLoop(dir: string, voice: string, text: string, seconds: number): Int16Array {
  const wav = join(dir, `${voice}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-w', wav, text]);
  const raw = execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', '-'], { maxBuffer: 1 << 26 });
  const one = new Int16Array(raw.buffer, raw.byteOffset, raw.length >> 1);
  const out = new Int16Array(seconds * 8000);
  for (let i = 0; i < out.length; i++) out[i] = one[i % one.length]!;
  return out;
}

function ulawPackets(pcm: Int16Array, startCap: number): TestPacket[] {
  const out: TestPacket[] = [];
  for (let i = 0; i * 160 < pcm.length; i++) {
    const payload = Buffer.alloc(160);
    for (let k = 0; k < 160; k++) payload[k] = encodeUlaw(pcm[i * 160 + k]!);
    out.push({ seq: (1000 + i) & 0xffff, ts: (50_000 + i * 160) >>> 0, pt: 0, cap: T0 + startCap + i * 0.02, payload });
  }
  return out;
}

const time = async (f: () => unknown): Promise<number> => {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e9;
};

/** Wall seconds of one ffmpeg run, the best of `reps` (the machine is shared). */
function ffmpegSeconds(args: string[], reps = 3): number {
  let best = Infinity;
  for (let rep = 0; rep < reps; rep++) {
    const t = process.hrtime.bigint();
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-threads', '1', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString()}`);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return best;
}

export async function benchMediaJob(callSeconds: number): Promise<MediaJobRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-media-'));
  try {
    const a = speechLoop(dir, 'en-us', 'I would like to check the balance of my account and the last three payments, please.', callSeconds);
    const b = speechLoop(dir, 'en-gb', 'Certainly. Could you confirm your date of birth and the first line of your address?', callSeconds);
    const spool = await writeSpool(join(dir, 'spool'), 'call', [
      { info: streamInfo(1, 'caller', 0), packets: ulawPackets(a, 0) },
      { info: streamInfo(2, 'callee', 1), packets: ulawPackets(b, 0.01) },
    ]);
    await prepareDecoders();
    const rows: MediaJobRow[] = [];
    const formats: RecordingFormat[] = ['wav', 'opus', 'mp3'];
    const wavPath = join(dir, 'call.wav');
    // As in the recorder: the job runs in a media worker (one job at a time, one thread).
    const pool = new MediaJobPool(1);
    try {
      for (const format of formats) {
        for (const channels of [2, 1] as const) {
          const out = format === 'wav' && channels === 2 ? wavPath : join(dir, `call-${channels}.${format}`);
          // One warm-up run (WASM compile, JIT), then the best of three (the machine is shared).
          await pool.render(spool, { outPath: out, format, channels });
          let bytes = 0;
          let s = Infinity;
          for (let rep = 0; rep < 3; rep++) {
            s = Math.min(
              s,
              await time(async () => {
                const info = await pool.render(spool, { outPath: out, format, channels });
                bytes = readFileSync(info.path).length;
              }),
            );
          }
          rows.push({ name: `whole job → ${format} (${channels === 2 ? 'dual' : 'mono'}, 8 kHz)`, seconds: s, realtime: callSeconds / s, bytes });
        }
      }
      // The Opus writer's other mode: SILK (recording.opusApplication "voip").
      const out = join(dir, 'call-silk.opus');
      const opts = { outPath: out, format: 'opus', channels: 2, encoder: { opusApplication: 'voip' } } as const;
      await pool.render(spool, opts);
      let s = Infinity;
      for (let rep = 0; rep < 3; rep++) s = Math.min(s, await time(() => pool.render(spool, opts)));
      rows.push({ name: 'whole job → opus (dual, 8 kHz, SILK: opusApplication voip)', seconds: s, realtime: callSeconds / s, bytes: readFileSync(out).length });
    } finally {
      await pool.close();
    }
    // ffmpeg encoding the same audio from the job's WAVs, one thread, the same total bit rate as
    // our writer's defaults (dual 2 × 16 kbit/s, mono 24 kbit/s).
    const ff = (name: string, args: string[], reps = 3): void => {
      const s = ffmpegSeconds(['-i', wavPath, ...args], reps);
      rows.push({ name: `ffmpeg: ${name}`, seconds: s, realtime: callSeconds / s, bytes: readFileSync(args[args.length - 1]!).length });
    };
    ff('libopus, complexity 10 (its default), 20 ms, 48 kbit/s', ['-c:a', 'libopus', '-b:a', '48k', '-application', 'voip', join(dir, 'ff10.opus')], 1);
    // Our writer's settings: CELT only (lowdelay), complexity 0, 60 ms frames (codecs/ogg-opus-writer.ts).
    const ours = ['-c:a', 'libopus', '-application', 'lowdelay', '-compression_level', '0', '-frame_duration', '60'];
    ff('libopus lowdelay, complexity 0, 60 ms (ours), 32 kbit/s stereo', [...ours, '-b:a', '32k', join(dir, 'ff0.opus')]);
    const s1 = ffmpegSeconds(['-i', join(dir, 'call-1.wav'), ...ours, '-b:a', '24k', join(dir, 'ff0-mono.opus')]);
    rows.push({ name: 'ffmpeg: libopus lowdelay, complexity 0, 60 ms (ours), 24 kbit/s mono', seconds: s1, realtime: callSeconds / s1, bytes: readFileSync(join(dir, 'ff0-mono.opus')).length });
    ff('libopus voip, complexity 0, 60 ms, 32 kbit/s stereo', ['-c:a', 'libopus', '-application', 'voip', '-compression_level', '0', '-frame_duration', '60', '-b:a', '32k', join(dir, 'ff0-voip.opus')]);
    ff('libmp3lame, 48 kbit/s', ['-c:a', 'libmp3lame', '-b:a', '48k', join(dir, 'ff.mp3')]);
    ff('WAV copy', ['-c:a', 'pcm_s16le', join(dir, 'ff.wav')]);

    // The pieces, one stream each.
    const payloads = ulawPackets(a, 0).map((p) => p.payload);
    const dec = createDecoder('pcmu', 8000, 1)!;
    const scratch = new Int16Array(4096);
    let s = await time(() => {
      for (const p of payloads) dec.decode(p, 0, p.length, scratch);
    });
    rows.push({ name: 'G.711 µ-law decode', seconds: s, realtime: callSeconds / s });
    for (const [inRate, outRate] of [
      [8000, 16000],
      [8000, 48000],
      [16000, 8000],
    ] as const) {
      const r = new Resampler(inRate, outRate);
      const src = inRate === 8000 ? a : new Int16Array(a.length * 2);
      const out = new Int16Array(r.maxOutput(src.length) + 64);
      s = await time(() => {
        for (let i = 0; i < src.length; i += inRate / 50) r.push(src, i, inRate / 50, out, 0);
      });
      rows.push({ name: `resampler ${inRate} → ${outRate} Hz`, seconds: s, realtime: callSeconds / s });
    }
    // The mixer in TypeScript (the render's) and in WASM (codecs/mix.wat), same input and
    // schedule as a render (20 ms packets, 1 s blocks), best of 5 runs each, interleaved.
    const mixers = [
      ['TypeScript', Mixer],
      ['WASM', WasmMixer],
    ] as const;
    for (const channels of [2, 1]) {
      const best = [Infinity, Infinity];
      let sink = 0;
      for (let rep = 0; rep < 5; rep++) {
        mixers.forEach(([, Impl], k) => {
          sink = 0;
          const mixer = new Impl(channels, 8000, 8000 * 40, (_pcm, n) => (sink += n));
          const t0 = process.hrtime.bigint();
          for (let i = 0; i * 160 < a.length; i++) {
            mixer.add(0, i * 160, a, i * 160, 160);
            mixer.add(channels - 1, i * 160, b, i * 160, 160);
            if (i % 50 === 0) mixer.finalizeBefore(i * 160 - 16000);
          }
          mixer.finish(a.length);
          best[k] = Math.min(best[k]!, Number(process.hrtime.bigint() - t0) / 1e9);
        });
      }
      mixers.forEach(([label], k) => {
        const sec = best[k]!;
        rows.push({ name: `mixer (${label}), ${channels === 2 ? '2 channels' : 'mono mix of 2 streams'} at 8 kHz (${sink} samples out)`, seconds: sec, realtime: callSeconds / sec });
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
