import { readFileSync } from 'node:fs';

/** Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22), or null if gone. */
export function processStartTicks(pid: number): number | null {
  const stat = readStat(pid);
  return stat ? stat.startTicks : null;
}

interface Stat {
  state: string;
  startTicks: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  const startTicks = Number(rest[19]);
  return Number.isFinite(startTicks) ? { state: rest[0], startTicks } : null;
}

/**
 * True when the process with this pid is alive and is the one that was started
 * (same start time), so a reused pid is not mistaken for the job.
 */
export function isSameProcessAlive(pid: number, startTicks: number | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTicks === null || stat.startTicks === startTicks;
}

/** Signal a whole process group; false when it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
