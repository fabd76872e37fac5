// How many byte ranges one request may ask for, wherever nginx or storage builds the answer.
//
// One: a multipart/byteranges answer to many tiny ranges is larger than the file itself (part
// headers per range), browsers' media and PDF viewers ask for one range at a time, AWS S3 serves
// one range per GET anyway, and stream delivery (src/offload/stream.ts) serves one range as well.
// A request over the limit gets the whole file (200), exactly as a plain GET would.

export const MAX_RANGES = 1;

/** Request variable holding the client's Range only when it names one range, else empty. */
export const SINGLE_RANGE_VAR = '$sluice_single_range';

/**
 * http-level `map` for proxied storage, where nginx's max_ranges does not apply (the upstream
 * builds the 206 itself): a Range with more than one range is not forwarded at all.
 */
export function renderSingleRangeMap(): string[] {
  return [
    '# S3 locations forward a Range only when it names a single range (see max_ranges).',
    `map $http_range ${SINGLE_RANGE_VAR} {`,
    '    default "";',
    '    "~*^bytes=\\s*(\\d+-\\d*|-\\d+)\\s*$" $http_range;',
    '}',
  ];
}
