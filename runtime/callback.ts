/*
    Application callbacks (message handlers, event procs, hooks, watchers) are called one way everywhere: a plain
    function runs inline; a generator function's body, or an async function's promise, becomes a fiber body
    to run or wait on. A throw or a rejection is logged with the callback's context and ends that callback
    alone: nothing reaches Node as an uncaught exception or an unhandled rejection.
 */
import { rAwait } from './bridge.js'
import { rError } from './log.js'
import { allocFiber, schedule } from './scheduler.js'
import { isBody } from './body.js'

/** A fiber body: what a generator function returns. */
export type CallbackBody = Generator<unknown, unknown, unknown>

export { isBody }

/**
    Call fn(a, b): its plain result, or a fiber body (a generator, or a body that waits for a returned promise,
    whose rejection handler is attached at once). Throws what fn throws.
    @example const r = rInvoke(hook, agent, server); const rc = isBody(r) ? yield* r : r
 */
export function rInvoke(fn: (a: never, b: never) => unknown, a?: unknown, b?: unknown): unknown {
    const r = fn(a as never, b as never)
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function' && !isBody(r)) {
        return awaitBody(rAwait(r as PromiseLike<unknown>))
    }
    return r
}

function* awaitBody(w: ReturnType<typeof rAwait>): CallbackBody {
    return yield* w
}

/**
    Call an application callback safely: as rInvoke, but a throw or a rejection (now, or later in its body) is
    logged as "`what` failed" under `source` and the result is undefined.
    @example const body = rCallback('mqtt', 'Event proc', mq.proc, mq, MQTT_EVENT_CONNECTED); if (isBody(body)) rSpawnCallback('mqtt-event', body)
 */
export function rCallback(source: string, what: string, fn: (a: never, b: never) => unknown, a?: unknown, b?: unknown): unknown {
    let r: unknown
    try {
        r = fn(a as never, b as never)
    } catch (err) {
        rCallbackFailed(source, what, err)
        return undefined
    }
    return rCallbackResult(source, what, r)
}

/**
    What a callback returned, made safe: a generator or a promise becomes a guarded fiber body (its throw or
    rejection logged as rCallback's), anything else is returned as it is. For hot paths that call the
    callback themselves.
    @example let r; try { r = cb(rp) } catch (e) { rCallbackFailed('mqtt', what, e) } ; r = rCallbackResult('mqtt', what, r)
 */
export function rCallbackResult(source: string, what: string, r: unknown): unknown {
    if (r === undefined || r === null || typeof r !== 'object') {
        return r
    }
    if (typeof (r as PromiseLike<unknown>).then === 'function' && !isBody(r)) {
        return guard(source, what, awaitBody(rAwait(r as PromiseLike<unknown>)))
    }
    return isBody(r) ? guard(source, what, r) : r
}

function* guard(source: string, what: string, body: CallbackBody): CallbackBody {
    try {
        return yield* body
    } catch (err) {
        rCallbackFailed(source, what, err)
        return undefined
    }
}

/** Run a callback's result in the calling fiber: a body to its end, a plain value as it is. */
export function* rRunResult(r: unknown): CallbackBody {
    return isBody(r) ? yield* r : r
}

/** Run a body on a fiber of its own. */
export function rSpawnCallback(name: string, body: CallbackBody): void {
    schedule(allocFiber(name, () => body, null), undefined)
}

/** Log a callback's failure with its context. */
export function rCallbackFailed(source: string, what: string, err: unknown): void {
    rError(source, '%s failed: %s', what, err instanceof Error ? (err.stack ?? err.message) : String(err))
}
