/*
    What a TLS connection is made with: Node's options from a socket's settings (certificate files read here)
    and the checks after a client's handshake. Loaded on first use (parts.ts: the first TLS connect or listen), so
    a program that speaks plain TCP never loads node:tls.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate, type TLSSocket, type TlsOptions } from 'node:tls'
import type { RSocket } from './rsocket.js'
import { type RTls, tlsDefaults as defaults } from './tls-settings.js'

export { connect as tlsConnect, createServer as createTlsServer } from 'node:tls'

/** Thrown while building TLS options when a certificate file cannot be read. */
export class TlsSetupError extends Error {}

function pem(value: string | null, what: string): string | undefined {
    if (value === null || value === '') {
        return undefined
    }
    if (value.includes('-----BEGIN')) {
        return value
    }
    try {
        return readFileSync(value, 'utf8')
    } catch (err) {
        throw new TlsSetupError(`Cannot read ${what} file "${value}": ${(err as Error).message}`)
    }
}

function settings(sp: RSocket, server: boolean) {
    const own = sp.tls!
    return {
        ca: pem(own.ca ?? (server ? null : defaults.ca), 'CA'),
        key: pem(own.key ?? defaults.key, 'key'),
        cert: pem(own.cert ?? defaults.cert, 'certificate'),
        crl: pem(own.revoke ?? defaults.revoke, 'revocation list'),
        ciphers: own.ciphers ?? sp.ciphers ?? defaults.ciphers ?? undefined,
        alpn: own.alpn ?? defaults.alpn ?? undefined,
        verifyPeer: own.verifyPeer >= 0 ? own.verifyPeer : server ? 0 : defaults.verifyPeer >= 0 ? defaults.verifyPeer : 1,
        verifyIssuer: own.verifyIssuer >= 0 ? own.verifyIssuer : defaults.verifyIssuer >= 0 ? defaults.verifyIssuer : 1,
    }
}

/* TLS-PSK: the key for the server's hint, PSK cipher suites, TLS 1.2 (Node offers PSK there) */
function pskOptions(tls: RTls, ciphers: string | undefined): Partial<ConnectionOptions> {
    const psk = tls.psk
    if (psk === null) {
        return {}
    }
    return { pskCallback: () => ({ psk: psk.key, identity: psk.identity }), ciphers: ciphers ?? 'PSK', maxVersion: 'TLSv1.2' }
}

/** Client options: verification is done after the handshake (verifyPeerCertificate) to give clear errors. */
export function clientTlsOptions(sp: RSocket, host: string): ConnectionOptions {
    const s = settings(sp, false)
    return {
        ca: s.ca, key: s.key, cert: s.cert, crl: s.crl, ciphers: s.ciphers,
        ALPNProtocols: s.alpn,
        servername: sp.tls!.serverName ?? (isIP(host) ? undefined : host),
        minVersion: (sp.tls!.minVersion ?? undefined) as ConnectionOptions['minVersion'],
        maxVersion: (sp.tls!.maxVersion ?? undefined) as ConnectionOptions['maxVersion'],
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        ...pskOptions(sp.tls!, s.ciphers),
    }
}

export function serverTlsOptions(sp: RSocket): TlsOptions & { verifyPeer: number } {
    const s = settings(sp, true)
    if (!s.key || !s.cert) {
        throw new TlsSetupError('A TLS listener needs a key and a certificate (rSetSocketCerts)')
    }
    return {
        ca: s.ca, key: s.key, cert: s.cert, crl: s.crl, ciphers: s.ciphers,
        ALPNProtocols: s.alpn,
        requestCert: s.verifyPeer === 1,
        rejectUnauthorized: s.verifyPeer === 1 && s.verifyIssuer === 1,
        verifyPeer: s.verifyPeer,
    }
}

/**
    Check a client connection after the handshake: the issuer chain, the host name, ALPN. Returns an error
    message, or null when the connection is acceptable. Records the ALPN protocol and the peer subject.
 */
export function verifyServer(sp: RSocket, socket: TLSSocket, host: string): string | null {
    const s = settings(sp, false)
    const cert = socket.getPeerCertificate()
    sp.alpn = socket.alpnProtocol || null
    sp.peerSubject = subjectOf(cert)
    if (s.verifyPeer && sp.tls!.psk === null) {
        if (s.verifyIssuer && !socket.authorized) {
            return `Certificate not trusted: ${String(socket.authorizationError)} (subject "${sp.peerSubject}")`
        }
        const mismatch = sp.tls!.checkHost ? checkServerIdentity(sp.tls!.serverName ?? host, cert) : undefined
        if (mismatch) {
            return `Host name mismatch: ${mismatch.message}`
        }
    }
    if (s.alpn && !socket.alpnProtocol) {
        return `The server accepted none of the ALPN protocols offered (${s.alpn.join(', ')})`
    }
    return null
}

/** Record what an accepted TLS connection negotiated. */
export function noteAccepted(sp: RSocket, socket: TLSSocket): void {
    sp.alpn = socket.alpnProtocol || null
    const cert = socket.getPeerCertificate()
    sp.peerSubject = cert && Object.keys(cert).length ? subjectOf(cert) : null
}

export function subjectOf(cert: PeerCertificate | null | undefined): string | null {
    if (!cert || !cert.subject) {
        return null
    }
    return Object.entries(cert.subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', ')
}
