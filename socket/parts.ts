/*
    The parts a connection may need, loaded on first use: TLS (tls-options.ts: node:tls, certificate files, the
    checks after a handshake) and WebSocket (websocket.ts: the HTTP upgrade and the frames). The settings
    (tls.ts, ws-settings.ts) only record what is asked; the first connect or listen that needs a part loads it,
    within its deadline. A program that never uses one never loads it, and a bundle keeps each in a chunk of its
    own, reached only by import().
 */
import type { RSocket } from './rsocket.js'

export type TlsPart = typeof import('./tls-options.js')
export type WsPart = typeof import('./websocket.js')

/** The parts once loaded (null before). */
export let tlsPart: TlsPart | null = null
export let wsPart: WsPart | null = null
let tlsLoading: Promise<TlsPart> | null = null
let wsLoading: Promise<WsPart> | null = null

/** Load the TLS part (once); the promise settles when it is ready, or fails saying which part could not load. */
export function loadTls(): Promise<TlsPart> {
    return tlsLoading ??= named('TLS', import('./tls-options.js')).then(m => tlsPart = m)
}

/** Load the WebSocket part (once). */
export function loadWs(): Promise<WsPart> {
    return wsLoading ??= named('WebSocket', import('./websocket.js')).then(m => wsPart = m)
}

function named<T>(part: string, loading: Promise<T>): Promise<T> {
    return loading.catch((err: Error) => {
        throw new Error(`Cannot load the ${part} part: ${err.message}`)
    })
}

/** What a connect on this socket still has to load: a promise, or null when everything it needs is here. */
export function partsToLoad(sp: RSocket): Promise<unknown> | null {
    const tls = sp.tls !== null && tlsPart === null
    const ws = sp.ws !== null && wsPart === null
    return tls && ws ? Promise.all([loadTls(), loadWs()]) : tls ? loadTls() : ws ? loadWs() : null
}
