/*
    Events and timers: one heap for every sleep, event and internal deadline, served by a single Node timer
    that is re-armed for the earliest entry. Entries that something waits on keep the process alive; internal
    housekeeping timers do not.
 */
import { isBody, rCallback, rSpawnCallback } from './callback.js'
import { allocFiber, currentFiber, F_NEW, F_PARKED, F_STATE, resumeParked, RFiber, schedule } from './scheduler.js'
import type { CallbackResult, Parking, Waitable } from './body.js'
import { TimerHeap, type HeapEntry } from './heap.js'
import { MAXTIME, rGetTicks } from './time.js'
import { done } from './waitable.js'

/** An event procedure: runs on a fiber of its own (it may block), or inline on the main context with R_EVENT_FAST. */
export type REventProc = (data: never) => CallbackResult
/** An event id: positive; 0 means "no event". */
export type REvent = number

/** rAllocEvent flag: run the proc inline on the main context (it must not block). */
export const R_EVENT_FAST = 0x1

const E_SLEEP = 0x100
const E_REF = 0x200
const E_CALLBACK = 0x400
const MAX_TIMER = 0x7fffffff

/** A timer entry. Also what a sleeping fiber waits on (cancelled when the fiber leaves another way). */
export class TimerEvent implements Parking {
    due = 0
    bucket: Bucket | null = null
    slot = 0
    id = 0
    fiber: RFiber | null
    proc: REventProc | null
    data: unknown
    flags: number

    constructor(fiber: RFiber | null, proc: REventProc | null, data: unknown, flags: number) {
        this.fiber = fiber
        this.proc = proc
        this.data = data
        this.flags = flags
    }

    cancel(): void {
        if (removeEvent(this) && this.flags & E_SLEEP) {
            recycle(this)
        }
    }
}

/*
    Entries due in the same tick share a bucket, so the heap orders distinct due times only: many sleepers on
    the same tick cost an array push and a pop each, and equal due times stay in FIFO order.
 */
class Bucket implements HeapEntry {
    due = 0
    seq = 0
    index = -1
    items: (TimerEvent | null)[] = []
    live = 0
}

const heap = new TimerHeap<Bucket>()
const buckets = new Map<number, Bucket>()
const events = new Map<number, TimerEvent>()
const pool: TimerEvent[] = []
const POOL_MAX = 4096
let lastId = 0
let refs = 0
let timer: NodeJS.Timeout | NodeJS.Immediate | null = null
let immediate = false
let armedDue = Infinity
let halted = false

function insertEvent(e: TimerEvent, delay: number): void {
    const now = rGetTicks()
    const due = delay <= 0 ? now : delay >= MAXTIME - now ? MAXTIME : now + delay
    let b = buckets.get(due)
    if (b === undefined) {
        b = new Bucket()
        buckets.set(due, b)
        heap.insert(b, due)
    }
    e.due = due
    e.bucket = b
    e.slot = b.items.length
    b.items.push(e)
    b.live++
    if (e.flags & E_REF) {
        refs++
    }
    if (timer === null || due < armedDue) {
        arm()
    } else if (refs === 1) {
        setRef()
    }
}

function removeEvent(e: TimerEvent): boolean {
    const b = e.bucket
    if (b === null) {
        return false
    }
    b.items[e.slot] = null
    e.bucket = null
    if (--b.live === 0) {
        heap.remove(b)
        if (buckets.get(b.due) === b) {
            buckets.delete(b.due)
        }
    }
    if (e.flags & E_REF) {
        refs--
    }
    if (e.id) {
        events.delete(e.id)
    }
    if (heap.size === 0) {
        disarm()
    } else if (timer !== null) {
        setRef()
    }
    return true
}

function recycle(e: TimerEvent): void {
    if (pool.length < POOL_MAX) {
        e.fiber = null
        e.data = undefined
        pool.push(e)
    }
}

function arm(): void {
    const top = heap.peek()
    if (top === undefined || halted) {
        disarm()
        return
    }
    if (timer === null || top.due < armedDue) {
        disarm()
        const delay = top.due - rGetTicks()
        if (delay <= 0) {
            timer = setImmediate(service)
            immediate = true
        } else {
            timer = setTimeout(service, Math.min(delay, MAX_TIMER))
            immediate = false
        }
        armedDue = top.due
    }
    setRef()
}

function setRef(): void {
    if (refs > 0) {
        timer!.ref()
    } else {
        timer!.unref()
    }
}

function disarm(): void {
    if (timer !== null) {
        if (immediate) {
            clearImmediate(timer as NodeJS.Immediate)
        } else {
            clearTimeout(timer as NodeJS.Timeout)
        }
        timer = null
    }
    armedDue = Infinity
}

function service(): void {
    timer = null
    armedDue = Infinity
    if (halted) {
        return
    }
    const now = rGetTicks()
    let b: Bucket | undefined
    while ((b = heap.peek()) !== undefined && b.due <= now) {
        /* Detach the bucket first: entries added while it runs go to a new bucket, after these */
        heap.pop()
        buckets.delete(b.due)
        const items = b.items
        for (let i = 0; i < items.length; i++) {
            const e = items[i]
            if (e === null) {
                continue
            }
            items[i] = null
            e.bucket = null
            b.live--
            if (e.flags & E_REF) {
                refs--
            }
            if (e.id) {
                events.delete(e.id)
            }
            dispatch(e)
            if (halted) {
                return
            }
        }
    }
    arm()
}

function dispatch(e: TimerEvent): void {
    const f = e.fiber
    if (f !== null) {
        const state = f.state & F_STATE
        if (e.flags & E_SLEEP) {
            if (f.waiting === e) {
                if (state === F_PARKED) {
                    schedule(f, undefined)
                } else {
                    f.waiting = null
                }
            }
            recycle(e)
        } else if (state === F_PARKED) {
            resumeParked(f, e.data)
        } else if (state === F_NEW) {
            schedule(f, undefined)
        }
        return
    }
    const proc = e.proc!
    if (e.flags & (R_EVENT_FAST | E_CALLBACK)) {
        const r = rCallback('event', 'Event callback', proc, e.data)
        if (isBody(r)) {
            rSpawnCallback('event', r)
        }
    } else {
        schedule(allocFiber('event', proc, e.data), undefined)
    }
}

/**
    Allocate an event due in `delay` ticks. With a proc, it runs on a new fiber (inline with R_EVENT_FAST).
    Without a proc, `fiber` (or the calling fiber) is resumed with `data`. Returns the event id, or 0.
    @example const id = rAllocEvent(null, (msg) => rInfo('app', msg), 'tick', 1000, 0)
 */
export function rAllocEvent(fiber: RFiber | null, proc: REventProc | null, data: unknown, delay: number, flags: number): REvent {
    if (proc === null && fiber === null) {
        fiber = currentFiber()
        if (fiber === null) {
            return 0
        }
    } else if (proc !== null) {
        fiber = null
    }
    const e = new TimerEvent(fiber, proc, data, (flags & R_EVENT_FAST) | E_REF)
    e.id = ++lastId
    events.set(e.id, e)
    insertEvent(e, delay)
    return e.id
}

/**
    Run `proc(data)` on a fiber of its own after `delay` ticks. A null proc resumes the calling fiber with
    `data` when due (pair it with `yield* rYieldFiber()`). Returns the event id.
    @example rStartEvent(function* () { yield* rSleep(10); rInfo('app', 'later') }, null, 100)
 */
export function rStartEvent(proc: REventProc | null, data: unknown, delay: number): REvent {
    return rAllocEvent(null, proc, data, delay, 0)
}

/**
    As rStartEvent, but the proc runs inline on the main context and must not block.
    @example rStartFastEvent(() => { ticks++ }, null, 10)
 */
export function rStartFastEvent(proc: REventProc, data: unknown, delay: number): REvent {
    return rAllocEvent(null, proc, data, delay, R_EVENT_FAST)
}

/**
    Cancel a pending event: 0, or R_ERR_CANT_FIND when it is unknown or has run.
    @example const id = rStartEvent(timeout, conn, 5000); ...; rStopEvent(id)
 */
export function rStopEvent(id: REvent): number {
    const e = events.get(id)
    return e !== undefined && removeEvent(e) ? 0 : -25 /* R_ERR_CANT_FIND */
}

/**
    Make a pending event due now: 0, or R_ERR_CANT_FIND.
    @example rRunEvent(flushId)   // run the pending flush now instead of when due
 */
export function rRunEvent(id: REvent): number {
    const e = events.get(id)
    if (e === undefined || !removeEvent(e)) {
        return -25
    }
    events.set(id, e)
    insertEvent(e, 0)
    return 0
}

/**
    Whether an event is still pending.
    @example if (!rLookupEvent(id)) id = rStartEvent(poll, null, 1000)
 */
export function rLookupEvent(id: REvent): boolean {
    return events.has(id)
}

/**
    Due time (ticks) of the next event, or MAXTIME when none.
    @example rDebug('app', 'next event in %d ms', rGetNextDueEvent() - rGetTicks())
 */
export function rGetNextDueEvent(): number {
    return heap.peek()?.due ?? MAXTIME
}

/**
    Suspend the calling fiber for `ticks` milliseconds. `rSleep(0)` yields for one turn of the event loop.
    On the main context (no fiber) it blocks the thread, as C's rSleep does there.
    @example yield* rSleep(100)
 */
export function rSleep(ticks: number): Waitable<void> {
    const f = currentFiber()
    if (f === null) {
        if (ticks > 0) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ticks)
        }
        return done(undefined)
    }
    let e = pool.pop()
    if (e === undefined) {
        e = new TimerEvent(f, null, undefined, E_SLEEP | E_REF)
    } else {
        e.fiber = f
    }
    f.waiting = e
    insertEvent(e, ticks)
    return f as Waitable<void>
}

/**
    Internal timer for the runtime's own layers: `fn(data)` runs inline when due. It does not keep the
    process alive unless `ref` is true. Cancel with stopTimer.
 */
export function startTimer(fn: (data: any) => void, data: unknown, delay: number, ref = false): TimerEvent {
    const e = new TimerEvent(null, fn, data, E_CALLBACK | (ref ? E_REF : 0))
    insertEvent(e, delay)
    return e
}

export function stopTimer(e: TimerEvent | null): void {
    if (e !== null) {
        removeEvent(e)
    }
}

/** Stop serving events and drop every pending one (rStop). */
export function haltEvents(on: boolean): void {
    halted = on
    if (on) {
        for (const b of heap.clear()) {
            for (const e of b.items) {
                if (e !== null) {
                    e.bucket = null
                    e.id = 0
                }
            }
        }
        buckets.clear()
        events.clear()
        refs = 0
        disarm()
    } else {
        arm()
    }
}
