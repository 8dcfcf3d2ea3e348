/** Exponentially weighted mean and variance of a per-minute series (Finch 2009, incremental form). */
export interface Ewma {
  mean: number;
  variance: number;
  /** Minutes folded in so far (idle minutes included): the cold-start rule reads it. */
  n: number;
}

export const EMPTY_EWMA: Ewma = { mean: 0, variance: 0, n: 0 };

/** Folds one observation in: μ += α·δ; σ² = (1−α)(σ² + α·δ²) with δ = x − μ. */
export function ewmaUpdate(state: Ewma, x: number, alpha: number): Ewma {
  if (state.n === 0) return { mean: x, variance: 0, n: 1 };
  const delta = x - state.mean;
  const increment = alpha * delta;
  return {
    mean: state.mean + increment,
    variance: (1 - alpha) * (state.variance + delta * increment),
    n: state.n + 1,
  };
}

/** Beyond this many idle minutes the old mean weighs (1−α)^240 ≈ 0: folding more changes nothing. */
const MAX_IDLE_FOLD = 240;

/** Folds `minutes` idle (zero) minutes in, so a key that went quiet has a quiet baseline. */
export function ewmaIdle(state: Ewma, minutes: number, alpha: number): Ewma {
  let next = state;
  const steps = Math.min(minutes, MAX_IDLE_FOLD);
  for (let i = 0; i < steps; i++) next = ewmaUpdate(next, 0, alpha);
  return { ...next, n: state.n + minutes };
}

/**
 * z-score of `x` against the baseline. The standard deviation is floored at √max(μ,1), the
 * Poisson noise of a count with that mean, so a perfectly steady key isn't infinitely sensitive.
 */
export function zScore(state: Ewma, x: number): number {
  const sd = Math.max(Math.sqrt(state.variance), Math.sqrt(Math.max(state.mean, 1)));
  return (x - state.mean) / sd;
}

/** Caps what an anomalous minute teaches the baseline, so a long attack can't become "normal" fast. */
export function winsorize(state: Ewma, x: number, z: number): number {
  if (state.n === 0) return x;
  const sd = Math.max(Math.sqrt(state.variance), Math.sqrt(Math.max(state.mean, 1)));
  return Math.min(x, state.mean + z * sd);
}
