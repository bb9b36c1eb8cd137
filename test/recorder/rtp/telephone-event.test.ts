import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Status } from '../../../recorder/core/status.js';
import { decodeTelephoneEvent, DtmfDetector, eventName, TelephoneEventPayload, type DtmfEvent } from '../../../recorder/rtp/telephone-event.js';
import { prng } from '../../support/random.js';
import { tshark } from '../../support/tshark.js';
import { byStream, readRtp } from './capture-rtp.js';

const ev = (event: number, end: boolean, volume: number, duration: number): Buffer =>
  Buffer.from([event, (end ? 0x80 : 0) | volume, duration >> 8, duration & 255]);

describe('decodeTelephoneEvent (RFC 4733 §2.3)', () => {
  it('decodes payloads seen in sipp-siprec__09a_2833_dtmf.pcap', () => {
    const out = new TelephoneEventPayload();
    const table: [string, number, boolean, number, number][] = [
      ['010d0001', 1, false, 13, 1],
      ['018d02f8', 1, true, 13, 760],
      ['0b0d0348', 11, false, 13, 840],
      ['0a8affff', 10, true, 10, 65535],
      ['10400000', 16, false, 0, 0], // R bit set: ignored
    ];
    for (const [hex, event, end, volume, duration] of table) {
      assert.equal(decodeTelephoneEvent(Buffer.from(hex, 'hex'), 0, 4, out), Status.Ok);
      assert.deepEqual([out.event, out.end, out.volume, out.duration], [event, end, volume, duration], hex);
    }
  });

  it('is Truncated below 4 bytes and never throws on random input', () => {
    const out = new TelephoneEventPayload();
    for (let n = 0; n < 4; n++) assert.equal(decodeTelephoneEvent(Buffer.alloc(n), 0, n, out), Status.Truncated);
    const rnd = prng(4733);
    for (let i = 0; i < 10000; i++) {
      const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 256)));
      const st = decodeTelephoneEvent(b, 0, b.length, out);
      assert.equal(st, b.length >= 4 ? Status.Ok : Status.Truncated);
    }
  });

  it('names DTMF digits, flash and the RFC 4734 tones', () => {
    assert.deepEqual(
      [0, 9, 10, 11, 12, 15, 16, 17, 32, 33, 34, 35, 36, 37, 255].map(eventName),
      ['0', '9', '*', '#', 'A', 'D', 'flash', 'event-17', 'ANS', '/ANS', 'ANSam', '/ANSam', 'CNG', 'event-37', 'event-255'],
    );
  });
});

function detect(feedFn: (d: DtmfDetector) => void, clockRate = 8000): DtmfEvent[] {
  const out: DtmfEvent[] = [];
  const d = new DtmfDetector((e) => out.push(e), clockRate);
  feedFn(d);
  d.flush();
  return out;
}
const push = (d: DtmfDetector, ts: number, marker: boolean, payload: Buffer, t: number): Status => d.push(ts, marker, payload, 0, payload.length, t);

describe('DtmfDetector', () => {
  it('folds a key press with 3 end packets into one event', () => {
    const out = detect((d) => {
      push(d, 1000, true, ev(5, false, 10, 160), 1);
      push(d, 1000, false, ev(5, false, 10, 320), 1.02);
      push(d, 1000, false, ev(5, true, 10, 400), 1.04);
      push(d, 1000, false, ev(5, true, 10, 400), 1.045);
      push(d, 1000, false, ev(5, true, 10, 400), 1.05);
    });
    assert.deepEqual(out, [{ digit: '5', event: 5, rtpTimestamp: 1000, firstArrival: 1, durationMs: 50, volume: 10, ended: true, packets: 3 }]);
  });

  it('reports an event whose end packets were lost when the next starts, or on flush', () => {
    const out = detect((d) => {
      push(d, 1000, true, ev(1, false, 10, 160), 1);
      push(d, 1000, false, ev(1, false, 10, 800), 1.1);
      push(d, 9000, true, ev(2, false, 10, 160), 2);
      push(d, 9000, false, ev(2, false, 10, 480), 2.04);
    });
    assert.deepEqual(
      out.map((e) => [e.digit, e.rtpTimestamp, e.durationMs, e.ended]),
      [
        ['1', 1000, 100, false],
        ['2', 9000, 60, false],
      ],
    );
  });

  it('takes an event seen only by its end packets, ignores late packets of past events', () => {
    const out = detect((d) => {
      push(d, 500, false, ev(11, true, 0, 800), 1);
      push(d, 500, false, ev(11, true, 0, 800), 1.01);
      push(d, 2000, true, ev(10, false, 0, 160), 2);
      push(d, 500, false, ev(11, true, 0, 800), 2.01); // a very late retransmission
      push(d, 2000, false, ev(10, true, 0, 320), 2.05);
    });
    assert.deepEqual(out.map((e) => [e.digit, e.ended, e.packets]), [
      ['#', true, 1],
      ['*', true, 2],
    ]);
  });

  it('joins the segments of a long event (§2.5.1.3) and uses the event clock', () => {
    const out = detect((d) => {
      push(d, 0, true, ev(0, false, 5, 48000), 0);
      push(d, 0, false, ev(0, false, 5, 65535), 1.4);
      push(d, 65535, false, ev(0, false, 5, 4800), 1.5);
      push(d, 65535, false, ev(0, true, 5, 9600), 1.6);
    }, 48000);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.rtpTimestamp, 0);
    assert.equal(out[0]!.durationMs, ((65535 + 9600) * 1000) / 48000);
  });

  it('passes decode failures through', () => {
    const out = detect((d) => assert.equal(push(d, 1, true, Buffer.alloc(3), 0), Status.Truncated));
    assert.equal(out.length, 0);
  });

  it('finds the 13 key presses of sipp-siprec__09a_2833_dtmf.pcap, as tshark does', async () => {
    const path = 'fixtures/sipp-siprec__09a_2833_dtmf.pcap';
    const [stream] = [...byStream((await readRtp(path)).packets).values()];
    const out = detect((d) => {
      for (const p of stream!) if (p.pt === 101) assert.equal(d.push(p.ts, p.marker, p.payload, 0, p.payload.length, p.time), Status.Ok);
    });
    assert.equal(out.map((e) => e.digit).join(''), '123456789**0#');
    assert.ok(out.every((e) => e.ended && e.volume === 13));
    // tshark: first end packet per event timestamp → event id, duration, timestamp.
    const theirs = tshark(['-r', path, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtpevent.end_of_event == 1 && !icmp', '-T', 'fields', '-e', 'rtp.timestamp', '-e', 'rtpevent.event_id', '-e', 'rtpevent.duration'])
      .trim()
      .split('\n')
      .map((l) => l.split('\t').map(Number))
      .filter((r, i, all) => all.findIndex((x) => x[0] === r[0]) === i);
    assert.deepEqual(
      out.map((e) => [e.rtpTimestamp, e.event, (e.durationMs * 8000) / 1000]),
      theirs,
    );
    // first arrivals are the marker packets' capture times
    const markers = stream!.filter((p) => p.pt === 101 && p.marker).map((p) => p.time);
    assert.deepEqual(out.map((e) => e.firstArrival), markers);
  });

  it('sipp__dtmf_2833_1.pcap: digit 1, 280 ms, the repeated end packets ignored', async () => {
    const [stream] = [...byStream((await readRtp('fixtures/sipp__dtmf_2833_1.pcap')).packets).values()];
    const out = detect((d) => {
      for (const p of stream!) d.push(p.ts, p.marker, p.payload, 0, p.payload.length, p.time);
    });
    assert.equal(out.length, 1);
    assert.deepEqual([out[0]!.digit, out[0]!.durationMs, out[0]!.ended, out[0]!.packets, out[0]!.volume], ['1', 280, true, 8, 10]);
  });
});
