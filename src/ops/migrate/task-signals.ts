// One signal per parallel task, fed by a single listener on the run's signal. Every SDK call
// and stream adds an 'abort' listener to the signal it is given; handing the run's one signal
// to N parallel tasks piled N× that onto it (Node's MaxListenersExceededWarning at 11). Here
// the run's signal carries exactly one listener, and each task's own signal only the few of
// its own sequential steps.
export interface TaskSignals {
  /** Runs `task` with a signal that aborts when the run's signal does. */
  run<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Removes the listener from the run's signal. */
  dispose(): void;
}

export function taskSignals(parent: AbortSignal): TaskSignals {
  const live = new Set<AbortController>();
  const onAbort = (): void => {
    for (const controller of live) controller.abort(parent.reason);
  };
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    async run(task) {
      const controller = new AbortController();
      if (parent.aborted) controller.abort(parent.reason);
      live.add(controller);
      try {
        return await task(controller.signal);
      } finally {
        live.delete(controller);
      }
    },
    dispose() {
      parent.removeEventListener('abort', onAbort);
    },
  };
}
