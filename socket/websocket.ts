/*
    WebSocket transport for a client socket (RFC 6455), written on node:net / node:tls: rSetWebSocket asks for
    it, rConnectSocket runs the HTTP upgrade within its deadline, and the socket then carries the byte stream
    in binary frames (masked, as a client must), reassembling the peer's fragmented frames, answering pings,
    completing the close handshake. What it reads is the payload alone, so MQTT runs on it unchanged. A peer
    that breaks the protocol (a masked or text frame, a bad control frame, reserved bits) ends the
    connection with a close frame and an error that says which rule.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto'
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { R_ERR_BAD_ARGS } from '../runtime/errors.js'
import { RSocket } from './rsocket.js'
import type { WsSettings } from './ws-settings.js'


const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
/** The upgrade response's headers must fit in this */
const MAX_HEAD = 16 * 1024
/** Frames larger than this from the peer are refused (MQTT's own limit is 256 MiB) */
const MAX_FRAME = 2 ** 31

const OP_CONT = 0
const OP_TEXT = 1
const OP_BINARY = 2
const OP_CLOSE = 8
const OP_PING = 9
const OP_PONG = 10

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
    done: (problem: string | null, stream: WebSocketStream | null) => void): void {
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
        done(null, new WebSocketStream(raw, got.subarray(end + 4)))
    }
    raw.on('data', onData)
    raw.once('end', onEnd)
    raw.write(upgradeRequest(host, port, tls, ws, key))
}

class WsProtocolError extends Error {
    constructor(message: string, readonly code = 1002) {
        super(message)
    }
}

/** A frame header written to send `length` bytes with this opcode, masked with `mask`. */
function header(opcode: number, length: number, mask: Buffer): Buffer {
    const size = length < 126 ? 2 : length < 65536 ? 4 : 10
    const h = Buffer.allocUnsafe(size + 4)
    h[0] = 0x80 | opcode
    if (size === 2) {
        h[1] = 0x80 | length
    } else if (size === 4) {
        h[1] = 0x80 | 126
        h.writeUInt16BE(length, 2)
    } else {
        h[1] = 0x80 | 127
        h.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
        h.writeUInt32BE(length >>> 0, 6)
    }
    mask.copy(h, size)
    return h
}

/* Masking keys come from a pool of random bytes (crypto-strong, as RFC 6455 10.3 asks), refilled when used up */
const keys = Buffer.allocUnsafe(4096)
let keyAt = keys.length

function maskKey(): Buffer {
    if (keyAt === keys.length) {
        randomFillSync(keys)
        keyAt = 0
    }
    keyAt += 4
    return keys.subarray(keyAt - 4, keyAt)
}

/** One masked frame carrying the chunks' bytes (the payload laid out 4-aligned and masked a word at a time). */
export function frame(opcode: number, chunks: readonly Uint8Array[]): Buffer {
    let length = 0
    for (const c of chunks) length += c.length
    const mask = maskKey()
    const h = header(opcode, length, mask)
    const pad = (4 - h.length % 4) % 4
    const ab = new ArrayBuffer(pad + h.length + length)
    const out = Buffer.from(ab, pad, h.length + length)
    h.copy(out)
    let at = h.length
    for (const c of chunks) {
        out.set(c, at)
        at += c.length
    }
    const words = length >>> 2
    /* The key as a word in this machine's byte order, so that word i masks bytes 4i..4i+3 with key bytes 0..3 */
    const m32 = new Uint32Array(Uint8Array.from(mask).buffer)[0]
    const w = new Uint32Array(ab, pad + h.length, words)
    for (let i = 0; i < words; i++) {
        w[i] ^= m32
    }
    for (let i = words * 4; i < length; i++) {
        out[h.length + i] ^= mask[i & 3]
    }
    return out
}

/**
    The byte stream a WebSocket carries: writes go out as masked binary frames, the peer's frames come in as
    their payload. It stands for the socket's stream (setNoDelay, address) once the upgrade is done.
 */
export class WebSocketStream extends Duplex {
    private buf: Buffer
    /** A fragmented data message is in progress (continuation frames are expected) */
    private fragmented = false
    /** Payload bytes left in the current data frame, and whether it is a data frame being passed through */
    private left = 0
    private closeSent = false
    private closeReceived = false
    private eof = false

    constructor(private readonly raw: Socket, leftover: Uint8Array) {
        super({ allowHalfOpen: true })
        this.buf = Buffer.from(leftover)
        raw.on('data', chunk => this.onData(chunk))
        /* The TCP stream ended: after a close frame that is the normal end, before it an abnormal one (1006) */
        raw.on('end', () => this.end$())
        raw.on('error', err => this.destroy(err))
        raw.on('close', () => {
            if (!this.destroyed) this.destroy()
        })
        raw.on('drain', () => this.emit('drain'))
        if (this.buf.length > 0) {
            queueMicrotask(() => this.onData(Buffer.alloc(0)))
        }
        raw.resume()
    }

    setNoDelay(noDelay?: boolean): this {
        this.raw.setNoDelay(noDelay)
        return this
    }

    address(): ReturnType<Socket['address']> {
        return this.raw.address()
    }

    /** Close: what is written goes out, then the close frame, then the connection (as net.Socket's destroySoon) */
    destroySoon(): void {
        if (this.writable) {
            this.once('finish', () => this.raw.destroySoon())
            this.end()
        } else {
            this.raw.destroySoon()
        }
    }

    /** Abort: the TCP connection is reset, no close frame (linger 0) */
    resetAndDestroy(): this {
        this.raw.resetAndDestroy()
        this.destroy()
        return this
    }

    override _read(): void {
        this.raw.resume()
    }

    override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
        this.raw.write(frame(OP_BINARY, [chunk]), callback)
    }

    override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
        this.raw.write(frame(OP_BINARY, chunks.map(c => c.chunk)), callback)
    }

    override _final(callback: (error?: Error | null) => void): void {
        this.sendClose(1000, '')
        this.raw.end()
        callback()
    }

    override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
        this.raw.destroy()
        callback(err)
    }

    private end$(): void {
        if (!this.eof) {
            this.eof = true
            this.push(null)
        }
    }

    private sendClose(code: number, reason: string): void {
        if (!this.closeSent && this.raw.writable) {
            this.closeSent = true
            const body = Buffer.alloc(2 + Buffer.byteLength(reason))
            body.writeUInt16BE(code)
            body.write(reason, 2)
            this.raw.write(frame(OP_CLOSE, [body]))
        }
    }

    private onData(chunk: Buffer): void {
        if (chunk.length > 0) {
            this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
        }
        try {
            this.parse()
        } catch (err) {
            const e = err as WsProtocolError
            this.sendClose(e.code, '')
            this.destroy(new Error(`WebSocket: ${e.message}`))
        }
    }

    /* Payload gathered from the frames of one chunk, handed on at once (many small frames, one read) */
    private pieces: Buffer[] = []

    private flush(): void {
        const pieces = this.pieces
        if (pieces.length > 0 && !this.eof) {
            this.pieces = []
            if (!this.push(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces))) {
                this.raw.pause()
            }
        }
    }

    private parse(): void {
        try {
            this.frames()
        } finally {
            this.flush()
        }
    }

    private frames(): void {
        let buf = this.buf
        while (buf.length > 0 && !this.destroyed) {
            if (this.left > 0) {
                /* Inside a data frame: its payload goes on as it is */
                const take = Math.min(this.left, buf.length)
                this.left -= take
                this.pieces.push(buf.subarray(0, take))
                buf = buf.subarray(take)
                continue
            }
            if (buf.length < 2) {
                break
            }
            const fin = (buf[0] & 0x80) !== 0
            const opcode = buf[0] & 0x0f
            if ((buf[0] & 0x70) !== 0) {
                throw new WsProtocolError('reserved bits set with no extension negotiated [RFC 6455 5.2]')
            }
            if ((buf[1] & 0x80) !== 0) {
                throw new WsProtocolError('a masked frame from the server [RFC 6455 5.1]')
            }
            let length = buf[1] & 0x7f
            let at = 2
            if (length === 126) {
                if (buf.length < 4) break
                length = buf.readUInt16BE(2)
                at = 4
            } else if (length === 127) {
                if (buf.length < 10) break
                length = buf.readUInt32BE(2) * 2 ** 32 + buf.readUInt32BE(6)
                at = 10
            }
            if (opcode >= 8) {
                if (!fin || length > 125) {
                    throw new WsProtocolError('a control frame fragmented or over 125 bytes [RFC 6455 5.5]')
                }
                if (buf.length < at + length) {
                    break
                }
                this.flush()
                this.control(opcode, buf.subarray(at, at + length))
                buf = buf.subarray(at + length)
                continue
            }
            if (opcode === OP_TEXT) {
                throw new WsProtocolError('a text frame: MQTT is carried in binary frames [MQTT-6.0.0-1]', 1003)
            }
            if (opcode !== OP_BINARY && opcode !== OP_CONT) {
                throw new WsProtocolError(`unknown opcode ${opcode} [RFC 6455 5.2]`)
            }
            if (opcode === OP_CONT && !this.fragmented) {
                throw new WsProtocolError('a continuation frame with no message to continue [RFC 6455 5.4]')
            }
            if (opcode === OP_BINARY && this.fragmented) {
                throw new WsProtocolError('a new message inside a fragmented one [RFC 6455 5.4]')
            }
            if (length > MAX_FRAME) {
                throw new WsProtocolError(`a frame of ${length} bytes (at most ${MAX_FRAME})`, 1009)
            }
            if (this.closeReceived) {
                throw new WsProtocolError('data after the close frame [RFC 6455 5.5.1]')
            }
            this.fragmented = !fin
            this.left = length
            buf = buf.subarray(at)
        }
        this.buf = buf.length === 0 ? Buffer.alloc(0) : buf
    }

    private control(opcode: number, payload: Buffer): void {
        if (opcode === OP_PING) {
            if (!this.closeSent && this.raw.writable) {
                this.raw.write(frame(OP_PONG, [payload]))
            }
        } else if (opcode === OP_CLOSE) {
            if (payload.length === 1) {
                throw new WsProtocolError('a close frame with a one-byte body [RFC 6455 5.5.1]')
            }
            this.closeReceived = true
            /* Echo a valid status code, then end: the server closes the TCP connection [RFC 6455 7.1.1, 7.4] */
            const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000
            this.sendClose(code >= 1000 && code < 5000 && ![1004, 1005, 1006, 1015].includes(code) ? code : 1000, '')
            this.end$()
            this.raw.end()
        } else if (opcode !== OP_PONG) {
            throw new WsProtocolError(`unknown control opcode ${opcode} [RFC 6455 5.2]`)
        }
    }
}
