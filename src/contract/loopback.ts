// Which listen addresses only this machine reaches: the app's and the worker's start-up warnings
// and nginx's upstream defaults all ask the same question.
import net from 'node:net';

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost": reachable from this machine only. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}
