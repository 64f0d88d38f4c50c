/*
    Watches and signals: named events. rSignal runs each watcher on a fiber of its own; rSignalSync calls them
    inline, in order.
 */
import { isBody, rCallback, rRunResult, type CallbackBody } from './callback.js'
import { allocFiber, schedule } from './scheduler.js'
import type { Waitable } from './body.js'
import { done } from './waitable.js'

/** A watcher: called as proc(data, arg). A generator function may block. */
/* Any function of (data, arg) fits (as rResumeFiber, Ioto's idiom); a generator's body blocks, a promise is awaited, other results are ignored */
export type RWatchProc = (data: never, arg: never) => unknown

interface Watcher {
    proc: RWatchProc
    data: unknown
}

const watches = new Map<string, Watcher[]>()

/**
    Watch a named signal. An identical (proc, data) pair is added once.
    @example rWatch('mqtt:connected', function* () { yield* mqttPublish(mq, 'up', 0, 1, MQTT_WAIT_NONE, 'status') }, null)
 */
export function rWatch(name: string, proc: RWatchProc, data?: unknown): void {
    let list = watches.get(name)
    if (list === undefined) {
        list = []
        watches.set(name, list)
    }
    if (!list.some(w => w.proc === proc && w.data === data)) {
        list.push({ proc, data })
    }
}

/**
    Remove the first watcher with this (proc, data) pair.
    @example rWatchOff('mqtt:connected', onConnected, null)
 */
export function rWatchOff(name: string, proc: RWatchProc, data?: unknown): void {
    const list = watches.get(name)
    if (list !== undefined) {
        const i = list.findIndex(w => w.proc === proc && w.data === data)
        if (i >= 0) {
            list.splice(i, 1)
        }
        if (list.length === 0) {
            watches.delete(name)
        }
    }
}

/**
    Signal: each watcher runs on a fiber of its own as proc(data, arg).
    @example rSignal('device:alarm', { level: 2 })
 */
export function rSignal(name: string, arg: unknown = null): void {
    const list = watches.get(name)
    if (list !== undefined) {
        for (const w of list.slice()) {
            schedule(allocFiber(name, runWatcher, [w, arg]), undefined)
        }
    }
}

function runWatcher([w, arg]: [Watcher, unknown]): unknown {
    return w.proc(w.data as never, arg as never)
}

/**
    Signal synchronously: each watcher is called inline, in order, as proc(data, arg). A watcher that is a
    generator function blocks the caller: it runs when the caller waits (`yield* rSignalSync(...)`).
    @example rWatch('done', rResumeFiber, rGetFiber()); ...; rSignalSync('done', 'result')
 */
export function rSignalSync(name: string, arg: unknown = null): Waitable<void> {
    const list = watches.get(name)
    if (list === undefined) {
        return done(undefined)
    }
    const pending = list.slice()
    for (let i = 0; i < pending.length; i++) {
        const r = callWatcher(name, pending[i], arg)
        if (isBody(r)) {
            return runRest(name, r, pending.slice(i + 1), arg)
        }
    }
    return done(undefined)
}

/* A watcher called inline: a throw or rejection is logged and the next watcher runs */
function callWatcher(name: string, w: Watcher, arg: unknown): unknown {
    return rCallback('watch', `Watcher of "${name}"`, w.proc, w.data, arg)
}

function* runRest(name: string, first: CallbackBody, rest: Watcher[], arg: unknown): Generator<unknown, void, unknown> {
    yield* first
    for (const w of rest) {
        yield* rRunResult(callWatcher(name, w, arg))
    }
}

/** Drop every watch (rTerm). */
export function clearWatches(): void {
    watches.clear()
}
