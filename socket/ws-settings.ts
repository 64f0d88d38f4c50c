/*
    What a socket carried over WebSocket asks for (set by rSetWebSocket, used by the upgrade in rConnectSocket).
    The upgrade itself comes with the settings, so a program that never calls rSetWebSocket does not load it.
 */
import type { Socket } from 'node:net'

/** Runs the HTTP upgrade on a connected stream; done once, with the WebSocket stream or a problem */
export type WsUpgrade = (raw: Socket, host: string, port: number, tls: boolean, ws: WsSettings,
    done: (problem: string | null, stream: Socket | null) => void) => void

export interface WsSettings {
    /** The HTTP path of the upgrade request */
    path: string
    /** The subprotocol asked for (mqtt), or '' for none */
    protocol: string
    /** Extra request headers (a cloud endpoint's authorization, for example) */
    headers: Record<string, string>
    /** The upgrade (websocket.ts's) */
    upgrade: WsUpgrade
}
