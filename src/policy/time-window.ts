// The `time` condition: an absolute window (after/before) and/or a weekly one (weekdays, hours),
// compiled once. Weekly windows are read in the configured IANA zone (default UTC), so a
// "09–17 Europe/Berlin" window follows daylight saving time.
import type { TimeWindowConfig } from '../config/policy-schema.js';

/** Whether the window holds at `now` (ms since the epoch). */
export type TimeCheck = (now: number) => boolean;

const WEEKDAY_INDEX: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

export function compileTimeWindow(window: TimeWindowConfig): TimeCheck {
  const after = window.after === undefined ? -Infinity : Date.parse(window.after);
  const before = window.before === undefined ? Infinity : Date.parse(window.before);
  const days = window.weekdays === undefined ? null : new Set(window.weekdays.map((day) => WEEKDAY_INDEX[day] as number));
  const hours = window.hours ?? null;
  const clock = wallClock(window.timeZone ?? 'UTC');
  return (now) => {
    // "after" is inclusive, "before" exclusive: back-to-back windows never overlap.
    if (now < after || now >= before) return false;
    if (days === null && hours === null) return true;
    const { weekday, hour } = clock(now);
    if (days !== null && !days.has(weekday)) return false;
    if (hours === null) return true;
    return hours.from < hours.to ? hour >= hours.from && hour < hours.to : hour >= hours.from || hour < hours.to;
  };
}

interface WallClock {
  /** 0 = Sunday. */
  readonly weekday: number;
  readonly hour: number;
}

function wallClock(timeZone: string): (now: number) => WallClock {
  if (timeZone === 'UTC') {
    return (now) => {
      const date = new Date(now);
      return { weekday: date.getUTCDay(), hour: date.getUTCHours() };
    };
  }
  const format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
  return (now) => {
    let weekday = 0;
    let hour = 0;
    for (const part of format.formatToParts(now)) {
      if (part.type === 'weekday') weekday = WEEKDAY_INDEX[part.value.toLowerCase()] ?? 0;
      if (part.type === 'hour') hour = Number(part.value);
    }
    return { weekday, hour };
  };
}
