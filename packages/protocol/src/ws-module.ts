/**
 * The `ws` package, loaded at its first use rather than with @weft/protocol: worker threads
 * import this package and never open a WebSocket, and loading ws (CommonJS, a dozen files through
 * the ESM loader) was a fifth of a worker's start-up.
 */
import { createRequire } from 'node:module';
import type WebSocket from 'ws';
import type { WebSocketServer } from 'ws';

/** ws's readyState values (the WHATWG WebSocket's), for code that has a socket but no need to load ws. */
export const WS_READY_STATE = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** What weft uses of ws. */
interface WsModule {
  WebSocket: typeof WebSocket;
  WebSocketServer: typeof WebSocketServer;
}

let loaded: WsModule | undefined;

/** The `ws` module, loaded on the first call. */
export function wsModule(): WsModule {
  loaded ??= createRequire(import.meta.url)('ws') as WsModule; // ws's CommonJS export carries both classes
  return loaded;
}
