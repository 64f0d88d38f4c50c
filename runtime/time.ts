/*
    Time: monotonic ticks for deadlines and timers, wall-clock time for dates.
 */
import { performance } from 'node:perf_hooks'
import { onMicrotask } from './microtask.js'

/** Ticks per second: ticks are milliseconds. */
export const TPS = 1000
export const MAXINT = 0x7fffffff
/** The largest exact integer: stands for C's MAXINT64 ("forever"). */
export const MAXINT64 = Number.MAX_SAFE_INTEGER
/** A time far enough in the future to mean "never", with room for arithmetic (MAXINT64 - MAXINT as in C). */
export const MAXTIME = MAXINT64 - MAXINT

/**
    Monotonic milliseconds (never jumps with the wall clock). Use for deadlines: `rGetTicks() + 5 * TPS`.
    @example const deadline = rGetTicks() + 5 * TPS
 */
export function rGetTicks(): number {
    return Math.floor(performance.now())
}

let cachedTicks = 0
let cacheValid = false

function expireTicks(): void {
    cacheValid = false
}

/**
    @internal
    rGetTicks read once per run of synchronous work (the value is kept until the current task's microtasks
    run): for stamping many messages in a burst with one clock read.
    @example msg.sent = rGetTicksCached()
 */
export function rGetTicksCached(): number {
    if (!cacheValid) {
        cachedTicks = Math.floor(performance.now())
        cacheValid = true
        onMicrotask(expireTicks)
    }
    return cachedTicks
}

/**
    Milliseconds since the epoch (wall clock).
    @example rInfo('app', 'Booted at %s', new Date(rGetTime()).toISOString())
 */
export function rGetTime(): number {
    return Date.now()
}

/**
    Ticks elapsed since `mark`.
    @example const mark = rGetTicks(); work(); rDebug('app', 'took %d ms', rGetElapsedTicks(mark))
 */
export function rGetElapsedTicks(mark: number): number {
    return rGetTicks() - mark
}

/**
    Ticks left of `timeout` counted from `mark` (never negative).
    @example yield* rSleep(rGetRemainingTicks(mark, 1000))
 */
export function rGetRemainingTicks(mark: number, timeout: number): number {
    const left = mark + timeout - rGetTicks()
    return left < 0 ? 0 : left
}
