/*
    The TLS part (tls-options.ts: node:tls, certificate files, the checks after a handshake), loaded on the first
    TLS connect or listen: a program that speaks plain TCP never loads it, and a bundle keeps it in a chunk of its
    own.
 */
export type TlsPart = typeof import('./tls-options.js')

/** The TLS part once loaded (null before). */
export let tlsPart: TlsPart | null = null
let loading: Promise<TlsPart> | null = null

/** Load the TLS part (once); the promise settles when it is ready. */
export function loadTls(): Promise<TlsPart> {
    return loading ??= import('./tls-options.js').then(m => tlsPart = m)
}
