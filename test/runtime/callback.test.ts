/*
    Careless callbacks: async functions that reject, generators and plain functions that throw, at every kind of
    call site of the runtime. Each failure is logged with its context; nothing reaches Node (an unhandled
    rejection would fail this test file), and other fibers run on.
 */
import test from 'ava'
import {
    rStartFastEvent, rSetLogHandler, rSignal, rSignalSync, rSleep, rSpawnFiber, rStartEvent, rWatch, rWatchOff,
} from '../../runtime/index.js'
import { rCallback, rInvoke, isBody, rRunResult } from '../../runtime/callback.js'
import { sfmt, SFMT_MAX_WIDTH } from '../../runtime/sfmt.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

/** Run fn with the log captured; the lines come back (shown by the assertion that fails). */
async function captured(fn: () => Promise<void>): Promise<string[]> {
    const lines: string[] = []
    const prior = rSetLogHandler((type, source, msg) => { lines.push(`${type} ${source}: ${msg.split('\n')[0]}`) })
    try {
        await fn()
    } finally {
        rSetLogHandler(prior)
    }
    return lines
}

const later = (ms: number) => new Promise(r => setTimeout(r, ms))

test.serial('async event procs, watchers and fiber procs that reject are logged with their context; others run on', async t => {
    const ran: string[] = []
    const lines = await captured(async () => {
        await inFiber(function* () {
            rStartEvent(async () => { await later(1); throw new Error('event rejects') }, null, 0)
            rStartFastEvent(async () => { throw new Error('fast event rejects') }, null, 0)
            const watcher = async () => { await later(1); throw new Error('watcher rejects') }
            rWatch('cb:async', watcher, null)
            rSignal('cb:async')
            /* rSignalSync: the rejecting watcher is waited for, then the next one runs */
            const second = () => { ran.push('second watcher') }
            rWatch('cb:sync', watcher, null)
            rWatch('cb:sync', second, null)
            yield* rSignalSync('cb:sync')
            rSpawnFiber('async-proc', async () => { throw new Error('fiber proc rejects') })
            rSpawnFiber('other', function* () { yield* rSleep(5); ran.push('other fiber') })
            yield* rSleep(50)
            rWatchOff('cb:async', watcher, null)
            rWatchOff('cb:sync', watcher, null)
            rWatchOff('cb:sync', second, null)
        })
    })
    t.deepEqual(ran, ['second watcher', 'other fiber'])
    for (const text of ['event rejects', 'fast event rejects', 'watcher rejects', 'fiber proc rejects']) {
        t.true(lines.some(l => l.includes(text)), `${text}:\n${lines.join('\n')}`)
    }
    t.true(lines.some(l => l.includes('Watcher of "cb:sync" failed: Error: watcher rejects')), lines.join('\n'))
    t.true(lines.some(l => l.includes('Fiber "async-proc" failed')), lines.join('\n'))
})

test.serial('rCallback: a throw, a generator that throws and a rejection are logged; results come back', async t => {
    const lines = await captured(async () => {
        await inFiber(function* () {
            t.is(rCallback('app', 'plain', (a: number, b: number) => a + b, 2, 3), 5)
            t.is(rCallback('app', 'thrower', () => { throw new Error('boom') }), undefined)
            const body = rCallback('app', 'generator', function* () { yield* rSleep(1); throw new Error('late boom') })
            t.true(isBody(body))
            t.is(yield* rRunResult(body), undefined)
            const value = rCallback('app', 'async', async () => 7)
            t.is(yield* rRunResult(value), 7)
            t.is(yield* rRunResult(rCallback('app', 'async failing', async () => { throw new Error('async boom') })), undefined)
            /* rInvoke lets the caller see the failure */
            t.throws(() => rInvoke(() => { throw new Error('seen') }), { message: 'seen' })
        })
    })
    t.deepEqual(lines.filter(l => l.startsWith('error app')).map(l => l.replace(/: Error: .*/, '')), [
        'error app: thrower failed', 'error app: generator failed', 'error app: async failing failed',
    ])
})

test('sfmt bounds width and precision: a runaway number cannot build a huge string', t => {
    t.is(sfmt('a/%999999999s', 'x').length, 2 + SFMT_MAX_WIDTH)
    t.is(sfmt('%*d', 1e9, 5).length, SFMT_MAX_WIDTH)
    t.is(sfmt('%.999999999s', 'abc'), 'abc')
    t.is(sfmt('%.99999f', 1.5).length, 2 + 100)
    t.notThrows(() => sfmt('%.4000e|%.4000g|%4000x', 1.5, 2.5, 255))
})
