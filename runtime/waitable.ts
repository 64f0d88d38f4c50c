/*
    Waitables: what every runtime, socket and MQTT call returns. The call acts at once; `yield*` on its waitable
    suspends only the calling fiber until the result is known, and evaluates to the C return value.

    Done: an already-complete result (no switch; small codes are preallocated, so no allocation either).
    Wait: a result that arrives later. It can settle before or after the fiber starts waiting.
 */
import { currentFiber, FiberError, iterResult, PARK_RESULT, RESUMED, RFiber, schedule, WAITABLE } from './scheduler.js'
import type { Parking, Waitable } from './body.js'

/**
    An already-complete waitable: `yield*` on it returns its value without a fiber switch.
    @example function getCached(): Waitable<number> { return new Done(42) }   // yield* getCached() is 42, no switch
 */
export class Done<T> {
    private readonly result: IteratorReturnResult<T>

    constructor(value: T) {
        this.result = iterResult(value)
    }

    [Symbol.iterator](): this {
        return this
    }

    next(): IteratorReturnResult<T> {
        return this.result
    }

    get value(): T {
        return this.result.value
    }

    get settled(): boolean {
        return true
    }
}
(Done.prototype as unknown as Record<symbol, boolean>)[WAITABLE] = true

const SMALL = 128
const small: Done<number>[] = []
for (let i = -SMALL; i <= SMALL; i++) {
    small[i + SMALL] = new Done(i)
}
const UNDEFINED = new Done<undefined>(undefined)
const NULL = new Done<null>(null)
const TRUE = new Done<boolean>(true)
const FALSE = new Done<boolean>(false)

/**
    A complete waitable for value; small integers, booleans, null and undefined are shared instances.
    @example if (sp.rxBytes > 0) return done(copyOut(sp, buf, size))
 */
export function done<T>(value: T): Done<T> {
    if (typeof value === 'number') {
        if (value >= -SMALL && value <= SMALL && Number.isInteger(value) && !Object.is(value, -0)) {
            return small[value + SMALL] as unknown as Done<T>
        }
    } else if (value === undefined) {
        return UNDEFINED as unknown as Done<T>
    } else if (value === null) {
        return NULL as unknown as Done<T>
    } else if (value === true) {
        return TRUE as unknown as Done<T>
    } else if (value === false) {
        return FALSE as unknown as Done<T>
    }
    return new Done(value)
}

const W_IDLE = 0
const W_WAITING = 1
const W_SETTLED = 2
const W_DETACHED = 3

/**
    A result that arrives later. The producer calls settle(value); a fiber waiting on it is queued to resume.
    Subclasses override cancelled() to release what they hold when the waiting fiber is cancelled or resumed
    another way.
    @example const w = new Wait<string>(); onReply = (text) => w.settle(text); const reply = yield* w
 */
export class Wait<T = number> implements Parking {
    fiber: RFiber | null = null
    value: T = undefined as T
    wstate = W_IDLE;

    [Symbol.iterator](): this {
        return this
    }

    next(resumed?: unknown): IteratorResult<unknown, T> {
        switch (this.wstate) {
        case W_SETTLED:
            RESUMED.value = this.value
            return RESUMED as IteratorReturnResult<T>
        case W_IDLE: {
            const f = currentFiber()
            if (f === null) {
                throw new FiberError('Cannot wait outside a fiber: run blocking calls in a fiber (rSpawnFiber) or use the promise facade')
            }
            this.fiber = f
            this.wstate = W_WAITING
            f.waiting = this
            return PARK_RESULT
        }
        case W_DETACHED:
            /* Resumed by rResumeFiber before the result came: the resume value is the result */
            this.wstate = W_IDLE
            RESUMED.value = resumed
            return RESUMED as IteratorReturnResult<T>
        default:
            throw new FiberError(`A second fiber cannot wait on a result that fiber "${this.fiber?.name}" awaits`)
        }
    }

    return(value?: unknown): IteratorResult<unknown, T> {
        if (this.wstate === W_WAITING) {
            this.detach()
        } else if (this.wstate === W_DETACHED) {
            /* Left after a resume from elsewhere (rResumeFiber, rDeadline): idle again */
            this.wstate = W_IDLE
        }
        RESUMED.value = value
        return RESUMED as IteratorReturnResult<T>
    }

    /** Deliver the result. Later calls are ignored. */
    settle(value: T): void {
        if (this.wstate === W_SETTLED) {
            return
        }
        const f = this.wstate === W_WAITING ? this.fiber : null
        this.wstate = W_SETTLED
        this.value = value
        this.fiber = null
        if (f !== null) {
            schedule(f, value)
        }
    }

    get settled(): boolean {
        return this.wstate === W_SETTLED
    }

    /** Whether a fiber is parked on this result now. */
    get waiting(): boolean {
        return this.wstate === W_WAITING
    }

    cancel(_fiber: RFiber): void {
        if (this.wstate === W_WAITING) {
            this.detach()
            this.wstate = W_DETACHED
        }
    }

    /** Called when the waiting fiber leaves without the result (cancelled, or resumed by rResumeFiber). */
    protected cancelled(): void {
        /* subclasses release resources here */
    }

    private detach(): void {
        const f = this.fiber
        this.fiber = null
        this.wstate = W_IDLE
        if (f !== null && f.waiting === this) {
            f.waiting = null
        }
        this.cancelled()
    }
}
(Wait.prototype as unknown as Record<symbol, boolean>)[WAITABLE] = true

/**
    Whether v is one of the runtime's waitables.
    @example const r = isWaitable(v) ? yield* v : v
 */
export function isWaitable(v: unknown): v is Waitable<unknown> {
    return v !== null && typeof v === 'object' && (v as Record<symbol, unknown>)[WAITABLE] === true
}
