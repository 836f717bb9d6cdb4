/**
 * W9's server: a plain Node HTTP server on 127.0.0.1 (no weft) in a process of its own, so that
 * answering costs neither the bench's driver nor its workers any time. `GET /<i>` answers
 * "page <i>" after DELAY_MS.
 *
 *   node bench/latency-server.mjs DELAY_MS   → prints "W9_READY http://127.0.0.1:PORT"
 *
 * It ends when its stdin closes or on SIGTERM.
 */
import http from "node:http";

const delayMs = Number(process.argv[2] ?? 100);
const server = http.createServer((request, response) => {
  setTimeout(() => response.end(`page ${(request.url ?? "/").slice(1)}`), delayMs);
});
// Keep-alive longer than a run (clients reuse their connections between warm-up and the clock).
server.keepAliveTimeout = 60_000;
// A backlog for 1,000 connections opened at once (the default, 511, drops SYNs: a second each).
server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => process.stdout.write(`W9_READY http://127.0.0.1:${server.address().port}\n`));
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
