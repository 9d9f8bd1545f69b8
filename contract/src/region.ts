import { z } from 'zod';
import { MAX_POLYGON_VERTICES, MAX_RADIUS_ARCSEC } from './limits';

/**
 * Sky regions a catalog run can be restricted to. All angles are ICRS degrees except the cone
 * radius, which is in arcseconds like lsdb's `cone_search(ra, dec, radius_arcsec)`.
 *
 * - cone: centre (ra, dec) and radius; 0 < radius <= 180 degrees (648000 arcsec).
 * - box: ra: [min, max], dec: [min, max]. Read ra as going *eastwards from ra[0] to ra[1]*: when
 *   ra[0] > ra[1] the range wraps through 0/360, so [350, 10] is the 20 degrees around ra = 0.
 *   [0, 360] is the whole circle. dec[0] must be below dec[1]. The ra edges are meridians and the
 *   dec edges are parallels (lines of constant dec), as in lsdb's `box_search`.
 * - polygon: at least 3 [ra, dec] vertices joined by great-circle arcs (as in lsdb's
 *   `polygon_search`); it must fit inside a hemisphere. Unlike lsdb we also accept concave
 *   polygons (the planner handles them), but they must not cross themselves.
 */

/** A number in [min, max] whose error names the field, the range and the value given. */
function angle(name: string, min: number, max: number, unit = 'degrees') {
  return z.number({ error: `${name} must be a number of ${unit}` }).superRefine((v, ctx) => {
    if (!Number.isFinite(v) || v < min || v > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be between ${min} and ${max} ${unit}; got ${v}` });
    }
  });
}

const ra = (name = 'ra') => angle(name, 0, 360);
const dec = (name = 'dec') => angle(name, -90, 90);

export const ConeRegion = z.object({
  type: z.literal('cone'),
  ra: ra(),
  dec: dec(),
  radiusArcsec: z.number({ error: 'radiusArcsec must be a number of arcseconds' }).superRefine((v, ctx) => {
    if (!Number.isFinite(v) || v <= 0 || v > MAX_RADIUS_ARCSEC) {
      ctx.addIssue({
        code: 'custom',
        message: `radiusArcsec must be greater than 0 and at most ${MAX_RADIUS_ARCSEC} (180 degrees); got ${v}`,
      });
    }
  }),
});

export const BoxRegion = z
  .object({
    type: z.literal('box'),
    ra: z.tuple([ra('ra[0]'), ra('ra[1]')], { error: 'ra must be a pair [min, max] of degrees' }),
    dec: z.tuple([dec('dec[0]'), dec('dec[1]')], { error: 'dec must be a pair [min, max] of degrees' }),
  })
  .superRefine((box, ctx) => {
    if (box.dec[0] >= box.dec[1]) {
      ctx.addIssue({
        code: 'custom',
        path: ['dec'],
        message: `dec[0] must be below dec[1]; got [${box.dec[0]}, ${box.dec[1]}]`,
      });
    }
    if (box.ra[0] === box.ra[1]) {
      ctx.addIssue({
        code: 'custom',
        path: ['ra'],
        message: `ra range is empty: ra[0] equals ra[1] (${box.ra[0]}); for the whole circle use [0, 360]`,
      });
    }
  });

export const PolygonRegion = z.object({
  type: z.literal('polygon'),
  vertices: z
    .array(z.tuple([ra('vertex ra'), dec('vertex dec')], { error: 'each vertex must be a pair [ra, dec] of degrees' }), {
      error: 'vertices must be a list of [ra, dec] pairs',
    })
    .superRefine((v, ctx) => {
      if (v.length < 3) {
        ctx.addIssue({ code: 'custom', message: `a polygon needs at least 3 vertices; got ${v.length}` });
      }
      if (v.length > MAX_POLYGON_VERTICES) {
        ctx.addIssue({ code: 'custom', message: `a polygon may have at most ${MAX_POLYGON_VERTICES} vertices; got ${v.length}` });
      }
    }),
});

export const Region = z.discriminatedUnion('type', [ConeRegion, BoxRegion, PolygonRegion], {
  error: 'region.type must be "cone", "box" or "polygon"',
});

export type ConeRegion = z.infer<typeof ConeRegion>;
export type BoxRegion = z.infer<typeof BoxRegion>;
export type PolygonRegion = z.infer<typeof PolygonRegion>;
export type Region = z.infer<typeof Region>;
