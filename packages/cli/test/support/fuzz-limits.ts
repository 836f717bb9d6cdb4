/**
 * The frame and batch limits of a fuzzed cluster (small, so that oversized frames and attachment
 * floods are cheap to send). No imports: set FUZZ_ENV in process.env before @weft/core loads, since
 * it reads WEFT_MAX_FRAME_BYTES and WEFT_MAX_BATCH_BYTES once.
 */
export const FUZZ_FRAME_BYTES = 64 * 1024;
export const FUZZ_BATCH_BYTES = 256 * 1024;
export const FUZZ_ENV = { WEFT_MAX_FRAME_BYTES: String(FUZZ_FRAME_BYTES), WEFT_MAX_BATCH_BYTES: String(FUZZ_BATCH_BYTES) };
