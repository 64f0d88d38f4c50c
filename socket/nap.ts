/*
    Read coalescing (rSetSocketCoalesce): a socket whose reads come fast naps between them, so that one read
    takes what many would have. A read is a turn of the event loop that brings data; the NAP_READS-th within one
    nap starts a nap: the stream pauses for the nap (a client TCP stream's one-byte high-water mark stops the
    kernel reads after one more chunk), then the next read takes all that arrived meanwhile. Traffic slower than
    that never waits.
 */
import { startTimer, stopTimer } from '../runtime/events.js'
import { R_SOCKET_CLOSED } from './flags.js'
import type { RSocket } from './rsocket.js'

/* Naps follow only chunks smaller than this (a larger read already spreads its wake-up) */
export const NAP_BELOW = 16 * 1024
/* ... and only when this many reads came within one nap: a nap costs about two wake-ups (its timer, and the
   chunk Node reads before the pause takes hold), so it pays where it saves several reads, not one or two */
export const NAP_READS = 6
/* The longest nap a socket takes, in milliseconds */
export const NAP_MAX = 1000

/** Whether ms is a nap rSetSocketCoalesce takes: an integer from 0 (off) to NAP_MAX. */
export function isNap(ms: number): boolean {
    return Number.isInteger(ms) && ms >= 0 && ms <= NAP_MAX
}

/* Turns of the event loop in which coalescing sockets received (counted by an immediate while they do) */
let turn = 0
let turnArmed = false

function nextTurn(): void {
    turn++
    turnArmed = false
}

/** Count a small chunk's read, and start a nap when it is the NAP_READS-th within one. */
export function coalesce(sp: RSocket): void {
    /* Chunks handed over in one turn of the event loop are one wake-up (a TLS stream's records of one read, what
       a stream had buffered while paused): they count as one read */
    if (!turnArmed) {
        turnArmed = true
        setImmediate(nextTurn)
    }
    if (sp.rxTurn === turn) {
        return
    }
    sp.rxTurn = turn
    const now = performance.now()
    const times = sp.rxTimes ??= new Float64Array(NAP_READS - 1).fill(-Infinity)
    const at = sp.rxAt
    if (now - times[at] < sp.coalesce && sp.napTimer === null && !sp.held && !sp.paused && sp.handle !== null) {
        sp.naps++
        sp.handle.pause()
        sp.napTimer = startTimer(wake, sp, sp.coalesce)
    }
    times[at] = now
    sp.rxAt = at + 1 === times.length ? 0 : at + 1
}

function wake(sp: RSocket): void {
    sp.napTimer = null
    if (!sp.held && !sp.paused && !(sp.flags & R_SOCKET_CLOSED)) {
        sp.handle?.resume()
    }
}

/** End a nap now (coalescing turned off, the socket closed): reading resumes unless something else holds it. */
export function endNap(sp: RSocket): void {
    if (sp.napTimer !== null) {
        stopTimer(sp.napTimer)
        wake(sp)
    }
}
