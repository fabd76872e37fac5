// Runs in Chromium (plain browser JavaScript, loaded by make-clip.ts): draws every frame on a
// canvas and encodes it to VP8 with WebCodecs, one keyframe per second.
window.encodeClip = async ({ width, height, fps, seconds }) => {
  const chunks = [];
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      let binary = '';
      for (const byte of data) binary += String.fromCharCode(byte);
      chunks.push({ timeMs: Math.round(chunk.timestamp / 1000), keyFrame: chunk.type === 'key', base64: btoa(binary) });
    },
    error: (error) => {
      throw error;
    },
  });
  encoder.configure({ codec: 'vp8', width, height, bitrate: 600000, framerate: fps });
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d');
  for (let i = 0; i < fps * seconds; i++) {
    const t = i / fps;
    g.fillStyle = `hsl(${(t * 60) % 360} 60% 35%)`;
    g.fillRect(0, 0, width, height);
    g.fillStyle = '#fff';
    g.fillRect(Math.round((t / seconds) * (width - 40)), height / 2 - 20, 40, 40);
    for (let s = 0; s <= Math.floor(t); s++) g.fillRect(10 + s * 14, 10, 10, 10); // one square per elapsed second
    const frame = new VideoFrame(canvas, { timestamp: Math.round((i * 1000000) / fps) });
    encoder.encode(frame, { keyFrame: i % fps === 0 });
    frame.close();
  }
  await encoder.flush();
  return chunks;
};
