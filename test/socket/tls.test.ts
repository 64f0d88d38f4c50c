import test from 'ava'
import { readFileSync } from 'node:fs'
import { R_ERR_BAD_ARGS, R_ERR_CANT_COMPLETE, rGetTicks, type Fiber } from '../../runtime/index.js'
import {
    rAllocSocket, rCloseSocket, rConnectSocket, rGetSocketAlpn, rGetSocketError, rGetSocketPeerSubject,
    rIsSocketSecure, rListenSocket, rReadSocket, rSetSocketCerts, rSetSocketCiphers, rSetSocketDefaultCerts,
    rSetSocketDefaultVerify, rSetSocketVerify, rSetTls, rSetTlsAlpn, rSetTlsDefaultAlpn, rSetTlsServerName, rWriteSocket, type RSocket,
} from '../../socket/index.js'
import { inFiber } from '../helpers/fiber.js'
import { echo, fixtures, listen } from '../helpers/net.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

const f = (name: string) => `${fixtures}${name}`

function* tlsServer(cert = 'server', opts: { mutual?: boolean, alpn?: string } = {}, handler = echo): Fiber<{ listener: RSocket, port: number }> {
    return yield* listen(handler, null, sp => {
        rSetSocketCerts(sp, opts.mutual ? f('ca.crt') : null, f(`${cert}.key`), f(`${cert}.crt`), null)
        if (opts.mutual) {
            rSetSocketVerify(sp, 1, 1)
        }
        if (opts.alpn) {
            rSetTlsAlpn(sp, opts.alpn)
        }
    })
}

function* roundTrip(sp: RSocket, text: string): Fiber<string> {
    yield* rWriteSocket(sp, text, -1, 0)
    const buf = new Uint8Array(256)
    const n = yield* rReadSocket(sp, buf, buf.length, rGetTicks() + 5000)
    return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : `error ${n}: ${rGetSocketError(sp)}`
}

test('server-only TLS: the CA verifies the server; data flows', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer()
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), null, null, null)
        t.true(rIsSocketSecure(sp))
        t.is(yield* rConnectSocket(sp, 'localhost', port, 0), 0, rGetSocketError(sp) ?? '')
        t.is(rGetSocketPeerSubject(sp), 'CN=localhost')
        t.is(yield* roundTrip(sp, 'over tls'), 'over tls')
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('mutual TLS: the client presents its certificate and the server sees its subject', async t => {
    await inFiber(function* () {
        let clientSubject = null as string | null
        const { listener, port } = yield* tlsServer('server', { mutual: true }, function* (arg: unknown, sp: RSocket) {
            clientSubject = rGetSocketPeerSubject(sp)
            yield* echo(arg, sp)
        })
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), f('client.key'), f('client.crt'), null)
        rSetSocketVerify(sp, 1, 1)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0, rGetSocketError(sp) ?? '')
        t.is(yield* roundTrip(sp, 'mutual'), 'mutual')
        t.is(clientSubject, 'CN=fiber-mqtt-client')
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('ALPN x-amzn-mqtt-ca is negotiated and visible on both sides', async t => {
    await inFiber(function* () {
        let serverAlpn = null as string | null
        const { listener, port } = yield* tlsServer('server', { alpn: 'x-amzn-mqtt-ca' }, function* (arg: unknown, sp: RSocket) {
            serverAlpn = rGetSocketAlpn(sp)
            yield* echo(arg, sp)
        })
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), null, null, null)
        rSetTlsAlpn(sp.tls, 'x-amzn-mqtt-ca')
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0, rGetSocketError(sp) ?? '')
        t.is(rGetSocketAlpn(sp), 'x-amzn-mqtt-ca')
        t.is(yield* roundTrip(sp, 'alpn'), 'alpn')
        t.is(serverAlpn, 'x-amzn-mqtt-ca')
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('a server that requires a different ALPN protocol is refused with a clear error', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer('server', { alpn: 'x-amzn-mqtt-ca' })
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), null, null, null)
        rSetTlsAlpn(sp, 'mqtt')
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, rGetTicks() + 5000), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(sp)!, /ALPN|application protocol/i)
        rCloseSocket(listener)
    })
})

test('a server that ignores ALPN is refused when the client asked for a protocol', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer()
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), null, null, null)
        rSetTlsAlpn(sp, 'x-amzn-mqtt-ca, mqtt')
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, rGetTicks() + 5000), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(sp)!, /ALPN protocols offered \(x-amzn-mqtt-ca, mqtt\)/)
        rCloseSocket(listener)
    })
})

test('a certificate from an unknown CA is refused and the error says so', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer()
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('other-ca.crt'), null, null, null)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(sp)!, /Certificate not trusted/)
        /* verifyIssuer 0 accepts it (the host name still matches) */
        const lax = rAllocSocket()
        rSetSocketCerts(lax, f('other-ca.crt'), null, null, null)
        rSetSocketVerify(lax, 1, 0)
        t.is(yield* rConnectSocket(lax, '127.0.0.1', port, 0), 0, rGetSocketError(lax) ?? '')
        rCloseSocket(lax)
        rCloseSocket(listener)
    })
})

test('a host-name mismatch is refused; verifyPeer 0 accepts it', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer('wrong-host')
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), null, null, null)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(sp)!, /Host name mismatch/)
        const lax = rAllocSocket()
        rSetSocketCerts(lax, f('ca.crt'), null, null, null)
        rSetSocketVerify(lax, 0, 0)
        t.is(yield* rConnectSocket(lax, '127.0.0.1', port, 0), 0)
        t.is(rGetSocketPeerSubject(lax), 'CN=wrong.example')
        rCloseSocket(lax)
        rCloseSocket(listener)
    })
})

test('a client without a certificate is refused by a server that requires one', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer('server', { mutual: true })
        const sp = rAllocSocket()
        rSetSocketCerts(sp, f('ca.crt'), null, null, null)
        const rc = yield* rConnectSocket(sp, '127.0.0.1', port, rGetTicks() + 5000)
        /* With TLS 1.3 the client's handshake completes before the server checks its certificate: the refusal
           then arrives as the first read's error */
        const outcome = rc === 0 ? yield* roundTrip(sp, 'hello') : `error ${rc}: ${rGetSocketError(sp)}`
        t.regex(outcome, /^error -2\d: .*(certificate|closed|reset)/i)
        rCloseSocket(sp)
        rCloseSocket(listener)
    })
})

test('PEM text works as well as file paths; unreadable files and listeners without keys fail clearly', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* listen(echo, null, sp => {
            rSetSocketCerts(sp, null, readFileSync(f('server.key'), 'utf8'), readFileSync(f('server.crt'), 'utf8'), null)
        })
        const sp = rAllocSocket()
        rSetSocketCerts(sp, readFileSync(f('ca.crt'), 'utf8'), null, null, null)
        rSetSocketCiphers(sp, null)
        t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0)
        rCloseSocket(sp)
        const missing = rAllocSocket()
        rSetSocketCerts(missing, f('no-such.crt'), null, null, null)
        t.is(yield* rConnectSocket(missing, '127.0.0.1', port, 0), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(missing)!, /Cannot read CA file/)
        const keyless = rAllocSocket()
        rSetTls(keyless)
        t.is(yield* rListenSocket(keyless, '127.0.0.1', 0, echo), R_ERR_BAD_ARGS)
        t.regex(rGetSocketError(keyless)!, /key and a certificate/)
        rCloseSocket(listener)
    })
})

test.serial('process defaults supply the CA, verification and ALPN to sockets that lack their own', async t => {
    await inFiber(function* () {
        const { listener, port } = yield* tlsServer('server', { alpn: 'mqtt' })
        rSetSocketDefaultCerts(f('ca.crt'), null, null, null)
        rSetTlsDefaultAlpn('mqtt')
        try {
            const sp = rAllocSocket()
            rSetTls(sp)
            t.is(yield* rConnectSocket(sp, '127.0.0.1', port, 0), 0, rGetSocketError(sp) ?? '')
            t.is(rGetSocketAlpn(sp), 'mqtt')
            rCloseSocket(sp)
            rSetSocketDefaultCerts(f('other-ca.crt'), null, null, null)
            rSetSocketDefaultVerify(1, 0)
            const lax = rAllocSocket()
            rSetTls(lax)
            t.is(yield* rConnectSocket(lax, '127.0.0.1', port, 0), 0, rGetSocketError(lax) ?? '')
            rCloseSocket(lax)
        } finally {
            rSetSocketDefaultCerts(null, null, null, null)
            rSetSocketDefaultVerify(1, 1)
            rSetTlsDefaultAlpn(null)
        }
        rSetTlsAlpn(null, 'x')
        rCloseSocket(listener)
    })
})

test('rSetTlsServerName: the name is sent as SNI and checked in the certificate instead of the host (an IP here)', async t => {
    await inFiber(function* () {
        let seen: string | false | undefined
        const { listener, port } = yield* tlsServer('wrong-host', {}, function* (arg: unknown, sp: RSocket) {
            seen = (sp.handle as unknown as { servername?: string | false }).servername
            yield* echo(arg, sp)
        })
        /* Without it: no SNI for an IP address, and the certificate's name does not match */
        const plain = rAllocSocket()
        rSetSocketCerts(plain, f('ca.crt'), null, null, null)
        t.is(yield* rConnectSocket(plain, '127.0.0.1', port, 0), R_ERR_CANT_COMPLETE)
        t.regex(rGetSocketError(plain)!, /Host name mismatch/)
        rCloseSocket(plain)
        /* With it: SNI goes out and the name is verified */
        const named = rAllocSocket()
        rSetSocketCerts(named, f('ca.crt'), null, null, null)
        rSetTlsServerName(named, 'wrong.example')
        t.is(yield* rConnectSocket(named, '127.0.0.1', port, 0), 0, rGetSocketError(named) ?? '')
        t.is(yield* roundTrip(named, 'named'), 'named')
        t.is(seen, 'wrong.example')
        rCloseSocket(named)
        /* A name the certificate does not carry is refused */
        const other = rAllocSocket()
        rSetSocketCerts(other, f('ca.crt'), null, null, null)
        rSetTlsServerName(other, 'localhost')
        t.is(yield* rConnectSocket(other, '127.0.0.1', port, 0), R_ERR_CANT_COMPLETE)
        rCloseSocket(other)
        rCloseSocket(listener)
    })
})
