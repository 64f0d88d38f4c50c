/*
    A socket's TLS settings (C's RTls): certificates, verification, ciphers, ALPN, server name, PSK, versions.
    Set by tls.ts, read when the socket connects or listens (tls-options.ts); kept apart so that the socket itself needs nothing else.
 */

/**
    A socket's TLS settings (C's Rtls). Fields left null or -1 take the process defaults.
    @example rSetSocketCerts(sock, 'ca.pem', null, null, null); const tls: RTls = sock.tls!
 */
export class RTls {
    ca: string | null = null
    key: string | null = null
    cert: string | null = null
    revoke: string | null = null
    verifyPeer = -1
    verifyIssuer = -1
    ciphers: string | null = null
    alpn: string[] | null = null
    /** The name sent as SNI and verified in the certificate (default: the host connected to) */
    serverName: string | null = null
    /** Check the certificate's host name (with verifyPeer); off: the chain alone is verified */
    checkHost = true
    /** TLS-PSK: the pre-shared key and the identity sent (no certificates then) */
    psk: { key: Buffer, identity: string } | null = null
    /** TLS protocol versions allowed, e.g. 'TLSv1.2' (null: Node's defaults) */
    minVersion: string | null = null
    maxVersion: string | null = null
}

/** The process-wide settings (rSetSocketDefaultCerts ...), for sockets that set none. */
export const tlsDefaults = new RTls()
