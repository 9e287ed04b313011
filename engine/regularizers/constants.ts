/**
 * Constants of the communicability regularisers that the backend-neutral regularisers and
 * every backend's implementation share, so none of them takes them from another backend.
 */

/** The engine's corrected strength floor (the canonical workload's s_floor). */
export const DEFAULT_S_MIN = 1e-4;
/** The epsilon the paper adds to the strengths in the EMD variant (C*). */
export const EMD_EPS = 1e-10;
