/*
    rEnter / rLeave: a fiber mutex over a boolean box. Waiters queue in arrival order; rLeave hands the lock to
    the next one at once (C polls every 20 ms; the contract is the same).
 */
import { R_ERR_CANT_ACCESS } from './errors.js'
import { startTimer, stopTimer, type TimerEvent } from './events.js'
import { RingQueue } from './queue.js'
import type { Waitable } from './body.js'
import { rGetTicks } from './time.js'
import { done, Wait } from './waitable.js'

/** The C `bool *access`: a box shared by the fibers that take turns. */
export interface RAccess {
    value: boolean
}

class EnterWait extends Wait<number> {
    timer: TimerEvent | null = null

    constructor(readonly access: RAccess) {
        super()
    }

    protected override cancelled(): void {
        queues.get(this.access)?.remove(this)
        stopTimer(this.timer)
    }
}

const queues = new WeakMap<RAccess, RingQueue<EnterWait>>()

/**
    Take `access`, waiting while another fiber holds it. `deadline` is absolute ticks (0 waits forever);
    once it passes, R_ERR_CANT_ACCESS. Returns 0 when entered.
    @example if ((yield* rEnter(lock, rGetTicks() + 5000)) === 0) { try { ... } finally { rLeave(lock) } }
 */
export function rEnter(access: RAccess, deadline: number): Waitable<number> {
    if (!access.value) {
        access.value = true
        return done(0)
    }
    if (deadline !== 0 && rGetTicks() >= deadline) {
        return done(R_ERR_CANT_ACCESS)
    }
    let q = queues.get(access)
    if (q === undefined) {
        q = new RingQueue<EnterWait>(8)
        queues.set(access, q)
    }
    const w = new EnterWait(access)
    q.push(w)
    if (deadline > 0) {
        w.timer = startTimer(expire, w, deadline - rGetTicks(), true)
    }
    return w
}

function expire(w: EnterWait): void {
    w.timer = null
    queues.get(w.access)?.remove(w)
    w.settle(R_ERR_CANT_ACCESS)
}

/**
    Release `access`: the longest waiter enters at once.
    @example if ((yield* rEnter(lock, 0)) === 0) { try { yield* update() } finally { rLeave(lock) } }
 */
export function rLeave(access: RAccess): void {
    const q = queues.get(access)
    const next = q?.shift()
    if (next !== undefined) {
        stopTimer(next.timer)
        next.timer = null
        next.settle(0)
    } else {
        access.value = false
    }
}
