/*
    WebSocket transport against scripted servers on the project's own rListenSocket: the upgrade (accepted,
    refused, lying, silent), frames the server may send (fragmented, interleaved pings, split at every
    offset, close) and those it must not (masked, text, bad control frames), and what the client puts on
    the wire (masked binary frames, pongs, the close handshake).
 */
import test from 'ava'
import { createHash } from 'node:crypto'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketError, rReadSocket, rSetWebSocket, rWriteSocket, rShutdownSocket,
    type RSocket,
} from '../../socket/index.js'
import { rGetTicks, rSleep, R_ERR_BAD_ARGS, R_ERR_CANT_CONNECT, R_ERR_TIMEOUT, type Fiber } from '../../runtime/index.js'
import { upgradeProblem, upgradeRequest } from '../../socket/websocket.js'
import { frame } from '../../socket/ws-frames.js'
import { inFiber } from '../helpers/fiber.js'
import { closeListenersAtEnd, listen } from '../helpers/net.js'

closeListenersAtEnd(test)

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

/** The server's side: read the request head, answer it (or not), then run `then`. */
class Server {
    buf = Buffer.alloc(0)
    request = ''

    constructor(readonly sp: RSocket) {}

    *more(ms = 5000): Fiber<boolean> {
        const chunk = new Uint8Array(64 * 1024)
        const n = yield* rReadSocket(this.sp, chunk, chunk.length, rGetTicks() + ms)
        if (n <= 0) return false
        this.buf = Buffer.concat([this.buf, chunk.subarray(0, n)])
        return true
    }

    *head(): Fiber<string> {
        while (this.buf.indexOf('\r\n\r\n') < 0) {
            if (!(yield* this.more())) throw new Error('no request')
        }
        const end = this.buf.indexOf('\r\n\r\n')
        this.request = this.buf.subarray(0, end).toString()
        this.buf = this.buf.subarray(end + 4)
        return this.request
    }

    accept(extra = 'Sec-WebSocket-Protocol: mqtt\r\n'): Buffer {
        const key = /Sec-WebSocket-Key: (\S+)/.exec(this.request)![1]
        const accept = createHash('sha1').update(key + GUID).digest('base64')
        return Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`)
    }

    *send(bytes: Uint8Array): Fiber<void> {
        yield* rWriteSocket(this.sp, bytes, bytes.length, 0)
    }

    /** The client's next frame, unmasked (null at end of stream) */
    *frame(): Fiber<{ fin: boolean, opcode: number, masked: boolean, payload: Buffer } | null> {
        for (;;) {
            const b = this.buf
            if (b.length >= 2) {
                let len = b[1] & 0x7f
                let at = 2
                if (len === 126 && b.length >= 4) { len = b.readUInt16BE(2); at = 4 }
                if (len === 127 && b.length >= 10) { len = Number(b.readBigUInt64BE(2)); at = 10 }
                const masked = (b[1] & 0x80) !== 0
                const need = at + (masked ? 4 : 0) + len
                if ((b[1] & 0x7f) < 126 || at > 2) {
                    if (b.length >= need) {
                        const mask = masked ? b.subarray(at, at + 4) : Buffer.alloc(4)
                        const payload = Buffer.from(b.subarray(need - len, need))
                        for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3]
                        this.buf = b.subarray(need)
                        return { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, masked, payload }
                    }
                }
            }
            if (!(yield* this.more())) return null
        }
    }
}

/** A server frame (unmasked unless asked) */
function sframe(opcode: number, payload: Uint8Array, fin = true, mask = false): Buffer {
    const len = payload.length
    const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]) :
        len < 65536 ? Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 255]) :
            Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b })()])
    return Buffer.concat([head, mask ? Buffer.alloc(4) : Buffer.alloc(0), payload])
}

function* serve(script: (s: Server) => Fiber<void>): Fiber<{ port: number, listener: RSocket }> {
    return yield* listen(function* (_arg: unknown, sp: RSocket) {
        try {
            yield* script(new Server(sp))
        } finally {
            rCloseSocket(sp)
        }
    })
}

function* client(port: number, ms = 5000): Fiber<{ sock: RSocket, rc: number }> {
    const sock = rAllocSocket()
    rSetWebSocket(sock, '/mqtt')
    const rc = yield* rConnectSocket(sock, '127.0.0.1', port, rGetTicks() + ms)
    return { sock, rc }
}

function* readAll(sock: RSocket, want: number): Fiber<Buffer> {
    const out: Buffer[] = []
    let got = 0
    const buf = new Uint8Array(4096)
    while (got < want) {
        const n = yield* rReadSocket(sock, buf, buf.length, rGetTicks() + 5000)
        if (n <= 0) break
        out.push(Buffer.from(buf.subarray(0, n)))
        got += n
    }
    return Buffer.concat(out)
}

test('upgrade request: path, host (port kept unless the default), key, version, subprotocol, headers', t => {
    const r = upgradeRequest('broker', 8080, false, { path: '/mqtt', protocol: 'mqtt', headers: { Authorization: 'Bearer x' } }, 'k==')
    t.regex(r, /^GET \/mqtt HTTP\/1\.1\r\nHost: broker:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\nAuthorization: Bearer x\r\n\r\n$/)
    t.regex(upgradeRequest('::1', 443, true, { path: '/', protocol: '', headers: {} }, 'k'), /Host: \[::1\]\r\n/)
    t.notRegex(upgradeRequest('h', 80, false, { path: '/', protocol: '', headers: {} }, 'k'), /Protocol/)
    const key = 'dGhlIHNhbXBsZSBub25jZQ=='
    const ok = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: mqtt'
    t.is(upgradeProblem(ok, key, 'mqtt'), null)
    t.regex(upgradeProblem(ok, 'other', 'mqtt')!, /Sec-WebSocket-Accept does not match/)
    t.regex(upgradeProblem(ok.replace('mqtt', 'mqttv3.1'), key, 'mqtt')!, /chose the subprotocol "mqttv3.1"/)
    t.regex(upgradeProblem(ok.replace('\r\nSec-WebSocket-Protocol: mqtt', ''), key, 'mqtt')!, /did not accept the subprotocol "mqtt"/)
    t.regex(upgradeProblem(ok + '\r\nSec-WebSocket-Extensions: permessage-deflate', key, 'mqtt')!, /extensions/)
    t.regex(upgradeProblem(ok.replace('Upgrade: WebSocket', 'Upgrade: h2c'), key, 'mqtt')!, /Upgrade: websocket/)
    t.regex(upgradeProblem(ok.replace('keep-alive, Upgrade', 'close'), key, 'mqtt')!, /Connection: Upgrade/)
    t.regex(upgradeProblem('HTTP/1.1 403 Forbidden', key, 'mqtt')!, /refused the WebSocket upgrade: 403 Forbidden/)
    t.regex(upgradeProblem('SSH-2.0-OpenSSH', key, 'mqtt')!, /Not an HTTP response/)
})

test('rSetWebSocket: bad paths, protocols and headers are R_ERR_BAD_ARGS; null turns it off', t => {
    const sock = rAllocSocket()
    t.is(rSetWebSocket(null, '/mqtt'), R_ERR_BAD_ARGS)
    t.is(rSetWebSocket(sock, 'mqtt'), R_ERR_BAD_ARGS)
    t.is(rSetWebSocket(sock, '/a b'), R_ERR_BAD_ARGS)
    t.is(rSetWebSocket(sock, '/a\r\nX: y'), R_ERR_BAD_ARGS)
    t.is(rSetWebSocket(sock, '/mqtt', 'mq\ntt'), R_ERR_BAD_ARGS)
    t.is(rSetWebSocket(sock, '/mqtt', 'mqtt', { 'Bad Name': 'x' }), R_ERR_BAD_ARGS)
    t.is(rSetWebSocket(sock, '/mqtt', 'mqtt', { Auth: 'x\r\ny' }), R_ERR_BAD_ARGS)
    t.is(sock.ws, null)
    t.is(rSetWebSocket(sock, '/mqtt', 'mqtt', { 'X-Amz-Token': 't' }), 0)
    t.deepEqual(sock.ws, { path: '/mqtt', protocol: 'mqtt', headers: { 'X-Amz-Token': 't' } })
    t.is(rSetWebSocket(sock, null), 0)
    t.is(sock.ws, null)
})

test('client frames: masked binary frames of every length class; the mask is applied', t => {
    for (const n of [0, 125, 126, 65535, 65536]) {
        const payload = Buffer.alloc(n, 7)
        const f = frame(2, [payload.subarray(0, n >> 1), payload.subarray(n >> 1)])
        t.is(f[0], 0x82)
        t.true((f[1] & 0x80) !== 0)
        const at = n < 126 ? 2 : n < 65536 ? 4 : 10
        t.is(f.length, at + 4 + n)
        const mask = f.subarray(at, at + 4)
        t.true(f.subarray(at + 4).every((b, i) => (b ^ mask[i & 3]) === 7))
    }
})

test('the stream both ways: fragments and pings from the server, split anywhere; masked frames and pongs from the client', async t => {
    const message = Buffer.from('hello over websocket, in fragments')
    await inFiber(function* () {
        let seen: { opcode: number, masked: boolean, payload: Buffer }[] = []
        const { port, listener } = yield* serve(function* (s) {
            yield* s.head()
            t.regex(s.request, /^GET \/mqtt HTTP\/1\.1\r\n[\s\S]*Sec-WebSocket-Protocol: mqtt/)
            /* The response head and the first frames in one write, then the rest a byte at a time */
            const wire = Buffer.concat([s.accept(), sframe(2, message.subarray(0, 5), false), sframe(9, Buffer.from('p1')),
                sframe(0, message.subarray(5, 20), false), sframe(10, Buffer.from('unasked pong')), sframe(0, message.subarray(20), true)])
            const cut = s.accept().length + 3
            yield* s.send(wire.subarray(0, cut))
            for (let i = cut; i < wire.length; i++) {
                yield* s.send(wire.subarray(i, i + 1))
            }
            for (let f = yield* s.frame(); f !== null; f = yield* s.frame()) {
                seen.push(f)
                if (f.opcode === 2 && f.payload.toString() === 'reply') break
            }
            yield* s.send(sframe(8, Buffer.from([0x03, 0xe8])))
            const close = yield* s.frame()
            seen.push(close!)
        })
        const { sock, rc } = yield* client(port)
        t.is(rc, 0, rGetSocketError(sock) ?? '')
        t.deepEqual(yield* readAll(sock, message.length), message)
        yield* rWriteSocket(sock, Buffer.from('reply'), 5, 0)
        /* The server's close frame: end of stream for the reader */
        const buf = new Uint8Array(16)
        t.true((yield* rReadSocket(sock, buf, 16, rGetTicks() + 5000)) < 0)
        yield* rSleep(50)
        rCloseSocket(sock)
        rCloseSocket(listener)
        t.deepEqual(seen.map(f => [f.opcode, f.masked, f.payload.toString('latin1')]), [
            [10, true, 'p1'],
            [2, true, 'reply'],
            [8, true, '\x03\xe8'],
        ])
    })
})

test('closing from the client: the close frame (1000) goes out after what was written', async t => {
    await inFiber(function* () {
        const frames: { opcode: number, payload: Buffer }[] = []
        const { port, listener } = yield* serve(function* (s) {
            yield* s.head()
            yield* s.send(s.accept())
            for (let f = yield* s.frame(); f !== null; f = yield* s.frame()) {
                frames.push(f)
                if (f.opcode === 8) break
            }
        })
        const { sock } = yield* client(port)
        yield* rWriteSocket(sock, Buffer.from('last words'), 10, 0)
        rCloseSocket(sock)
        yield* rSleep(200)
        rCloseSocket(listener)
        t.deepEqual(frames.map(f => [f.opcode, f.payload.toString('hex')]), [[2, Buffer.from('last words').toString('hex')], [8, '03e8']])
    })
})

const refusals: [string, (s: Server) => Buffer, RegExp][] = [
    ['a wrong accept key', s => Buffer.from(s.accept().toString().replace(/Accept: \S+/, 'Accept: AAAA')), /Sec-WebSocket-Accept does not match/],
    ['HTTP 404', () => Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'), /refused the WebSocket upgrade: 404 Not Found/],
    ['no subprotocol', s => s.accept(''), /did not accept the subprotocol "mqtt"/],
    ['an MQTT broker (no HTTP at all)', () => Buffer.from([0x20, 0x02, 0, 0, 13, 10, 13, 10]), /Not an HTTP response/],
    ['an endless head', () => Buffer.alloc(20_000, 65), /head is over 16384 bytes/],
]

for (const [name, answer, message] of refusals) {
    test(`upgrade refused: ${name} is R_ERR_CANT_CONNECT with the reason`, async t => {
        await inFiber(function* () {
            const { port, listener } = yield* serve(function* (s) {
                yield* s.head()
                yield* s.send(answer(s))
                yield* s.more(2000)
            })
            const { sock, rc } = yield* client(port)
            t.is(rc, R_ERR_CANT_CONNECT)
            t.regex(rGetSocketError(sock) ?? '', message)
            rCloseSocket(sock)
            rCloseSocket(listener)
        })
    })
}

test('upgrade never answered: R_ERR_TIMEOUT at the connect deadline; closed during upgrade: an error, not a hang', async t => {
    await inFiber(function* () {
        const silent = yield* serve(function* (s) {
            yield* s.head()
            yield* s.more(3000)
        })
        const start = rGetTicks()
        const a = yield* client(silent.port, 300)
        t.is(a.rc, R_ERR_TIMEOUT)
        t.true(rGetTicks() - start < 2500)
        const hangup = yield* serve(function* (s) {
            yield* s.head()
        })
        const b = yield* client(hangup.port)
        t.is(b.rc, R_ERR_CANT_CONNECT)
        t.regex(rGetSocketError(b.sock) ?? '', /closed the connection during the WebSocket upgrade/)
        for (const x of [a.sock, b.sock, silent.listener, hangup.listener]) rCloseSocket(x)
    })
})

const violations: [string, Buffer, RegExp, number][] = [
    ['a masked frame', sframe(2, Buffer.from('x'), true, true), /masked frame from the server/, 1002],
    ['a text frame', sframe(1, Buffer.from('{}')), /text frame: MQTT is carried in binary frames \[MQTT-6\.0\.0-1\]/, 1003],
    ['reserved bits', Buffer.from([0xc2, 0x01, 0x41]), /reserved bits/, 1002],
    ['a fragmented ping', sframe(9, Buffer.from('x'), false), /control frame fragmented/, 1002],
    ['a continuation out of nowhere', sframe(0, Buffer.from('x')), /continuation frame with no message/, 1002],
    ['a new message inside a fragmented one', Buffer.concat([sframe(2, Buffer.from('a'), false), sframe(2, Buffer.from('b'))]), /new message inside a fragmented one/, 1002],
    ['an unknown opcode', sframe(3, Buffer.from('x')), /unknown opcode 3/, 1002],
    ['a one-byte close', sframe(8, Buffer.from([3])), /one-byte body/, 1002],
]

for (const [name, bytes, message, code] of violations) {
    test(`the server breaks the protocol with ${name}: the read fails with the rule, a close frame ${code} goes back`, async t => {
        await inFiber(function* () {
            let close: Buffer | null = null
            const { port, listener } = yield* serve(function* (s) {
                yield* s.head()
                yield* s.send(Buffer.concat([s.accept(), bytes]))
                for (let f = yield* s.frame(); f !== null; f = yield* s.frame()) {
                    if (f.opcode === 8) { close = f.payload; break }
                }
            })
            const { sock, rc } = yield* client(port)
            t.is(rc, 0)
            const buf = new Uint8Array(64)
            let n = 0
            for (let i = 0; i < 3 && n >= 0; i++) {
                n = yield* rReadSocket(sock, buf, buf.length, rGetTicks() + 5000)
            }
            t.true(n < 0)
            t.regex(rGetSocketError(sock) ?? '', message)
            yield* rSleep(100)
            t.is((close as Buffer | null)?.readUInt16BE(0), code)
            rCloseSocket(sock)
            rCloseSocket(listener)
        })
    })
}

test('a half-closed write side (rShutdownSocket) still reads what the server sends', async t => {
    await inFiber(function* () {
        const { port, listener } = yield* serve(function* (s) {
            yield* s.head()
            yield* s.send(s.accept())
            const f = yield* s.frame()
            t.is(f?.opcode, 8)
            yield* s.send(sframe(2, Buffer.from('after your close')))
            yield* s.send(sframe(8, Buffer.from([0x03, 0xe8])))
        })
        const { sock } = yield* client(port)
        rShutdownSocket(sock)
        t.is((yield* readAll(sock, 16)).toString(), 'after your close')
        rCloseSocket(sock)
        rCloseSocket(listener)
    })
})
