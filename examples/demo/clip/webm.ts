// A minimal WebM (Matroska) muxer for one VP8 video track: EBML header, SeekHead, Info with a
// duration, Tracks, one Cluster per keyframe, and Cues, so browsers can seek without scanning.
// Enough for the demo clip; not a general-purpose muxer.

export interface EncodedFrame {
  /** Presentation time in milliseconds. */
  readonly timeMs: number;
  readonly keyFrame: boolean;
  readonly data: Uint8Array;
}

export interface WebmTrack {
  readonly width: number;
  readonly height: number;
  readonly durationMs: number;
}

const ID = {
  EBML: 0x1a45dfa3,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  CodecID: 0x86,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,
  Cues: 0x1c53bb6b,
  CuePoint: 0xbb,
  CueTime: 0xb3,
  CueTrackPositions: 0xb7,
  CueTrack: 0xf7,
  CueClusterPosition: 0xf1,
} as const;

function idBytes(id: number): Buffer {
  const bytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes);
}

/** Element size as an 8-byte EBML varint: fixed width keeps offsets predictable. */
function sizeBytes(size: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(size) | (1n << 56n));
  return out;
}

function element(id: number, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  return Buffer.concat([idBytes(id), sizeBytes(body.length), body]);
}

function uint(id: number, value: number, width = 0): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0 || bytes.length === 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  while (bytes.length < width) bytes.unshift(0);
  return element(id, Buffer.from(bytes));
}

function float(id: number, value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleBE(value);
  return element(id, out);
}

const text = (id: number, value: string): Buffer => element(id, Buffer.from(value, 'ascii'));

function simpleBlock(frame: EncodedFrame, clusterMs: number): Buffer {
  const header = Buffer.alloc(4);
  header[0] = 0x81; // track 1
  header.writeInt16BE(frame.timeMs - clusterMs, 1);
  header[3] = frame.keyFrame ? 0x80 : 0x00;
  return element(ID.SimpleBlock, header, Buffer.from(frame.data));
}

/** Frames in presentation order; the first must be a keyframe. */
export function muxWebm(track: WebmTrack, frames: readonly EncodedFrame[]): Buffer {
  if (frames[0]?.keyFrame !== true) throw new Error('the first frame must be a keyframe');
  const header = element(ID.EBML, uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8), text(0x4282, 'webm'), uint(0x4287, 2), uint(0x4285, 2));
  const info = element(
    ID.Info,
    uint(ID.TimecodeScale, 1_000_000),
    float(ID.Duration, track.durationMs),
    text(ID.MuxingApp, 'sluice-demo'),
    text(ID.WritingApp, 'sluice-demo'),
  );
  const tracks = element(
    ID.Tracks,
    element(
      ID.TrackEntry,
      uint(ID.TrackNumber, 1),
      uint(ID.TrackUID, 1),
      uint(ID.TrackType, 1),
      text(ID.CodecID, 'V_VP8'),
      element(ID.Video, uint(ID.PixelWidth, track.width), uint(ID.PixelHeight, track.height)),
    ),
  );
  const groups: EncodedFrame[][] = [];
  for (const frame of frames) {
    if (frame.keyFrame || groups.length === 0) groups.push([]);
    groups[groups.length - 1]?.push(frame);
  }
  const clusters = groups.map((group) => {
    const start = group[0]?.timeMs ?? 0;
    return { start, bytes: element(ID.Cluster, uint(ID.Timecode, start), ...group.map((f) => simpleBlock(f, start))) };
  });
  // Offsets are relative to the Segment's data; the SeekHead has a fixed size (8-byte positions).
  const seekHead = (infoAt: number, tracksAt: number, cuesAt: number): Buffer =>
    element(
      ID.SeekHead,
      ...(
        [
          [ID.Info, infoAt],
          [ID.Tracks, tracksAt],
          [ID.Cues, cuesAt],
        ] as const
      ).map(([id, at]) => element(ID.Seek, element(ID.SeekID, idBytes(id)), uint(ID.SeekPosition, at, 8))),
    );
  const seekSize = seekHead(0, 0, 0).length;
  let offset = seekSize + info.length + tracks.length;
  const cuePoints = clusters.map((cluster) => {
    const point = element(
      ID.CuePoint,
      uint(ID.CueTime, cluster.start),
      element(ID.CueTrackPositions, uint(ID.CueTrack, 1), uint(ID.CueClusterPosition, offset, 8)),
    );
    offset += cluster.bytes.length;
    return point;
  });
  const cues = element(ID.Cues, ...cuePoints);
  const seek = seekHead(seekSize, seekSize + info.length, offset);
  return Buffer.concat([header, element(ID.Segment, seek, info, tracks, ...clusters.map((c) => c.bytes), cues)]);
}
