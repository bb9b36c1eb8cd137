import { request } from 'node:http';

/** GET http://host:port/metrics (the recorder's Prometheus endpoint): the body as text. */
export function scrapeMetrics(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host, port, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}
