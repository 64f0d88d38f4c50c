/*
    Lifecycle: rInit, rServiceEvents, rStop, rGracefulStop, rTerm and the runtime state, as in Ioto.
    rServiceEvents() is a promise: a ported C main() ends with `await rServiceEvents()`. It settles after
    rStop(), or when nothing is left that could wake a fiber (the process would otherwise exit with the
    promise pending).
 */
import { R_ERR_BAD_ARGS } from './errors.js'
import { haltEvents } from './events.js'
import { rDebug } from './log.js'
import { allocFiber, schedule, scheduleCancel, setStopped } from './scheduler.js'
import { liveFibers, rGetFiberStats } from './live.js'
import type { RFiberProc } from './body.js'
import { clearWatches } from './watch.js'

export const R_STARTED = 0
export const R_INITIALIZED = 1
export const R_READY = 2
export const R_RUNNING = 2
export const R_STOPPING = 3
export const R_STOPPED = 4
export const R_RESTART = 5

let state = R_STARTED
let waiters: ((state: number) => void)[] = []

/**
    Initialise the runtime and, when fn is given, start it on the fiber "init-main".
    @example rInit(main, null); await rServiceEvents(); rTerm()
 */
export function rInit(fn?: RFiberProc | null, arg?: unknown): number {
    if (fn !== undefined && fn !== null && typeof fn !== 'function') {
        return R_ERR_BAD_ARGS
    }
    state = R_INITIALIZED
    setStopped(false)
    haltEvents(false)
    if (fn) {
        schedule(allocFiber('init-main', fn, arg), undefined)
    }
    return 0
}

/**
    Service events until rStop(): resolves with the final state. Fibers, timers and I/O run on Node's event loop
    whether or not this is awaited; awaiting it keeps a ported main() shaped like C's.
    @example rInit(main, null); await rServiceEvents(); rTerm()
 */
export function rServiceEvents(): Promise<number> {
    if (state >= R_STOPPING) {
        return Promise.resolve(state)
    }
    if (state < R_READY) {
        state = R_READY
    }
    if (waiters.length === 0) {
        process.on('beforeExit', idle)
    }
    return new Promise(resolve => waiters.push(resolve))
}

/** Node found nothing left to do: no timer, socket or event can wake a fiber, so the service loop ends. */
function idle(): void {
    const { active } = rGetFiberStats()
    if (active > 0) {
        rDebug('runtime', 'Event loop idle with %d fiber(s) parked and nothing to wake them', active)
    }
    rStop()
}

/**
    Stop: the state becomes R_STOPPED, pending events are dropped and rServiceEvents() settles.
    @example rWatch('app:quit', () => rStop(), null)
 */
export function rStop(): void {
    rSetState(R_STOPPED)
}

/**
    Stop gracefully: the state becomes R_STOPPING (as in current Ioto, this also stops at once).
    @example process.on('SIGTERM', () => rGracefulStop())
 */
export function rGracefulStop(): void {
    rSetState(R_STOPPING)
}

/**
    The runtime's state: R_STARTED, R_INITIALIZED, R_READY, R_STOPPING, R_STOPPED or R_RESTART.
    @example while (rGetState() < R_STOPPING) { yield* rSleep(1000) }
 */
export function rGetState(): number {
    return state
}

/**
    Set the state; R_STOPPING or above stops the loop.
    @example rSetState(R_RESTART)
 */
export function rSetState(newState: number): void {
    state = newState
    if (newState >= R_STOPPING) {
        setStopped(true)
        haltEvents(true)
        const list = waiters
        waiters = []
        if (list.length > 0) {
            process.removeListener('beforeExit', idle)
        }
        for (const resolve of list) {
            resolve(newState)
        }
    }
}

/**
    Terminate: every live fiber is cancelled (its finally blocks run, releasing sockets and timers), watches are
    dropped, and the runtime can be initialised again.
    @example await rServiceEvents(); rTerm()
 */
export function rTerm(): void {
    if (state < R_STOPPING) {
        rSetState(R_STOPPED)
    }
    setStopped(false)
    haltEvents(false)
    for (const f of liveFibers()) {
        scheduleCancel(f)
    }
    clearWatches()
    state = R_STARTED
}
