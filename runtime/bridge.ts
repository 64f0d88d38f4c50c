/*
    Bridges between fibers and promises, for code on both sides: run a fiber and await its result, or wait in a
    fiber for a promise.
 */
import { allocFiber, schedule } from './scheduler.js'
import { isBody, type RFiberProc, type Waitable } from './body.js'
import { Wait } from './waitable.js'

/**
    Run fn(arg) on a new fiber and resolve with its return value (reject if it throws).
    @example const rc = await rRunFiber('connect', function* () { return yield* mqttConnect(mq, sock, 0, MQTT_WAIT_ACK) })
 */
export function rRunFiber<T = unknown>(name: string, fn: RFiberProc, arg?: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        schedule(allocFiber(name, function* () {
            try {
                const r = fn(arg as never)
                const value = isBody(r) ? yield* r : r
                resolve(value as T)
            } catch (err) {
                reject(err)
            }
        }, undefined), undefined)
    })
}

/**
    Wait in a fiber for any waitable from outside one: resolves with what `yield*` would evaluate to.
    @example const rc = await rAwaitWaitable(mqttPing(mq, MQTT_WAIT_ACK))
 */
export function rAwaitWaitable<T>(w: Waitable<T>): Promise<T> {
    return rRunFiber<T>('await', function* () {
        return yield* w
    })
}

class PromiseWait<T> extends Wait<T> {
    failed = false
    error: unknown = undefined

    override next(resumed?: unknown): IteratorResult<unknown, T> {
        const r = super.next(resumed)
        if (r.done && this.failed) {
            throw this.error
        }
        return r
    }
}

/**
    Wait in a fiber for a promise: evaluates to its value, or throws its rejection.
    @example const text = yield* rAwait(fs.promises.readFile(path, 'utf8'))
 */
export function rAwait<T>(promise: PromiseLike<T>): Waitable<T> {
    const w = new PromiseWait<T>()
    promise.then(value => w.settle(value), (err: unknown) => {
        w.failed = true
        w.error = err
        w.settle(undefined as T)
    })
    return w
}
