/*
    The fiber API, named as in Ioto's runtime: rSpawnFiber, rAllocFiber, rStartFiber, rYieldFiber, rResumeFiber.
 */
import { R_ERR_BAD_ARGS, R_ERR_BAD_STATE } from './errors.js'
import {
    allocFiber, currentFiber, drainNow, F_DONE, F_NEW, F_PARKED, F_STATE, FiberError, isDraining, resumeParked, resumeQueued, RFiber,
    schedule, scheduleCancel,
} from './scheduler.js'
import type { RFiberProc, Waitable } from './body.js'

/**
    Start `fn(arg)` on a new fiber. It runs from the run queue, after the caller continues (as in C).
    Returns 0, or R_ERR_BAD_ARGS when fn is not a function.
    @example rSpawnFiber('blink', function* (ms) { for (;;) { toggle(); yield* rSleep(ms) } }, 500)
 */
export function rSpawnFiber(name: string, fn: RFiberProc, arg?: unknown): number {
    if (typeof fn !== 'function') {
        return R_ERR_BAD_ARGS
    }
    schedule(allocFiber(name || 'fiber', fn, arg), undefined)
    return 0
}

/**
    Allocate a fiber that runs `fn(data)` once started with rStartFiber or rResumeFiber.
    @example const f = rAllocFiber('reader', readLoop, sock)!; rStartFiber(f)
 */
export function rAllocFiber(name: string | null, fn: RFiberProc, data?: unknown): RFiber | null {
    if (typeof fn !== 'function') {
        return null
    }
    return allocFiber(name || 'fiber', fn, data)
}

/**
    Start a new fiber, or resume a parked one with `data`, from the run queue (always deferred).
    @example rStartFiber(rAllocFiber('reader', readLoop, null)!, sock)
 */
export function rStartFiber(fiber: RFiber, data?: unknown): void {
    const state = fiber.state & F_STATE
    if (state === F_NEW) {
        schedule(fiber, undefined)
    } else if (state === F_PARKED) {
        resumeParked(fiber, data)
    }
}

/**
    The running fiber (null on the main context).
    @example rWatch('ready', rResumeFiber, rGetFiber()); yield* rYieldFiber()
 */
export function rGetFiber(): RFiber | null {
    return currentFiber()
}

/**
    Whether the caller runs on the main context rather than a fiber.
    @example if (rIsMain()) rSpawnFiber('job', job, arg); else yield* job(arg)
 */
export function rIsMain(): boolean {
    return currentFiber() === null
}

/**
    Suspend the calling fiber until rResumeFiber (or an event) resumes it; evaluates to the resume value.
    `value` is what rResumeFiber returns to a resumer on the main context.
    @example const reply = yield* rYieldFiber()
 */
export function rYieldFiber(value?: unknown): Waitable<unknown> {
    const f = currentFiber()
    if (f === null) {
        notInFiber('rYieldFiber: cannot yield outside a fiber')
    }
    f.value = value
    return f
}

/* Kept out of the callers' own code, which stays short enough to be inlined where it is called */
function notInFiber(message: string): never {
    throw new FiberError(message)
}

/**
    Resume a suspended fiber with `result`. From a fiber (or any callback) the resume is queued and `result` is
    returned at once; from the main context the fiber runs now and the value it next yields (or returns) is
    returned. Resuming a finished or running fiber returns R_ERR_BAD_STATE.
    @example rResumeFiber(waiter, 'reply')   // the waiter's yield* rYieldFiber() evaluates to 'reply'
 */
export function rResumeFiber(fiber: RFiber, result?: unknown): unknown {
    /* The common resume (a parked fiber, from a fiber or callback of the drain) is queued in one short call */
    if (fiber instanceof RFiber && resumeQueued(fiber, result)) {
        return result
    }
    return resumeFiber(fiber, result)
}

function resumeFiber(fiber: RFiber, result: unknown): unknown {
    if (!(fiber instanceof RFiber)) {
        return R_ERR_BAD_ARGS
    }
    const state = fiber.state & F_STATE
    if (state === F_PARKED) {
        resumeParked(fiber, result)
    } else if (state === F_NEW) {
        schedule(fiber, undefined)
    } else {
        return R_ERR_BAD_STATE
    }
    if (currentFiber() !== null || isDraining()) {
        return result
    }
    drainNow()
    return fiber.value
}

/**
    Cancel a fiber: its generator is returned, so its finally blocks run (releasing sockets and timers).
    Returns 0, or R_ERR_BAD_STATE for a finished fiber or the caller itself.
    @example rCancelFiber(reader)   // its finally blocks close the socket
 */
export function rCancelFiber(fiber: RFiber): number {
    const state = fiber.state & F_STATE
    if (state === F_DONE || fiber === currentFiber()) {
        return R_ERR_BAD_STATE
    }
    scheduleCancel(fiber)
    return 0
}

export { RFiber, FiberError } from './scheduler.js'
export { rGetFiberStats } from './live.js'
export { type RFiberProc, type Fiber, type Waitable, type CallbackResult } from './body.js'
