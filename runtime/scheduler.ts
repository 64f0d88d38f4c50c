/*
    The scheduler: fibers are generators stepped from one run queue. A resume that arrives while a fiber runs,
    or from an I/O or timer callback, is queued, never run recursively, so the JS stack stays flat and the order
    is FIFO. The queue drains on a microtask; after a budget of steps it yields to Node's event loop so I/O runs.
 */
import { rError } from './log.js'
import { RingQueue } from './queue.js'
import { onMicrotask } from './microtask.js'
import { asGenerator, isBody, type Parking, type RFiberProc } from './body.js'
import { addLive, removeLive } from './live.js'

export const PARK: unique symbol = Symbol('park')

/*
    Iterator results made by a real generator carry V8's own iterator-result map, the same as every generator
    step returns, so the scheduler's property loads stay monomorphic whatever mix of fibers runs.
 */
function* resultMaker(value: unknown): Generator<unknown, unknown, unknown> {
    if (value === PARK) {
        yield value
    }
    return value
}

/** A fresh complete iterator result { value, done: true } with the engine's own map. */
export function iterResult<T>(value: T): IteratorReturnResult<T> {
    return resultMaker(value).next() as IteratorReturnResult<T>
}

export const PARK_RESULT = resultMaker(PARK).next() as IteratorYieldResult<unknown>
/** Marks the runtime's waitables so that a mistaken `yield w` (instead of `yield* w`) is caught. */
export const WAITABLE: unique symbol = Symbol('waitable')

/** Shared result object for a resumed suspension: yield* reads it at once, so one object serves every resume. */
export const RESUMED = iterResult<unknown>(undefined)

/** The generators' own next: a step calls it directly, with no lookup of "next" on bodies of every kind. */
const GEN_NEXT = (Object.getPrototypeOf(resultMaker.prototype) as Generator<unknown, unknown, unknown>).next

/* The run queue yields to Node's event loop once it has run for this many ms (checked every STEPS_PER_CHECK
   steps): fibers that keep resuming each other hold off I/O and timers no longer than that, however long or
   short their steps are */
const SLICE_MS = 2
const STEPS_PER_CHECK = 1024

export const F_NEW = 0
export const F_READY = 1
export const F_RUNNING = 2
export const F_PARKED = 3
export const F_DONE = 4
/** The state bits of RFiber.state (the rest are flags) */
export const F_STATE = 7
const F_SUSPEND = 8
/* Set on a queued fiber whose next step is a cancellation (its generator returned) */
const F_CANCEL = 16

/**
    A fiber. Fields are few on purpose (a parked fiber should cost little memory): `gen` holds the proc until
    the fiber starts, `value` holds the argument, then the resume value, the yielded value, and the result.
    @example const f: RFiber = rAllocFiber('worker', worker, job)!; rStartFiber(f); if (f.done) rInfo('app', 'worker ended')
 */
export class RFiber {
    name: string
    gen: Generator<unknown, unknown, unknown> | RFiberProc | null
    value: unknown
    state: number
    waiting: Parking | null
    lprev: RFiber | null
    lnext: RFiber | null

    constructor(name: string, fn: RFiberProc, data: unknown) {
        this.name = name
        this.gen = fn
        this.value = data
        this.state = F_NEW
        this.waiting = null
        this.lprev = null
        this.lnext = null
    }

    /* A fiber is the waitable of its own suspension (rYieldFiber, rSleep): no allocation per wait. */
    [Symbol.iterator](): this {
        return this
    }

    next(value?: unknown): IteratorResult<unknown, unknown> {
        const state = this.state
        if ((state & F_SUSPEND) !== 0) {
            this.state = state & ~F_SUSPEND
            RESUMED.value = value
            return RESUMED
        }
        if (current !== this) {
            throw new FiberError(current === null ?
                'Cannot wait outside a fiber: run blocking calls in a fiber (rSpawnFiber) or use the promise facade' :
                `Fiber "${current.name}" cannot wait on the suspension of fiber "${this.name}"`)
        }
        this.state = state | F_SUSPEND
        return PARK_RESULT
    }

    return(value?: unknown): IteratorResult<unknown, unknown> {
        this.state &= ~F_SUSPEND
        const waiting = this.waiting
        if (waiting !== null) {
            this.waiting = null
            waiting.cancel(this)
        }
        RESUMED.value = value
        return RESUMED
    }

    get done(): boolean {
        return (this.state & F_STATE) === F_DONE
    }
}
(RFiber.prototype as unknown as Record<symbol, boolean>)[WAITABLE] = true

/**
    Thrown for programming errors: waiting outside a fiber, yielding a waitable without `*`.
    @example try { yield w } catch (e) { if (e instanceof FiberError) rError('app', '%s', e.message) }   // write yield* w
 */
export class FiberError extends Error {
    override name = 'FiberError'
}

let current: RFiber | null = null
let draining = false
let drainScheduled = false
let stopped = false
const runq = new RingQueue<RFiber>(1024)


/** The running fiber, or null on the main (non-fiber) context. */
export function currentFiber(): RFiber | null {
    return current
}

export function isDraining(): boolean {
    return draining
}

/** Allocate a fiber that will run fn(data) once started. */
export function allocFiber(name: string, fn: RFiberProc, data: unknown): RFiber {
    const f = new RFiber(name, fn, data)
    addLive(f)
    return f
}

/** Queue a fiber to run with a resume value. The caller guarantees it is NEW or PARKED. */
export function schedule(f: RFiber, value: unknown): void {
    if ((f.state & F_STATE) !== F_NEW) {
        f.value = value
    }
    f.waiting = null
    enqueue(f)
}

/**
    Queue a parked fiber that waits on nothing but its own suspension, from a running fiber or callback of the
    drain (the common resume: one fiber handing a value to another). Returns false, having done nothing, for
    every other case, which the caller takes the long way.
 */
export function resumeQueued(f: RFiber, value: unknown): boolean {
    const state = f.state
    if ((state & F_STATE) !== F_PARKED || f.waiting !== null || !draining) {
        return false
    }
    f.value = value
    enqueue(f)
    return true
}

/** Queue a parked fiber to run with a resume value, detaching it from what it waited on. */
export function resumeParked(f: RFiber, value: unknown): void {
    const waiting = f.waiting
    if (waiting !== null) {
        f.waiting = null
        waiting.cancel(f)
    }
    f.value = value
    enqueue(f)
}

/* Mark a fiber ready and queue it; the queue drains on a microtask unless it is draining or due to already */
function enqueue(f: RFiber): void {
    f.state = (f.state & F_SUSPEND) | F_READY
    runq.push(f)
    if (!draining && !drainScheduled) {
        drainScheduled = true
        onMicrotask(drain)
    }
}

/** Queue a cancellation: the fiber's generator is returned, running its finally blocks. */
export function scheduleCancel(f: RFiber): void {
    const waiting = f.waiting
    if (waiting !== null) {
        f.waiting = null
        waiting.cancel(f)
    }
    /* Never started (new, or queued for its first step): it ends without running, its argument untouched */
    if ((f.state & F_STATE) === F_NEW || ((f.state & F_STATE) === F_READY && typeof f.gen === 'function')) {
        finish(f, undefined)
        return
    }
    if ((f.state & F_STATE) !== F_READY) {
        schedule(f, undefined)
    }
    f.state |= F_CANCEL
}

/** Run queued fibers now (used when the main context resumes a fiber, as C does). */
export function drainNow(): void {
    if (!draining) {
        drain()
    }
}

export function setStopped(on: boolean): void {
    stopped = on
    if (!on && runq.length > 0 && !draining && !drainScheduled) {
        drainScheduled = true
        onMicrotask(drain)
    }
}

function drain(): void {
    drainScheduled = false
    if (stopped) {
        return
    }
    draining = true
    let budget = STEPS_PER_CHECK
    const sliceStart = performance.now()
    try {
        let f: RFiber | undefined
        while ((f = runq.shift()) !== undefined) {
            step(f)
            if (--budget === 0) {
                /* A long drain reads the clock every so many steps: after a slice of time it lets I/O and
                   timers run, then goes on */
                budget = STEPS_PER_CHECK
                if (performance.now() - sliceStart >= SLICE_MS && runq.length > 0) {
                    drainScheduled = true
                    setImmediate(drain)
                    break
                }
            }
            if (stopped) {
                break
            }
        }
    } finally {
        draining = false
    }
}

function step(f: RFiber): void {
    /* The state is read once: the step's checks and the RUNNING transition (which clears F_CANCEL) use it */
    const state = f.state
    if ((state & F_STATE) !== F_READY) {
        return
    }
    current = f
    f.state = (state & F_SUSPEND) | F_RUNNING
    let result: IteratorResult<unknown, unknown>
    try {
        const gen = f.gen
        if (typeof gen === 'function') {
            result = start(f, gen)
        } else if ((state & F_CANCEL) === 0) {
            /* The generators' own next, called directly: no lookup of "next" on bodies of every kind */
            result = GEN_NEXT.call(gen, f.value)
        } else {
            result = gen!.return(undefined)
        }
        if (result.value !== PARK && !result.done) {
            result = rawYield(f, result)
        }
    } catch (err) {
        current = null
        fiberFailed(f.name, err)
        finish(f, err)
        return
    }
    current = null
    if (result.done) {
        finish(f, result.value)
    } else {
        const after = f.state
        if ((after & F_STATE) === F_RUNNING) {
            f.state = (after & F_SUSPEND) | F_PARKED
        }
    }
}

/* First step: call the proc; a generator becomes the fiber's body, anything else is its result (a promise's
   rejection is logged as the fiber's failure, never left unhandled) */
function start(f: RFiber, fn: RFiberProc): IteratorResult<unknown, unknown> {
    const data = f.value
    f.value = undefined
    const r = fn(data as never)
    if (isBody(r)) {
        f.gen = asGenerator(r)
        return GEN_NEXT.call(f.gen, undefined)
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
        const name = f.name
        ;(r as PromiseLike<unknown>).then(undefined, (err: unknown) => fiberFailed(name, err))
    }
    return iterResult(r)
}

function fiberFailed(name: string, err: unknown): void {
    rError('fiber', 'Fiber "%s" failed: %s', name, err instanceof Error ? (err.stack ?? err.message) : String(err))
}

/* A yield that is not a runtime suspension: a bare `yield value` parks like rYieldFiber(value) */
function rawYield(f: RFiber, result: IteratorResult<unknown, unknown>): IteratorResult<unknown, unknown> {
    while (!result.done && result.value !== PARK) {
        const v = result.value as { [WAITABLE]?: boolean, then?: unknown } | null
        if (v !== null && (typeof v === 'object' || typeof v === 'function') && (v[WAITABLE] || typeof v.then === 'function')) {
            /* `yield w` where `yield* w` was meant: tell the fiber instead of parking it forever */
            result = (f.gen as Generator).throw(new FiberError(typeof v.then === 'function' ?
                `Fiber "${f.name}" yielded a promise: fibers wait with yield* on runtime calls (see rAwait)` :
                `Fiber "${f.name}" used "yield" on a waitable: write "yield*"`))
            continue
        }
        f.value = v
        return PARK_RESULT
    }
    return result
}

function finish(f: RFiber, value: unknown): void {
    f.state = F_DONE
    f.value = value
    f.gen = null
    f.waiting = null
    removeLive(f)
}
