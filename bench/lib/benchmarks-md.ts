// Regenerates BENCHMARKS.md at the repository root: how to run, what each scenario means, the
// anchors from the design notes beside our numbers, and the latest run's results.
import { writeFile } from 'node:fs/promises';
import type { RunReport, WrittenReport } from './report.js';

const INTRO = `# Benchmarks

\`npm run bench\` measures Sluice side by side with what you would otherwise use — nginx serving
files itself, presigned S3 URLs, streaming through the app, nginx's \`image_filter\`, libvips'
\`vipsthumbnail\` — on this machine, on loopback, in the same run. Absolute numbers drift between
runs and machines; the **ratios** are the result.

## How to run

\`\`\`sh
npm run bench                     # everything, default sizes (≤ 15 min): 1 GiB downloads, 3 repetitions (B1: 5)
npm run bench -- --quick          # smaller and shorter (≤ 3 min): 128 MiB, 2 repetitions, 1 s wrk runs
npm run bench -- --only B1,B3     # a subset
npm run bench -- --out DIR --no-benchmarks-md   # write the report elsewhere, leave this file alone
\`\`\`

\`scripts/bootstrap.sh --bench\` installs the peers when missing (nginx's image_filter module,
libvips-tools, wrk, and desktop-base for B7's image corpus). Every run writes
\`bench/results/<timestamp>.json\` (raw samples), \`<timestamp>.md\` and SVG charts, and rewrites the
*Latest results* section below. Progress goes to stderr. Benchmarks never run in \`npm test\`
(\`test/unit/bench-smoke.test.ts\` only checks that the harness produces a report on a tiny input).

Method: the stack is the one the integration tests use — nginx running Sluice's own rendered
config, the app in-process, the transform worker as its own process, Swift s3api as a real S3.
Each scenario alternates Sluice and its peers (A B A B …, the first of each pair alternating),
repeats, and reports the median with min–max; ratios are Sluice / peer from the same run.
Clients are real tools in their own processes: curl for big transfers, wrk for request rates
(every run bounded by duration and timeouts). App CPU and RSS come from \`/proc\`.

## Scenarios

| # | what | peers | goal |
|---|---|---|---|
| B1 | big download from an fs store, nginx mode | the same nginx serving the file from a plain \`location\` | MB/s ratio ≥ 0.97 |
| B2 | big download from S3 (Swift s3api) | presigned GET straight from S3; Sluice \`stream\` mode; Sluice \`redirect\` mode | nginx mode ≥ 2× stream; app CPU per GiB ≤ 1% of stream; RSS growth ≤ 10 MB |
| B3 | 10 KB authorized downloads at 1…64 connections, HS256 and ES256 tokens | nginx static, no auth | req/s ≥ 0.60 of nginx static; p50/p99 added latency reported |
| B3C | the cold path: app CPU per authorized 10 KB download, the app in its own \`sluice serve\` process (from \`/proc/<pid>\`), every request a different token and file | a bare Koa app answering the same X-Accel-Redirect, same nginx, same measurement | ≤ 80 µs (HS256), ≤ 120 µs (ES256) |
| B4 | app CPU per request at 1 KB, 1 MB, 100 MB, 1 GiB | — (nginx static beside it for the throughput chart) | flat in size (we require ≤ 2× from smallest to largest) |
| B5 | 4K JPEG → fit 400×300 in JPEG, WebP, AVIF, cache off | nginx \`image_filter\` (JPEG); \`vipsthumbnail\` CLI | ≥ 1.2× image_filter img/s; ≤ 1.3× vipsthumbnail time per image |
| B6 | transform result from nginx's cache (still authorized per request) | nginx static file of the same bytes | req/s ratio ≥ 0.90 |
| B7 | bytes saved on a real image corpus (Debian wallpapers at 4K), SSIM on luma | the originals | negotiated thumbnails ≥ 90% saved; re-encodes reported as measured |
| B8 | transform storm: 64 clients, every size new | — | worker RSS bounded; 429s instead of collapse; recovery time; no crash |
| B9 | big download from an encrypted store (worker decrypts), fs and S3; 1 MiB Range slices at random offsets of the big encrypted object | the same bytes in a plain store sent by nginx itself | encrypted fs ≥ 0.25× plain sendfile (our bar: every byte passes one Node process); 1 MiB Range p50 ≤ 100 ms |

## Anchors (others' published numbers, quoted for scale — different machines and inputs)

| anchor | figure | compare with |
|---|---|---|
| audiobookshelf, X-Accel vs streaming through the app (2023) | 2.2× | B2 nginx mode / stream mode |
| imgproxy 2024, 2 vCPU, fit 512 | JPEG 79.6, WebP 22.0, AVIF 13.2 req/s | B5 Sluice img/s |
| Google, lossy WebP vs JPEG at equal SSIM | 25–34% smaller | B7 same-size WebP vs JPEG |

## Where goals are missed, and why

- **B3 and B6 (small requests vs nginx static): far below 0.60 / 0.90.** nginx answers a 10 KB
  static file in tens of microseconds of its own CPU; every Sluice request is a proxied round trip
  to the Node app first. The app costs a few hundred microseconds of CPU per authorized request on
  this machine (the table notes give the figure per run), so one event loop tops out near 1–2 k
  req/s while nginx static does 10–20 k. A CPU profile of the app under wrk (\`node --cpu-prof\`,
  HS256, 8 connections) showed about a quarter in HMAC verification because jose re-imported the
  HS256 secret as a CryptoKey on every verify; the key ring now imports it once (100 → 51–60 µs
  per verify; B3 went from 0.05–0.11× to 0.11–0.15×). The rest is socket writes on loopback
  (kernel TCP work charged to the app, about a fifth) and GC (about 15%); Koa, the router and the
  rule engine are small. These goals are not reachable with one Node process on 2 cores that also
  run nginx and wrk; running the app on more cores (several processes behind \`upstream
  sluice_app\`) is the lever.
- **B2 nginx mode ≥ 2× stream mode (when missed):** nginx mode runs at 0.75–0.95 of a presigned GET
  straight from S3, i.e. at the storage server's own speed; here that server is Swift's Python
  proxy on the same 2 cores (300–500 MB/s), which caps nginx mode while stream mode (Node piping the
  bytes) stays near 150–250 MB/s. The ratio is bounded by the storage, not by Sluice: one run reached
  2.9×, others 1.4–1.8×. The CPU column shows what the goal is about: stream mode costs the app ~3 CPU
  seconds per GiB, nginx mode nothing measurable.
- **B4 (flat in size) and B2's CPU share: below what this measurement can resolve.** In nginx
  mode the app's work per download does not depend on the size (it never touches the bytes). The
  app runs inside the benchmark process, which also burns ~1–2% of a core when idle (timers, GC,
  metrics) and ~14 ms of CPU each time it spawns curl (forking a large process). The tables report
  app CPU net of both, and the raw figure beside it; what is left at 1 GiB (a few ms per download,
  varying run to run by more than the decision itself costs) is the uncertainty of subtracting a
  background of ~10 ms per second over a multi-second transfer. B2 shows the same floor: the
  presigned-direct row, whose transfer never touches the app, still reads a few hundredths of a
  CPU-second per GiB. Resolving sub-millisecond per-request costs under multi-second transfers
  needs the app in its own process (\`sluice serve\`, sampled from \`/proc/<pid>\`) — not done yet.
- **B1 (≥ 0.97, when missed):** the per-run ratios straddle 1 (see the table) — both paths are
  nginx's sendfile; with other work on the machine the medians of five runs still differ by
  several percent in either direction between runs.
- **B2 CPU share in quick runs:** nginx mode costs the app a fixed amount per request (decision
  plus presigning); expressed "per GiB" it is inflated by 1 GiB / file size when the run uses a
  smaller file (\`--quick\`: 128 MiB → 8×).
- **B9 (encrypted stores), met, and what it costs:** a plain fs download is nginx's sendfile (the
  bytes never enter user space); an encrypted one passes every byte through one worker process
  (positioned reads, AES-256-GCM per 64 KiB chunk, a socket write to nginx): about a third of
  sendfile's rate on this machine, and a CPU profile shows garbage collection of the per-chunk
  buffers next to the cipher itself. Over S3 the storage server is the limit for both paths, so
  encrypted runs at ~0.9× of plain. More worker processes behind \`upstream sluice_worker\` scale
  it. A 1 MiB Range costs the header and at most two extra chunks.

## Latest results

`;

export async function writeBenchmarksMd(file: string, report: RunReport, written: WrittenReport, linkBase: string): Promise<void> {
  const caveat =
    report.profile.name === 'default'
      ? ''
      : `> This is a **${report.profile.name}** run (smaller files, fewer and shorter repetitions): treat the figures as indicative; \`npm run bench\` gives the full run.\n\n`;
  await writeFile(file, `${INTRO}${caveat}${written.body(linkBase)}`);
}
