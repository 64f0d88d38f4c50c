/*
    Reading and writing: rReadSocket / rWriteSocket wait (the calling fiber only) with deadlines;
    the Sync forms do what is possible without waiting.
 */
import { R_ERR_BAD_ARGS, R_ERR_BUSY, R_ERR_CANT_READ, R_ERR_CANT_WRITE } from '../runtime/errors.js'
import type { Waitable } from '../runtime/body.js'
import { rGetTicks } from '../runtime/time.js'
import { done } from '../runtime/waitable.js'
import { SOCKET_DEFAULT_DEADLINE } from './connect.js'
import { armDeadline, copyOut, R_SOCKET_CLOSED, R_SOCKET_EOF, ReadWait, RSocket, setSocketError, WriteWait } from './rsocket.js'

function absolute(deadline: number): number {
    return deadline > 0 ? deadline : rGetTicks() + SOCKET_DEFAULT_DEADLINE
}

/**
    Read up to `size` bytes into `buf`, waiting until some arrive. Evaluates to the count (never 0),
    R_ERR_CANT_READ at end of stream or after an error, R_ERR_TIMEOUT when the deadline passes (the socket
    stays usable), R_ERR_BUSY when another fiber is already reading, or R_ERR_BAD_ARGS.
    `deadline` is absolute ticks; 0 or less means 30 s from now.
    @example const n = yield* rReadSocket(sock, buf, buf.length, rGetTicks() + 5000)
 */
export function rReadSocket(sp: RSocket | null, buf: Uint8Array, size: number, deadline: number): Waitable<number> {
    if (!(sp instanceof RSocket) || !(buf instanceof Uint8Array) || size <= 0) {
        return done(R_ERR_BAD_ARGS)
    }
    size = Math.min(size, buf.length)
    if (sp.rxBytes > 0) {
        return done(copyOut(sp, buf, size))
    }
    if (sp.flags & R_SOCKET_EOF || sp.handle === null) {
        return done(R_ERR_CANT_READ)
    }
    if (sp.reader !== null) {
        return done(R_ERR_BUSY)
    }
    const w = new ReadWait(sp, buf, size)
    sp.reader = w
    armDeadline(sp, w, absolute(deadline))
    return w
}

/**
    Read what is buffered now: the count, 0 when nothing is available, R_ERR_CANT_READ at end of stream.
    @example const n = rReadSocketSync(sock, buf, buf.length); if (n === 0) yield* rSleep(10)
 */
export function rReadSocketSync(sp: RSocket | null, buf: Uint8Array, size: number): number {
    if (!(sp instanceof RSocket) || !(buf instanceof Uint8Array) || size <= 0) {
        return R_ERR_BAD_ARGS
    }
    if (sp.rxBytes > 0) {
        return copyOut(sp, buf, Math.min(size, buf.length))
    }
    return sp.flags & R_SOCKET_EOF || sp.handle === null ? R_ERR_CANT_READ : 0
}

const encoder = new TextEncoder()

function bytes(buf: Uint8Array | string, size: number): Uint8Array | null {
    const data = typeof buf === 'string' ? encoder.encode(buf) : buf instanceof Uint8Array ? buf : null
    if (data === null) {
        return null
    }
    return size < 0 || size === undefined || size >= data.length ? data : data.subarray(0, size)
}

function writable(sp: RSocket): boolean {
    const h = sp.handle
    return h !== null && !(sp.flags & R_SOCKET_CLOSED) && h.writable && !h.destroyed
}

/**
    Write `size` bytes (a negative size means all of buf), waiting while the socket is backed up, until the
    kernel has taken them. Evaluates to the count, R_ERR_CANT_WRITE after close or a reset (the text says
    which), R_ERR_TIMEOUT when the deadline passes first, or R_ERR_BAD_ARGS. After a timeout the bytes stay
    queued and may still be sent: do not reuse buf for other data until the socket is closed.
    @example yield* rWriteSocket(sock, 'hello\n', -1, 0)
 */
export function rWriteSocket(sp: RSocket | null, buf: Uint8Array | string, size: number, deadline: number): Waitable<number> {
    const data = sp instanceof RSocket ? bytes(buf, size) : null
    if (data === null) {
        return done(R_ERR_BAD_ARGS)
    }
    sp = sp as RSocket
    if (!writable(sp)) {
        setSocketError(sp, 'Cannot write: the socket is %s', sp.flags & R_SOCKET_CLOSED ? 'closed' : 'not connected')
        return done(R_ERR_CANT_WRITE)
    }
    if (data.length === 0) {
        return done(0)
    }
    if (sp.writer !== null) {
        return done(R_ERR_BUSY)
    }
    sp.activity = rGetTicks()
    sp.writesIssued++
    sp.handle!.write(data, sp.onWritten)
    if (sp.handle!.writableLength === 0) {
        return done(data.length)
    }
    const w = new WriteWait(sp, sp.writesIssued, data.length)
    sp.writer = w
    armDeadline(sp, w, absolute(deadline))
    return w
}

/**
    Write without waiting: all `size` bytes when the socket is not backed up (the count), 0 when it is
    (try again later), R_ERR_CANT_WRITE after close.
    @example if (rWriteSocketSync(sock, 'ping\n', -1) === 0) yield* rWriteSocket(sock, 'ping\n', -1, 0)
 */
export function rWriteSocketSync(sp: RSocket | null, buf: Uint8Array | string, size: number): number {
    const data = sp instanceof RSocket ? bytes(buf, size) : null
    if (data === null) {
        return R_ERR_BAD_ARGS
    }
    sp = sp as RSocket
    if (!writable(sp)) {
        return R_ERR_CANT_WRITE
    }
    if (sp.handle!.writableNeedDrain) {
        return 0
    }
    sp.activity = rGetTicks()
    sp.writesIssued++
    /* The caller may reuse buf at once, as in C, while Node may still hold what it queued: give it a copy */
    sp.handle!.write(typeof buf === 'string' ? data : Buffer.from(data), sp.onWritten)
    return data.length
}

/**
    Internal write for the MQTT client: hand a chunk to the stream; false means the stream is backed up and
    SocketReceiver.onDrain will follow. No per-write callback.
    @example if (!socketSend(sp, bytes)) waitForDrain = true
 */
export function socketSend(sp: RSocket, chunk: Uint8Array): boolean {
    if (!writable(sp)) {
        return false
    }
    sp.activity = rGetTicks()
    return sp.handle!.write(chunk)
}
