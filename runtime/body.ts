/*
    What runs on a fiber: the types of fiber bodies, application callbacks and waitables, and how a value is
    recognised as a body (what a generator function returns) and made into a generator a fiber can step.
 */
import type { RFiber } from './scheduler.js'

/**
    What an application callback returns: nothing (it ran inline), a generator (its body runs on a fiber and may
    block), a promise (awaited, its rejection logged), or a value (a C return code, where the call reads one).
 */
export type CallbackResult = void | number | boolean | string | null | Generator<unknown, unknown, unknown> | PromiseLike<unknown>

/** A fiber's body: a generator function (it may block) or a plain one; its return value is the fiber's result. */
export type RFiberProc = (data: never) => unknown

/** A fiber's body: `function* (): Fiber<number> { ... }`. */
export type Fiber<T = void> = Generator<unknown, T, unknown>

/** Anything `yield*` accepts that evaluates to T: every blocking runtime, socket and MQTT call returns one. */
export type Waitable<T> = { [Symbol.iterator](): Iterator<unknown, T, unknown> }

/** What a parked fiber waits on; cancel() detaches it when the fiber is resumed another way or cancelled. */
export interface Parking {
    cancel(fiber: RFiber): void
}

const GENERATOR_PROTOTYPE = Object.getPrototypeOf(adapt.prototype) as Generator<unknown, unknown, unknown>

function isGenerator(r: object): boolean {
    return Object.getPrototypeOf(Object.getPrototypeOf(r)) === GENERATOR_PROTOTYPE
}

function* adapt(body: Generator<unknown, unknown, unknown>): Generator<unknown, unknown, unknown> {
    return yield* body
}

/** Whether a value is a fiber body: what a generator function returns (an iterator that is also iterable). */
export function isBody(r: unknown): r is Generator<unknown, unknown, unknown> {
    return r !== null && typeof r === 'object' && typeof (r as Generator).next === 'function' &&
        typeof (r as Generator)[Symbol.iterator] === 'function'
}

/** A body as a generator: a body that is not one (an iterator of its own) runs inside one, as yield* runs it. */
export function asGenerator(body: Generator<unknown, unknown, unknown>): Generator<unknown, unknown, unknown> {
    return isGenerator(body) ? body : adapt(body)
}
