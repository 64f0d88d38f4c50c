/*
    TLS configuration for sockets: certificates (file paths as in C, or PEM text), peer and issuer
    verification, ciphers and ALPN, with process-wide defaults applied at connect or listen time. Only settings:
    what a connection is made with (node:tls, certificate files) is in tls-options.ts, loaded on first use.
 */
import { R_ERR_BAD_ARGS } from '../runtime/errors.js'
import type { RSocket } from './rsocket.js'
import { RTls, tlsDefaults as defaults } from './tls-settings.js'

export { RTls }

function tlsOf(sp: RSocket): RTls {
    if (sp.tls === null) {
        sp.tls = new RTls()
    }
    return sp.tls
}

/**
    Set certificates; this is how a socket becomes TLS. Argument order as in C: ca, key, cert, revoke.
    Each is a file path or PEM text; null leaves an earlier value unchanged. Files are read at connect time.
    @example rSetSocketCerts(sock, 'certs/ca.crt', 'certs/device.key', 'certs/device.crt', null)
 */
export function rSetSocketCerts(sp: RSocket, ca: string | null, key: string | null, cert: string | null, revoke: string | null = null): void {
    const tls = tlsOf(sp)
    tls.ca = ca ?? tls.ca
    tls.key = key ?? tls.key
    tls.cert = cert ?? tls.cert
    tls.revoke = revoke ?? tls.revoke
}

/**
    Verify the peer (certificate and host name) and its issuer (the chain up to a trusted CA). Both default to 1
    on clients. verifyIssuer 0 accepts self-signed certificates. On a listener, verifyPeer 1 requires client
    certificates. Makes the socket TLS.
    @example rSetSocketVerify(sock, 1, 0)   // a self-signed test broker
 */
export function rSetSocketVerify(sp: RSocket, verifyPeer: number | boolean, verifyIssuer: number | boolean): void {
    const tls = tlsOf(sp)
    tls.verifyPeer = verifyPeer ? 1 : 0
    tls.verifyIssuer = verifyIssuer ? 1 : 0
}

/**
    Turn TLS on with the default settings.
    @example rSetTls(sock); yield* rConnectSocket(sock, 'broker.example.com', 8883, 0)
 */
export function rSetTls(sp: RSocket): void {
    tlsOf(sp)
}

/**
    OpenSSL cipher list for this socket (used when it is TLS).
    @example rSetSocketCiphers(sock, 'ECDHE-ECDSA-AES128-GCM-SHA256')
 */
export function rSetSocketCiphers(sp: RSocket, ciphers: string | null): void {
    sp.ciphers = ciphers
    if (sp.tls) {
        sp.tls.ciphers = ciphers
    }
}

/**
    ALPN protocols, comma or space separated. Takes the socket's TLS object as in C (`rSetTlsAlpn(sock.tls, …)`)
    or the socket itself (which makes it TLS).
    @example rSetTlsAlpn(sock, 'x-amzn-mqtt-ca')   // MQTT over port 443 to AWS IoT
 */
export function rSetTlsAlpn(target: RTls | RSocket | null, alpn: string | null): void {
    if (target === null) {
        return
    }
    const tls = target instanceof RTls ? target : tlsOf(target)
    tls.alpn = parseAlpn(alpn)
}

/**
    The TLS server name: sent as SNI and checked against the server's certificate instead of the host
    connected to (an IP address, a load balancer's name, a tunnel). null goes back to the host. Makes the socket TLS.
    @example rSetTlsServerName(sock, 'a1b2c3-ats.iot.us-east-1.amazonaws.com'); yield* rConnectSocket(sock, '10.0.0.7', 8883, 0)
 */
export function rSetTlsServerName(sp: RSocket, name: string | null): void {
    tlsOf(sp).serverName = name === '' ? null : name
}

/**
    TLS with a pre-shared key instead of certificates (TLS 1.2 PSK cipher suites): the key in hexadecimal and
    the identity to send. Returns 0, or R_ERR_BAD_ARGS for a key that is not hexadecimal. Makes the socket TLS.
    @example rSetTlsPsk(sock, '0102030405060708090a0b0c0d0e0f10', 'dev-1')
 */
export function rSetTlsPsk(sp: RSocket, hexKey: string, identity: string): number {
    if (!/^([0-9a-fA-F]{2})+$/.test(hexKey) || typeof identity !== 'string') {
        return R_ERR_BAD_ARGS
    }
    tlsOf(sp).psk = { key: Buffer.from(hexKey, 'hex'), identity }
    return 0
}

/**
    Whether the server's host name is checked against its certificate (default on). Off, the certificate chain
    is still verified (rSetSocketVerify's issuer check): what mosquitto's --insecure does. Makes the socket TLS.
    @example rSetTlsHostCheck(sock, false)   // a broker reached by a name its certificate does not carry
 */
export function rSetTlsHostCheck(sp: RSocket, on: boolean): void {
    tlsOf(sp).checkHost = on
}

/**
    The TLS protocol versions to allow: 'TLSv1.1', 'TLSv1.2' or 'TLSv1.3' (null: Node's defaults). Makes the socket TLS.
    @example rSetTlsVersion(sock, 'TLSv1.2', 'TLSv1.2')   // exactly TLS 1.2
 */
export function rSetTlsVersion(sp: RSocket, min: string | null, max: string | null): void {
    const tls = tlsOf(sp)
    tls.minVersion = min
    tls.maxVersion = max
}

/**
    Process-wide certificates for sockets that set none (ca, key, cert, revoke), as in C.
    @example rSetSocketDefaultCerts('certs/aws.crt', 'certs/device.key', 'certs/device.crt', null)
 */
export function rSetSocketDefaultCerts(ca: string | null, key: string | null, cert: string | null, revoke: string | null = null): void {
    defaults.ca = ca
    defaults.key = key
    defaults.cert = cert
    defaults.revoke = revoke
}

/**
    Process-wide peer and issuer verification for sockets that set none.
    @example rSetSocketDefaultVerify(1, 1)
 */
export function rSetSocketDefaultVerify(verifyPeer: number | boolean, verifyIssuer: number | boolean): void {
    defaults.verifyPeer = verifyPeer ? 1 : 0
    defaults.verifyIssuer = verifyIssuer ? 1 : 0
}

/**
    Process-wide OpenSSL cipher list for sockets that set none.
    @example rSetSocketDefaultCiphers('HIGH:!aNULL')
 */
export function rSetSocketDefaultCiphers(ciphers: string | null): void {
    defaults.ciphers = ciphers
}

/**
    Process-wide ALPN protocols (comma list) for sockets that set none.
    @example rSetTlsDefaultAlpn('x-amzn-mqtt-ca')
 */
export function rSetTlsDefaultAlpn(alpn: string | null): void {
    defaults.alpn = parseAlpn(alpn)
}

function parseAlpn(alpn: string | null): string[] | null {
    const list = (alpn ?? '').split(/[\s,]+/).filter(Boolean)
    return list.length ? list : null
}
