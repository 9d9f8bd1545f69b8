import * as healpix from '@hscmap/healpix';
import { CatalogError } from './errors';
import type { BoxRegion, ConeRegion, PolygonRegion, Region } from './region';

/**
 * Which HEALPix pixels a region may touch. HEALPix itself (pixel centres, pixel sizes) comes from
 * @hscmap/healpix; this file is only the geometry glue between a pixel and a region.
 *
 * Every test works on a pixel's *bounding circle*: centre = the pixel centre (`pix2vec_nest`),
 * radius = `max_pixrad(nside)` (the largest centre-to-corner distance at that order; HEALPix
 * pixels lie inside it) plus a small safety margin. A pixel whose circle misses the region cannot
 * hold a matching row. A pixel whose circle meets the region is split into its four children,
 * recursively, down to a refinement order; it is kept if some descendant's circle still meets the
 * region. So nothing that holds a matching row is ever dropped, and what is kept in excess lies
 * within about one refinement-order pixel (plus the margin) of the region: for a partition at
 * order K refined to order K+R, the over-selection is partitions whose edge comes within roughly
 * 1/2^R of their own width of the region (the tests check: never more than hats' selection plus
 * its HEALPix neighbours).
 *
 * Why not the library's `query_disc_inclusive_nest`: it is limited to radii below 90 degrees and
 * enumerates every pixel of the disc at an order (4^order growth), while a catalog has a known,
 * smaller list of partitions: testing each partition is linear in the partition count (12,288
 * partitions take a few milliseconds) and one code path serves cone, box and polygon alike.
 */

type V3 = [number, number, number];

const DEG = Math.PI / 180;
/** Relative margin on max_pixrad: covers rounding and any corner/edge bulge beyond it. */
const PIXRAD_MARGIN = 1.01;

export function radecToVec(raDeg: number, decDeg: number): V3 {
  return healpix.ang2vec((90 - decDeg) * DEG, raDeg * DEG) as V3;
}

const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V3): number => Math.sqrt(dot(a, a));
const scale = (a: V3, s: number): V3 => [a[0] * s, a[1] * s, a[2] * s];
const normalize = (a: V3): V3 => scale(a, 1 / norm(a));

/** Angle between two unit vectors, accurate at small and large angles alike. */
function angleBetween(a: V3, b: V3): number {
  return Math.atan2(norm(cross(a, b)), dot(a, b));
}

/** A pixel's bounding circle: unit centre vector and angular radius in radians. */
export interface Circle {
  centre: V3;
  radius: number;
}

const pixradCache = new Map<number, number>();
export function pixelCircle(order: number, pixel: number): Circle {
  const nside = healpix.order2nside(order);
  let radius = pixradCache.get(order);
  if (radius === undefined) {
    radius = healpix.max_pixrad(nside) * PIXRAD_MARGIN;
    pixradCache.set(order, radius);
  }
  return { centre: healpix.pix2vec_nest(nside, pixel) as V3, radius };
}

/** @hscmap/healpix packs pixel bits in 32-bit integers: it handles orders up to 15. */
export const MAX_LIBRARY_ORDER = 15;

/**
 * May the pixel (order, pixel) hold a point of the region? Refines down to `refineTo` (see the
 * file comment). Pixels deeper than the library's limit are tested through their ancestor at that
 * order, which contains them: still conservative.
 */
export function pixelMayMeet(test: CircleTest, order: number, pixel: number, refineTo: number): boolean {
  if (order > MAX_LIBRARY_ORDER) {
    return pixelMayMeet(test, MAX_LIBRARY_ORDER, Math.floor(pixel / 4 ** (order - MAX_LIBRARY_ORDER)), refineTo);
  }
  if (!test(pixelCircle(order, pixel))) return false;
  if (order >= Math.min(refineTo, MAX_LIBRARY_ORDER)) return true;
  for (let child = 4 * pixel; child < 4 * pixel + 4; child++) {
    if (pixelMayMeet(test, order + 1, child, refineTo)) return true;
  }
  return false;
}

/** A predicate telling whether a circle may meet the region. */
export type CircleTest = (c: Circle) => boolean;

export function regionTest(region: Region): CircleTest {
  switch (region.type) {
    case 'cone':
      return coneTest(region);
    case 'box':
      return boxTest(region);
    case 'polygon':
      return polygonTest(region);
  }
}

function coneTest(cone: ConeRegion): CircleTest {
  const centre = radecToVec(cone.ra, cone.dec);
  const radius = (cone.radiusArcsec / 3600) * DEG;
  return c => angleBetween(centre, c.centre) <= radius + c.radius;
}

/**
 * Box: compare the circle's own ra/dec bounding box with the region's. The circle's dec extent is
 * dec ± radius; its ra half-width is asin(sin r / cos dec) (exact for a circle that does not
 * contain a pole; if it does, every ra is possible). Conservative, and the extra it admits is only
 * near the box's corners, on top of the bounding circle's own margin.
 */
function boxTest(box: BoxRegion): CircleTest {
  const [ra0, ra1] = box.ra;
  const [dec0, dec1] = box.dec;
  // ra range as start + eastward length; ra[0] > ra[1] wraps through 0
  const raLength = ra0 < ra1 ? ra1 - ra0 : 360 - ra0 + ra1;
  return c => {
    const { raDeg, decDeg } = vecToRadec(c.centre);
    const r = c.radius / DEG;
    if (decDeg + r < dec0 || decDeg - r > dec1) return false;
    if (decDeg + r >= 90 || decDeg - r <= -90 || raLength >= 360) return true;
    const sinHalf = Math.sin(c.radius) / Math.cos(decDeg * DEG);
    if (sinHalf >= 1) return true;
    const halfWidth = Math.asin(sinHalf) / DEG;
    return arcsOverlap(ra0, raLength, raDeg - halfWidth, 2 * halfWidth);
  };
}

function vecToRadec(v: V3): { raDeg: number; decDeg: number } {
  const { theta, phi } = healpix.vec2ang(v);
  return { raDeg: (phi / DEG + 360) % 360, decDeg: 90 - theta / DEG };
}

const mod360 = (x: number): number => ((x % 360) + 360) % 360;

/** Do the arcs [a, a + la] and [b, b + lb] (degrees, eastwards) of a circle overlap? */
function arcsOverlap(a: number, la: number, b: number, lb: number): boolean {
  return mod360(b - a) <= la || mod360(a - b) <= lb;
}

/**
 * Polygon with great-circle edges. A circle meets it if its centre is inside, or if its centre is
 * within `radius` of an edge: both are exact, so the only over-selection is the bounding circle's.
 * Inside-ness uses the gnomonic projection about the vertices' mean direction, which maps great
 * circles to straight lines, so a planar even-odd test is exact; that needs the polygon inside a
 * hemisphere around its mean direction.
 */
function polygonTest(polygon: PolygonRegion): CircleTest {
  const vertices = polygon.vertices.map(([ra, dec]) => radecToVec(ra, dec));
  const axis = hemisphereAxis(polygon, vertices);
  const plane = gnomonic(axis);
  const flat = vertices.map(v => plane(v)!);
  const edges = vertices.map((a, i) => edgeOf(a, vertices[(i + 1) % vertices.length]));
  // the polygon lies in the cap around `axis` reaching its farthest vertex (a cap under 90 degrees
  // is convex, so the edges between vertices stay in it): a cheap first reject for far pixels
  const capRadius = Math.max(...vertices.map(v => angleBetween(axis, v)));
  return c => {
    if (angleBetween(axis, c.centre) > capRadius + c.radius) return false;
    const p = plane(c.centre);
    if (p && insidePlanar(p, flat)) return true;
    return edges.some(e => distanceToEdge(c.centre, e) <= c.radius);
  };
}

function hemisphereAxis(polygon: PolygonRegion, vertices: V3[]): V3 {
  const sum = vertices.reduce<V3>((s, v) => [s[0] + v[0], s[1] + v[1], s[2] + v[2]], [0, 0, 0]);
  const fail = (why: string) => new CatalogError('invalid_region', `Invalid region: polygon ${why}`);
  if (norm(sum) < 1e-9) throw fail('must fit inside a hemisphere; its vertices are spread around the whole sky');
  const axis = normalize(sum);
  // 89.9 degrees: keep the projection numerically sane (tan grows without bound at 90)
  if (vertices.some(v => dot(v, axis) <= Math.cos(89.9 * DEG))) {
    throw fail('must fit inside a hemisphere (every vertex within 90 degrees of the polygon centre); split it into smaller polygons');
  }
  for (let i = 0; i < vertices.length; i++) {
    const j = (i + 1) % vertices.length;
    if (angleBetween(vertices[i], vertices[j]) < 1e-10) {
      const [ra, dec] = polygon.vertices[i];
      throw fail(`has the same vertex twice in a row ([${ra}, ${dec}], vertices ${i + 1} and ${j + 1}); remove one`);
    }
  }
  return axis;
}

/** Gnomonic projection about `axis`: point on the tangent plane, or null for the far hemisphere. */
function gnomonic(axis: V3): (v: V3) => [number, number] | null {
  const helper: V3 = Math.abs(axis[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const e1 = normalize(cross(helper, axis));
  const e2 = cross(axis, e1);
  return v => {
    const h = dot(v, axis);
    return h > 1e-12 ? [dot(v, e1) / h, dot(v, e2) / h] : null;
  };
}

function insidePlanar(p: [number, number], poly: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

interface Edge {
  a: V3;
  b: V3;
  normal: V3;
}

function edgeOf(a: V3, b: V3): Edge {
  return { a, b, normal: normalize(cross(a, b)) };
}

/** Angular distance from p to the minor great-circle arc a→b. */
function distanceToEdge(p: V3, e: Edge): number {
  const offPlane = dot(p, e.normal);
  const q: V3 = [p[0] - offPlane * e.normal[0], p[1] - offPlane * e.normal[1], p[2] - offPlane * e.normal[2]];
  // p's foot on the great circle lies between a and b when both turn the same way as a→b
  const between = dot(cross(e.a, q), e.normal) >= 0 && dot(cross(q, e.b), e.normal) >= 0;
  if (between && norm(q) > 1e-15) return Math.asin(Math.min(1, Math.abs(offPlane)));
  return Math.min(angleBetween(p, e.a), angleBetween(p, e.b));
}
