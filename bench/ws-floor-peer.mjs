/**
 * The ws floors of `pnpm bench --cluster`: what two plain Node processes (no weft) get over one
 * loopback WebSocket with the same `ws` and `msgpackr` that weft uses, the same socket options
 * (no compression, a zero mask on the client, as weft's client) and a small msgpackr message.
 *
 *   node bench/ws-floor-peer.mjs server BIG_BYTES        → prints "FLOOR_READY ws://127.0.0.1:PORT"
 *   node bench/ws-floor-peer.mjs client URL RTT_CALLS PIPELINED BIG_BYTES
 *                                                         → prints "FLOOR_RESULT {json}" and exits
 *
 * The client measures, after a warm-up: the median of RTT_CALLS sequential ping-pongs (µs),
 * PIPELINED request/reply messages sent without waiting (messages/s), and one BIG_BYTES binary
 * message server → client (GB/s, from the small request to the whole message received).
 * The server ends when its stdin closes or on SIGTERM.
 */
import { createRequire } from "node:module";

// ws and msgpackr are dependencies of @weft/core, not of the workspace root: resolve them from
// there, which also makes the floor use exactly the versions weft runs on.
const require = createRequire(new URL("../packages/core/package.json", import.meta.url));
const { WebSocket, WebSocketServer } = require("ws");
const { pack, unpack } = require("msgpackr");

const MAX_PAYLOAD = 256 * 1024 * 1024;
const zeroMask = (mask) => mask.fill(0);

function server(bigBytes) {
  // Made before the server is ready: the figure is moving the bytes, not making them.
  const big = Buffer.from(new Float64Array(bigBytes / 8).fill(1).buffer);
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: MAX_PAYLOAD });
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const msg = unpack(data);
      if (msg.op === "echo") ws.send(pack({ id: msg.id, v: msg.v }));
      else if (msg.op === "big") ws.send(big, { binary: true });
    });
  });
  wss.on("listening", () => process.stdout.write(`FLOOR_READY ws://127.0.0.1:${wss.address().port}\n`));
  const stop = () => wss.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}

async function client(url, rttCalls, pipelined, bigBytes) {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD, generateMask: zeroMask });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let onMessage = () => {};
  ws.on("message", (data) => onMessage(data));
  const next = () => new Promise((resolve) => { onMessage = resolve; });

  const roundTrip = async (i) => {
    const reply = next();
    ws.send(pack({ op: "echo", id: i, v: i }));
    const back = unpack(await reply);
    if (back.v !== i) throw new Error(`echo ${i} came back as ${back.v}`);
  };
  const burst = (n) => new Promise((resolve, reject) => {
    let seen = 0;
    onMessage = (data) => {
      const back = unpack(data);
      if (back.id !== seen) reject(new Error(`reply ${seen} came back as ${back.id}`));
      if (++seen === n) resolve();
    };
    for (let i = 0; i < n; i++) ws.send(pack({ op: "echo", id: i, v: i }));
  });
  const bigOne = async () => {
    const reply = next();
    const t0 = performance.now();
    ws.send(pack({ op: "big" }));
    const data = await reply;
    const s = (performance.now() - t0) / 1000;
    if (data.length !== bigBytes) throw new Error(`big message: expected ${bigBytes} bytes, got ${data.length}`);
    return s;
  };

  // Warm-up: compile both ends' paths, grow the socket buffers, let ws pool its buffers.
  for (let i = 0; i < 200; i++) await roundTrip(i);
  await burst(pipelined);
  await bigOne();

  const us = [];
  for (let i = 0; i < rttCalls; i++) {
    const t0 = performance.now();
    await roundTrip(i);
    us.push((performance.now() - t0) * 1000);
  }
  us.sort((a, b) => a - b);
  const t0 = performance.now();
  await burst(pipelined);
  const burstS = (performance.now() - t0) / 1000;
  const bigS = await bigOne();

  const result = { rtt_us: us[Math.ceil(0.5 * us.length) - 1], pipelined_msgs_per_s: pipelined / burstS, big_gb_per_s: bigBytes / bigS / 1e9 };
  process.stdout.write(`FLOOR_RESULT ${JSON.stringify(result)}\n`);
  ws.close();
}

const [role, ...args] = process.argv.slice(2);
if (role === "server") server(Number(args[0]));
else if (role === "client") {
  client(args[0], Number(args[1]), Number(args[2]), Number(args[3])).catch((error) => {
    console.error(`ws-floor-peer client: ${error.stack ?? error}`);
    process.exit(1);
  });
} else {
  console.error("usage: ws-floor-peer.mjs server BIG_BYTES | client URL RTT_CALLS PIPELINED BIG_BYTES");
  process.exit(2);
}
