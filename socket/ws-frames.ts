/*
    The frames of a WebSocket client (RFC 6455) once the upgrade is done: the byte stream goes out in binary
    frames (masked, as a client must) and comes in as the payload of the peer's frames, fragmented or not;
    pings are answered and the close handshake completed. A peer that breaks the protocol (a masked or text
    frame, a bad control frame, reserved bits) ends the connection with a close frame and an error that says
    which rule. What it reads is the payload alone, so MQTT runs on it unchanged.
 */
import { randomFillSync } from 'node:crypto'
import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'

/** Frames larger than this from the peer are refused (MQTT's own limit is 256 MiB) */
const MAX_FRAME = 2 ** 31

const OP_CONT = 0
const OP_TEXT = 1
const OP_BINARY = 2
const OP_CLOSE = 8
const OP_PING = 9
const OP_PONG = 10

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
        /* Paused (held, or a read-coalescing nap), it takes one chunk more and pauses the connection under it */
        super({ allowHalfOpen: true, readableHighWaterMark: 1 })
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
