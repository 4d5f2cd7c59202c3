// The AWS latencies of a simulated run, drawn reproducibly from a seed within the ranges of assumptions.ts.
import { AWS_ASSUMPTIONS, type AssumptionName, type Range } from './assumptions.js';

/** mulberry32: small, seeded, good enough to draw latencies reproducibly. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Draw = (name: AssumptionName) => number;

/** Draws each assumption uniformly within its range (a fixed value is returned as it is). */
export function drawer(next: () => number): Draw {
  return (name) => {
    const s: number | Range = AWS_ASSUMPTIONS[name].seconds;
    return typeof s === 'number' ? s : s.min + (s.max - s.min) * next();
  };
}
