/*
    WebSocket transport for a client socket (RFC 6455), written on node:net / node:tls: rSetWebSocket asks for
    it (ws-settings.ts) and rConnectSocket runs the HTTP upgrade here, within its deadline; the frames are
    ws-frames.ts's. Loaded on first use (parts.ts).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import type { WsSettings } from './ws-settings.js'
import { WebSocketStream } from './ws-frames.js'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
/** The upgrade response's headers must fit in this */
const MAX_HEAD = 16 * 1024
/** The upgrade request for host:port (the port is left out of Host when it is the scheme's default). */
export function upgradeRequest(host: string, port: number, tls: boolean, ws: WsSettings, key: string): string {
    const name = host.includes(':') ? `[${host}]` : host
    const lines = [
        `GET ${ws.path} HTTP/1.1`,
        `Host: ${port === (tls ? 443 : 80) ? name : `${name}:${port}`}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
    ]
    if (ws.protocol !== '') {
        lines.push(`Sec-WebSocket-Protocol: ${ws.protocol}`)
    }
    for (const [k, v] of Object.entries(ws.headers)) {
        lines.push(`${k}: ${v}`)
    }
    return `${lines.join('\r\n')}\r\n\r\n`
}

/** Why an upgrade response's head (up to the blank line) does not accept the upgrade, or null. */
export function upgradeProblem(head: string, key: string, protocol: string): string | null {
    const [status, ...rest] = head.split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(status)
    if (m === null) {
        return `Not an HTTP response to the WebSocket upgrade: "${status.slice(0, 80)}"`
    }
    if (m[1] !== '101') {
        return `The server refused the WebSocket upgrade: ${m[1]} ${m[2] ?? ''}`.trimEnd()
    }
    const fields = new Map<string, string>()
    for (const line of rest) {
        const colon = line.indexOf(':')
        if (colon > 0) {
            const name = line.slice(0, colon).trim().toLowerCase()
            const value = line.slice(colon + 1).trim()
            fields.set(name, fields.has(name) ? `${fields.get(name)}, ${value}` : value)
        }
    }
    if ((fields.get('upgrade') ?? '').toLowerCase() !== 'websocket') {
        return 'The upgrade response has no "Upgrade: websocket"'
    }
    if (!(fields.get('connection') ?? '').toLowerCase().split(/\s*,\s*/).includes('upgrade')) {
        return 'The upgrade response has no "Connection: Upgrade"'
    }
    const accept = createHash('sha1').update(key + GUID).digest('base64')
    if (fields.get('sec-websocket-accept') !== accept) {
        return 'The upgrade response\'s Sec-WebSocket-Accept does not match the key (not a WebSocket server, or a proxy in the way)'
    }
    if (fields.has('sec-websocket-extensions')) {
        return `The server chose extensions the client did not offer: ${fields.get('sec-websocket-extensions')}`
    }
    const chosen = fields.get('sec-websocket-protocol') ?? ''
    if (chosen !== protocol) {
        return chosen === '' ? `The server did not accept the subprotocol "${protocol}"` : `The server chose the subprotocol "${chosen}", not "${protocol}"`
    }
    return null
}

/**
    Run the upgrade on a connected stream; done(problem, stream) once: with the WebSocket stream (bytes that
    came after the response's head already in it), or a problem.
 */
export function upgrade(raw: Socket, host: string, port: number, tls: boolean, ws: WsSettings,
    done: (problem: string | null, stream: Socket | null) => void): void {
    const key = randomBytes(16).toString('base64')
    let got: Buffer = Buffer.alloc(0)
    const onEnd = () => {
        raw.removeListener('data', onData)
        done('The server closed the connection during the WebSocket upgrade', null)
    }
    const onData = (chunk: Buffer) => {
        got = got.length === 0 ? chunk : Buffer.concat([got, chunk])
        const end = got.indexOf('\r\n\r\n')
        if (end < 0) {
            if (got.length > MAX_HEAD) {
                raw.removeListener('data', onData)
                raw.removeListener('end', onEnd)
                done(`The WebSocket upgrade response's head is over ${MAX_HEAD} bytes`, null)
            }
            return
        }
        raw.removeListener('data', onData)
        raw.removeListener('end', onEnd)
        const problem = upgradeProblem(got.subarray(0, end).toString('latin1'), key, ws.protocol)
        if (problem !== null) {
            done(problem, null)
            return
        }
        raw.pause()
        done(null, new WebSocketStream(raw, got.subarray(end + 4)) as unknown as Socket)
    }
    raw.on('data', onData)
    raw.once('end', onEnd)
    raw.write(upgradeRequest(host, port, tls, ws, key))
}
