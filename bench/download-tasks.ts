/**
 * The remote function of W9, in a module of its own because workers import it: it imports the
 * public API and W9's sizes only, and runs no driver code.
 */
import { remote } from "@weft/core";
import { W9_MAX_CONCURRENCY } from "./config.ts";

/** W9: one download; up to W9_MAX_CONCURRENCY of them overlap in one worker. */
export const fetchPage = remote({ maxConcurrency: W9_MAX_CONCURRENCY }, async function fetchPage(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
});
