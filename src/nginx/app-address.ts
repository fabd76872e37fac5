// Where the app listens (appHost) and how nginx reaches it (the rendered upstream).
import net from 'node:net';
import { isLoopback } from '../contract/loopback.js';

export { isLoopback };

/** host:port for nginx's upstream: a wildcard listen address is reached over loopback, IPv6 in brackets. */
export function appAddress(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return net.isIPv6(reachable) ? `[${reachable}]:${port}` : `${reachable}:${port}`;
}

/** The start-up warning for an app port others can reach (undefined on loopback). */
export function exposedAppWarning(appHost: string): string | undefined {
  if (isLoopback(appHost)) return undefined;
  return `appHost ${appHost} is not a loopback address: the app port (its auth_request endpoint trusts X-Original-URI, it answers raw X-Accel-Redirect and X-Sluice-* headers, /metrics) must be reachable by nginx only; firewall it or set appHost (SLUICE_APP_HOST) to 127.0.0.1`;
}
