import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Counters } from '../../../recorder/core/counters.js';
import { endReasonLabel, RecorderMetrics, startOpsServer, type CaptureTotals, type OpsServer } from '../../../recorder/ops/metrics.js';

interface Reply {
  status: number;
  type: string;
  body: string;
}

function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Prometheus text exposition → `name{labels}` → value (labels as printed, in prom-client's order). */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}

describe('RecorderMetrics over HTTP', () => {
  const counters = new Counters();
  const capture: CaptureTotals[] = [{ input: 'eth1', packets: 10, bytes: 1500, kernelDrops: 0, ifDrops: 0 }];
  let active = 2;
  let healthy = true;
  const metrics = new RecorderMetrics({ counters, capture: () => capture, activeCalls: () => active, mediaQueueDepth: () => 3, mediaQueueLag: () => 1.5, spoolWrites: () => 42 });
  let server: OpsServer;

  before(async () => {
    server = await startOpsServer('127.0.0.1:0', metrics.registry, () => ({ ok: healthy, detail: { capture: healthy ? 'running' : 'eth1 down', activeCalls: active } }));
  });
  after(() => server.close());

  it('serves the text format with every recorder metric and process metrics', async () => {
    const r = await get(server.port, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const m = parseExposition(r.body);
    assert.equal(m.get('recorder_packets_total{input="eth1"}'), 10);
    assert.equal(m.get('recorder_bytes_total{input="eth1"}'), 1500);
    assert.equal(m.get('recorder_capture_kernel_drops_total{input="eth1"}'), 0);
    assert.equal(m.get('recorder_capture_if_drops_total{input="eth1"}'), 0);
    assert.equal(m.get('recorder_active_calls'), 2);
    assert.equal(m.get('recorder_media_queue_depth'), 3);
    assert.equal(m.get('recorder_media_queue_lag_seconds'), 1.5);
    assert.equal(m.get('recorder_spool_writes_total'), 42);
    assert.equal(m.get('recorder_unattached_streams'), 0);
    assert.equal(m.get('recorder_recordings_written_total'), 0);
    assert.equal(m.get('recorder_media_job_seconds_count'), 0);
    for (const name of ['recorder_malformed_total', 'recorder_calls_total']) assert.match(r.body, new RegExp(`# TYPE ${name} counter`));
    assert.ok(m.has('process_cpu_user_seconds_total') && m.has('nodejs_heap_size_used_bytes'), 'process metrics');
  });

  it('values follow their sources at the next scrape', async () => {
    counters.inc('rtp.truncated', 3);
    counters.inc('sip.bad_start_line');
    capture[0] = { input: 'eth1', packets: 25, bytes: 4000, kernelDrops: 7, ifDrops: 1 };
    capture.push({ input: 'hep', packets: 5, bytes: 600, kernelDrops: 0, ifDrops: 0 });
    active = 0;
    metrics.callEnded('bye');
    metrics.callEnded('rejected 486');
    metrics.callEnded('rejected 603');
    metrics.recordingsWritten.inc();
    metrics.unattachedStreams.set(4);
    metrics.mediaJobSeconds.observe(0.3);
    metrics.mediaJobSeconds.observe(12);
    const m = parseExposition((await get(server.port, '/metrics')).body);
    assert.equal(m.get('recorder_malformed_total{reason="rtp.truncated"}'), 3);
    assert.equal(m.get('recorder_malformed_total{reason="sip.bad_start_line"}'), 1);
    assert.equal(m.get('recorder_packets_total{input="eth1"}'), 25);
    assert.equal(m.get('recorder_packets_total{input="hep"}'), 5);
    assert.equal(m.get('recorder_capture_kernel_drops_total{input="eth1"}'), 7);
    assert.equal(m.get('recorder_capture_if_drops_total{input="eth1"}'), 1);
    assert.equal(m.get('recorder_active_calls'), 0);
    assert.equal(m.get('recorder_calls_total{end_reason="bye"}'), 1);
    assert.equal(m.get('recorder_calls_total{end_reason="rejected"}'), 2);
    assert.equal(m.get('recorder_recordings_written_total'), 1);
    assert.equal(m.get('recorder_unattached_streams'), 4);
    assert.equal(m.get('recorder_media_job_seconds_count'), 2);
    assert.equal(m.get('recorder_media_job_seconds_bucket{le="0.5"}'), 1);
    assert.equal(m.get('recorder_media_job_seconds_bucket{le="+Inf"}'), 2);
    assert.equal(m.get('recorder_media_job_seconds_sum'), 12.3);

    // Scraping twice does not double the copied totals.
    const again = parseExposition((await get(server.port, '/metrics')).body);
    assert.equal(again.get('recorder_malformed_total{reason="rtp.truncated"}'), 3);
    assert.equal(again.get('recorder_packets_total{input="eth1"}'), 25);
  });

  it('healthz: 200 with JSON when healthy, 503 when not', async () => {
    healthy = true;
    const ok = await get(server.port, '/healthz');
    assert.equal(ok.status, 200);
    assert.equal(ok.type, 'application/json');
    assert.deepEqual(JSON.parse(ok.body), { ok: true, capture: 'running', activeCalls: 0 });
    healthy = false;
    const bad = await get(server.port, '/healthz');
    assert.equal(bad.status, 503);
    assert.deepEqual(JSON.parse(bad.body), { ok: false, capture: 'eth1 down', activeCalls: 0 });
  });

  it('other paths are 404, other methods 405, query strings ignored, HEAD has no body', async () => {
    assert.equal((await get(server.port, '/')).status, 404);
    assert.equal((await get(server.port, '/metrics/x')).status, 404);
    assert.equal((await get(server.port, '/metrics', 'POST')).status, 405);
    assert.equal((await get(server.port, '/metrics?name[]=x')).status, 200);
    const head = await get(server.port, '/healthz', 'HEAD');
    assert.equal(head.status, 503);
    assert.equal(head.body, '');
  });
});

describe('startOpsServer', () => {
  it('a health check that throws reports 503 with the error', async () => {
    const s = await startOpsServer('127.0.0.1:0', new RecorderMetrics({}, { processMetrics: false }).registry, () => {
      throw new Error('index unreadable');
    });
    const r = await get(s.port, '/healthz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { ok: false, error: 'index unreadable' });
    await s.close();
  });

  it('a bad listen address or a busy port rejects with a clear message', async () => {
    const reg = new RecorderMetrics({}, { processMetrics: false }).registry;
    await assert.rejects(startOpsServer('nonsense', reg, () => ({ ok: true, detail: {} })), /ops server: nonsense: expected host:port/);
    const first = await startOpsServer('127.0.0.1:0', reg, () => ({ ok: true, detail: {} }));
    await assert.rejects(startOpsServer(`127.0.0.1:${first.port}`, reg, () => ({ ok: true, detail: {} })), /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    await first.close();
  });

  it('two metric sets in one process do not clash (no global registry)', () => {
    assert.doesNotThrow(() => [new RecorderMetrics(), new RecorderMetrics()]);
  });

  it('endReasonLabel keeps the label set small', () => {
    assert.equal(endReasonLabel('rejected 486'), 'rejected');
    assert.equal(endReasonLabel('capture-end'), 'capture-end');
    assert.equal(endReasonLabel('BYE'), 'bye');
    assert.equal(endReasonLabel(''), 'unknown');
  });
});
