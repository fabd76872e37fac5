import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PLAN, type Gravity, type TransformPlan } from '../../src/transform/plan.js';
import { computeGeometry } from '../../src/transform/pipeline/geometry.js';
import { calcPosition, cropRect, gravityInSourceFrame, orientRect } from '../../src/transform/pipeline/position.js';

const MAX = 8192;
const geometry = (width: number, height: number, plan: Partial<TransformPlan>) => computeGeometry({ width, height }, { ...DEFAULT_PLAN, ...plan }, MAX);
const scaled = (g: ReturnType<typeof geometry>): [number, number] => [g.scaledWidth, g.scaledHeight];

describe('resize geometry (imgproxy semantics)', () => {
  it('fit keeps the aspect ratio inside the box', () => {
    assert.deepEqual(scaled(geometry(3840, 2160, { width: 400, height: 300 })), [400, 225]);
    assert.deepEqual(scaled(geometry(4000, 3000, { width: 400, height: 300 })), [400, 300]);
    assert.deepEqual(scaled(geometry(3000, 4000, { width: 400 })), [400, 533], 'one side given: the other follows');
  });

  it('fill covers the box and crops the overflow; force stretches', () => {
    const fill = geometry(3840, 2160, { resizingType: 'fill', width: 400, height: 300 });
    assert.deepEqual([...scaled(fill), fill.resultCropWidth, fill.resultCropHeight], [533, 300, 400, 300]);
    assert.deepEqual(scaled(geometry(3840, 2160, { resizingType: 'force', width: 400, height: 300 })), [400, 300]);
  });

  it('auto fills when source and box have the same orientation, else fits', () => {
    assert.deepEqual(scaled(geometry(3840, 2160, { resizingType: 'auto', width: 400, height: 300 })), [533, 300]);
    assert.deepEqual(scaled(geometry(3840, 2160, { resizingType: 'auto', width: 300, height: 400 })), [300, 169]);
  });

  it('never enlarges unless asked', () => {
    assert.deepEqual(scaled(geometry(200, 100, { width: 400, height: 400 })), [200, 100]);
    assert.deepEqual(scaled(geometry(200, 100, { width: 400, height: 400, enlarge: true })), [400, 200]);
  });

  it('fill-down keeps the requested aspect ratio when the source is too small', () => {
    const g = geometry(300, 200, { resizingType: 'fill-down', width: 400, height: 400 });
    assert.deepEqual([...scaled(g), g.resultCropWidth, g.resultCropHeight], [300, 200, 200, 200]);
  });

  it('multiplies by dpr, but not beyond the source', () => {
    const g = geometry(1000, 1000, { width: 100, height: 100, dpr: 2 });
    assert.deepEqual([...scaled(g), g.targetWidth, g.dprScale], [200, 200, 200, 2]);
    assert.deepEqual(scaled(geometry(150, 150, { width: 100, height: 100, dpr: 2 })), [150, 150]);
  });

  it('honours zoom and minimum sizes', () => {
    assert.deepEqual(scaled(geometry(1000, 500, { zoomX: 0.5, zoomY: 0.5 })), [500, 250]);
    assert.deepEqual(scaled(geometry(1000, 500, { width: 100, height: 100 })), [100, 50]);
    assert.deepEqual(scaled(geometry(1000, 500, { width: 100, height: 100, minWidth: 200 })), [200, 100]);
  });

  it('crops before scaling (pixels or fractions) and extends to the aspect ratio', () => {
    const g = geometry(1000, 800, { crop: { width: 0.5, height: 400, gravity: null }, width: 250 });
    assert.deepEqual([g.cropWidth, g.cropHeight, ...scaled(g)], [500, 400, 250, 200]);
    const ar = geometry(1000, 500, { width: 300, height: 300, extendAspectRatio: { enabled: true, gravity: null } });
    assert.deepEqual([ar.extendAspectRatioWidth, ar.extendAspectRatioHeight], [300, 300]);
  });

  it('scales results down to the maximum dimension, padding included', () => {
    assert.deepEqual(scaled(geometry(20000, 10000, {})), [8192, 4096]);
    const padded = computeGeometry({ width: 1000, height: 1000 }, { ...DEFAULT_PLAN, padding: { top: 0, right: 100, bottom: 0, left: 100 } }, 600);
    assert.deepEqual(scaled(padded), [500, 500]);
  });
});

describe('placement', () => {
  const g = (type: Gravity['type'], x = 0, y = 0): Gravity => ({ type, x, y });

  it('places by compass gravity with inward offsets, by focus point, and clamps', () => {
    assert.deepEqual(calcPosition(100, 80, 20, 10, g('ce'), 1, false), { left: 40, top: 35 });
    assert.deepEqual(calcPosition(100, 80, 20, 10, g('soea', 5, 6), 1, false), { left: 75, top: 64 });
    assert.deepEqual(calcPosition(100, 80, 20, 10, g('nowe', 5, 6), 2, false), { left: 10, top: 12 }, 'pixel offsets scale with dpr');
    assert.deepEqual(calcPosition(100, 80, 20, 10, g('no', 0.1, 0), 1, false), { left: 50, top: 0 }, 'offsets below 1 are fractions');
    assert.deepEqual(calcPosition(100, 80, 20, 10, g('fp', 0.9, 0.5), 1, false), { left: 80, top: 35 });
    assert.deepEqual(calcPosition(100, 80, 20, 10, g('fp', 1, 1), 1, true), { left: 90, top: 75 }, 'overflow allowed for watermarks');
  });

  // EXIF orientation n = "rotate clockwise by angle, then mirror if flop": the same transform
  // as the URL's rotate + horizontal flip.
  const ORIENTATIONS: [number, 0 | 90 | 180 | 270, boolean][] = [
    [1, 0, false],
    [2, 0, true],
    [3, 180, false],
    [4, 180, true],
    [5, 90, true],
    [6, 90, false],
    [7, 270, true],
    [8, 270, false],
  ];
  const GRAVITIES = [
    g('ce'),
    g('ce', 7, 3),
    g('no', 4, 2),
    g('so', 0.1, 3),
    g('ea', 5, -4),
    g('we', 2, 6),
    g('noea', 3, 4),
    g('nowe', 1, 2),
    g('soea', 6, 1),
    g('sowe', 0.05, 0.1),
    g('fp', 0.2, 0.7),
  ];

  it('maps a crop gravity back through rotation and flips: cropping then turning = turning then cropping', () => {
    const [W, H] = [100, 60];
    for (const [orientation, angle, flop] of ORIENTATIONS) {
      const quarter = angle % 180 === 90;
      const [finalW, finalH] = quarter ? [H, W] : [W, H];
      const [cropW, cropH] = quarter ? [20, 40] : [40, 20];
      for (const gravity of GRAVITIES) {
        const wanted = cropRect(finalW, finalH, cropW, cropH, gravity, 1);
        const inSource = cropRect(W, H, quarter ? cropH : cropW, quarter ? cropW : cropH, gravityInSourceFrame(gravity, angle, flop, false), 1);
        assert.deepEqual(orientRect(inSource, W, H, orientation), wanted, `orientation ${orientation}, gravity ${JSON.stringify(gravity)}`);
      }
    }
  });

  it('maps a vertical flip like a 180° turn plus a horizontal flip', () => {
    for (const gravity of GRAVITIES.filter((candidate) => candidate.type !== 'fp')) {
      assert.deepEqual(gravityInSourceFrame(gravity, 0, false, true), gravityInSourceFrame(gravity, 180, true, false));
    }
    const point = gravityInSourceFrame(g('fp', 0.2, 0.7), 0, false, true);
    assert.deepEqual([point.type, point.x, Number(point.y.toFixed(9))], ['fp', 0.2, 0.3]);
    assert.deepEqual(gravityInSourceFrame(g('sm'), 90, true, true), g('sm'));
  });
});
