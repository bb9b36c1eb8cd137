import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * `host:port` as written in the config and on the command line: `127.0.0.1:9091`, `[::1]:9091`,
 * `localhost:9091`. Port 0 asks the OS for a free port (tests). Returns an error text instead of
 * throwing, so the config validator can put it after the key path.
 */
export function parseListen(text: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return 'expected host:port (IPv6 in brackets: [::1]:9091)';
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is out of range 0-65535`;
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined ? isIP(host) !== 6 : isIP(host) !== 4 && !HOSTNAME.test(host)) return `"${host}" is not an IP address or host name`;
  return { host, port };
}
