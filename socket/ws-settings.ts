/*
    What a socket carried over WebSocket asks for: rSetWebSocket records it, and rConnectSocket loads the WebSocket
    part (websocket.ts, through parts.ts) on the first such connect and runs the upgrade. A program that never asks
    for WebSocket never loads it.
 */
import { R_ERR_BAD_ARGS } from '../runtime/errors.js'
import { RSocket } from './rsocket.js'

export interface WsSettings {
    /** The HTTP path of the upgrade request */
    path: string
    /** The subprotocol asked for (mqtt), or '' for none */
    protocol: string
    /** Extra request headers (a cloud endpoint's authorization, for example) */
    headers: Record<string, string>
}

/**
    Carry the socket over WebSocket: the HTTP upgrade to `path` (default "/mqtt") asking for the subprotocol
    (default "mqtt"; '' asks for none), with extra request headers (a cloud endpoint's authorization, for
    example). Takes effect at the next rConnectSocket; with TLS settings it is WebSocket over TLS (wss).
    R_ERR_BAD_ARGS for a path that does not start with "/" or a header with a line break; null turns it off.
    @example rSetWebSocket(sock, '/mqtt'); yield* rConnectSocket(sock, 'broker.example.com', 80, 0)
 */
export function rSetWebSocket(sp: RSocket | null, path: string | null, protocol = 'mqtt', headers: Record<string, string> = {}): number {
    if (!(sp instanceof RSocket)) {
        return R_ERR_BAD_ARGS
    }
    if (path === null) {
        sp.ws = null
        return 0
    }
    const bad = (s: string) => /[\r\n\0]/.test(s)
    if (typeof path !== 'string' || !path.startsWith('/') || bad(path) || / /.test(path) || typeof protocol !== 'string' || bad(protocol) ||
        headers === null || typeof headers !== 'object' || Object.entries(headers).some(([k, v]) => typeof v !== 'string' || bad(k) || bad(v) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k))) {
        return R_ERR_BAD_ARGS
    }
    sp.ws = { path, protocol, headers: { ...headers } }
    return 0
}
