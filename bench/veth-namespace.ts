import { spawnSync } from 'node:child_process';

/**
 * A network namespace of our own holding a veth pair (both ends up, no addresses): frames written
 * on `gen` arrive on `rec`, where a capture sees them, and go nowhere else. Used by the capacity
 * bench and its test (issue 8: only loopback or our own namespaces). Needs root and iproute2.
 */
export interface VethNamespace {
  readonly name: string;
  readonly gen: string;
  readonly rec: string;
  /** argv prefix running a command inside the namespace. */
  readonly exec: string[];
  remove(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/**
 * Removes namespaces `<prefix><pid>` whose process is gone (a run killed before its clean-up), so
 * repeated runs never pile them up.
 */
export function removeStaleNamespaces(prefix: string): void {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of (r.stdout ?? '').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
    } catch {
      spawnSync('ip', ['netns', 'del', name]);
    }
  }
}

export function makeVethNamespace(name: string, gen = 'gen0', rec = 'rec0'): VethNamespace {
  ip('netns', 'add', name);
  const remove = (): void => void spawnSync('ip', ['netns', 'del', name]);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'link', 'add', gen, 'type', 'veth', 'peer', 'name', rec);
    ip('-n', name, 'link', 'set', gen, 'up');
    ip('-n', name, 'link', 'set', rec, 'up');
  } catch (e) {
    remove();
    throw e;
  }
  return { name, gen, rec, exec: ['ip', 'netns', 'exec', name], remove };
}
