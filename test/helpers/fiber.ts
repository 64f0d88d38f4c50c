/*
    Test helpers: run a fiber body from a test and get its result as a promise.
 */
import { rRunFiber, type RFiberProc } from '../../runtime/index.js'

export function inFiber<T = unknown>(fn: RFiberProc, arg?: unknown): Promise<T> {
    return rRunFiber<T>('test', fn, arg)
}

/** Capture log lines while fn runs. */
export { rSetLogHandler } from '../../runtime/index.js'
