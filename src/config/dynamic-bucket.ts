// Dynamic buckets (Indico's s3-dynamic): a store writes each period's objects into its own
// bucket, named from a template. The period is the first segment of the stored key
// ("2026-11/uploads/a.pdf"), so a read finds its bucket from the key alone, with no lookup and
// no dependence on the clock. The bucket's name carries an HMAC of the period so nobody can
// guess the neighbouring buckets' names.
import { createHmac } from 'node:crypto';

export type Granularity = 'year' | 'month' | 'week';

export interface DynamicBucketSettings {
  readonly bucket: string;
  readonly bucketTemplate?: string | undefined;
  readonly bucketSecret?: string | undefined;
}

/** Where an object lives: its bucket and the key inside that bucket. */
export interface ObjectLocation {
  readonly Bucket: string;
  readonly Key: string;
}

const PLACEHOLDER = /<(year|month|week|suffix)>/g;
const SUFFIX_LENGTH = 10;
const PERIOD_PATTERNS: Record<Granularity, RegExp> = {
  year: /^(\d{4})$/,
  month: /^(\d{4})-(0[1-9]|1[0-2])$/,
  week: /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/,
};
/** S3's bucket naming rules (the strict, DNS-compatible subset). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The finest placeholder in the template decides how long a period lasts. */
export function granularityOf(template: string): Granularity {
  if (template.includes('<week>')) return 'week';
  if (template.includes('<month>')) return 'month';
  return 'year';
}

/** Problems with a template, for configuration validation (empty when it is usable). */
export function templateProblems(template: string, secret: string | undefined): string[] {
  const problems: string[] = [];
  if (!template.includes('<year>')) problems.push('bucketTemplate must contain <year>');
  if (template.includes('<week>') && template.includes('<month>')) problems.push('use either <month> or <week>, not both');
  if (template.includes('<suffix>') && secret === undefined) problems.push('<suffix> needs bucketSecret');
  if (!template.includes('<suffix>')) problems.push('bucketTemplate must contain <suffix> so bucket names cannot be guessed');
  const leftover = template.replace(PLACEHOLDER, '');
  if (/[<>]/.test(leftover)) problems.push('unknown placeholder (use <year>, <month>, <week>, <suffix>)');
  if (problems.length === 0) {
    const sample = bucketForPeriod(template, secret ?? '', periodOf(granularityOf(template), new Date(Date.UTC(2026, 0, 1))));
    if (!BUCKET_NAME.test(sample)) problems.push(`"${sample}" is not a valid bucket name (3-63 of a-z 0-9 . -)`);
  }
  return problems;
}

/** The period a moment falls in: "2026", "2026-11" or ISO week "2026-W48" (all UTC). */
export function periodOf(granularity: Granularity, when: Date): string {
  const year = when.getUTCFullYear();
  if (granularity === 'year') return String(year);
  if (granularity === 'month') return `${year}-${String(when.getUTCMonth() + 1).padStart(2, '0')}`;
  const { isoYear, week } = isoWeek(when);
  return `${isoYear}-W${String(week).padStart(2, '0')}`;
}

/** The period after `period` (for creating next period's bucket ahead of time). */
export function nextPeriod(granularity: Granularity, period: string): string {
  const start = periodStart(granularity, period);
  const days = granularity === 'week' ? 7 : granularity === 'month' ? 32 : 366;
  return periodOf(granularity, new Date(start.getTime() + days * 86_400_000));
}

export function bucketForPeriod(template: string, secret: string, period: string): string {
  const [year = '', second = ''] = period.split('-');
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (name === 'year') return year;
    if (name === 'month') return second;
    if (name === 'week') return second.toLowerCase();
    return suffixFor(secret, period);
  });
}

/** A short, lowercase HMAC of the period: unguessable without the secret, stable with it. */
export function suffixFor(secret: string, period: string): string {
  return createHmac('sha256', secret).update(`sluice-bucket:${period}`).digest('hex').slice(0, SUFFIX_LENGTH);
}

/**
 * Bucket and in-bucket key for a stored key. With a template, a first segment that names a
 * period selects that period's bucket and is stripped; any other key lives in `bucket`
 * (objects stored before dynamic buckets were turned on).
 */
export function locateObject(settings: DynamicBucketSettings, key: string): ObjectLocation {
  const template = settings.bucketTemplate;
  if (template === undefined) return { Bucket: settings.bucket, Key: key };
  const slash = key.indexOf('/');
  const first = slash < 0 ? '' : key.slice(0, slash);
  if (!PERIOD_PATTERNS[granularityOf(template)].test(first)) return { Bucket: settings.bucket, Key: key };
  return { Bucket: bucketForPeriod(template, settings.bucketSecret ?? '', first), Key: key.slice(slash + 1) };
}

/** Where a new object written at `when` goes: its stored key starts with the period. */
export function writeTarget(settings: DynamicBucketSettings & { bucketTemplate: string }, when: Date): { period: string; bucket: string } {
  const period = periodOf(granularityOf(settings.bucketTemplate), when);
  return { period, bucket: bucketForPeriod(settings.bucketTemplate, settings.bucketSecret ?? '', period) };
}

function isoWeek(when: Date): { isoYear: number; week: number } {
  // ISO 8601: weeks start on Monday; week 1 contains the year's first Thursday.
  const day = new Date(Date.UTC(when.getUTCFullYear(), when.getUTCMonth(), when.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const isoYear = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { isoYear, week };
}

function periodStart(granularity: Granularity, period: string): Date {
  const [yearText = '', second = ''] = period.split('-');
  const year = Number(yearText);
  if (granularity === 'year') return new Date(Date.UTC(year, 0, 1));
  if (granularity === 'month') return new Date(Date.UTC(year, Number(second) - 1, 1));
  // Monday of ISO week 1 is the Monday on or before January 4th.
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = Date.UTC(year, 0, 4 - ((jan4.getUTCDay() || 7) - 1));
  return new Date(monday + (Number(second.slice(1)) - 1) * 7 * 86_400_000);
}
