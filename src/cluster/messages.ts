// The two IPC messages between the primary and the processes it supervises.

/** Child → primary: serving, and listening for SHUTDOWN_REQUEST. */
export const READY_NOTICE = { sluice: 'ready' } as const;
/** Primary → child: stop accepting, drain, exit 0. */
export const SHUTDOWN_REQUEST = { sluice: 'shutdown' } as const;

export function isReadyNotice(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { sluice?: unknown }).sluice === READY_NOTICE.sluice;
}

export function isShutdownRequest(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { sluice?: unknown }).sluice === SHUTDOWN_REQUEST.sluice;
}
