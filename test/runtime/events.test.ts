import test from 'ava'
import {
    MAXTIME, R_ERR_CANT_FIND, R_EVENT_FAST, rAllocEvent, rGetFiber, rGetNextDueEvent, rGetTicks, rLookupEvent,
    rRunEvent, rSleep, rSpawnFiber, rStartEvent, rStartFastEvent, rStopEvent, rYieldFiber, type RFiber,
} from '../../runtime/index.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('100,000 sleeping fibers wake in deadline order, ties in FIFO order', async t => {
    const N = 100_000
    const woke: { due: number, seq: number }[] = []
    let seq = 0
    await inFiber(function* () {
        for (let i = 0; i < N; i++) {
            rSpawnFiber('sleeper', function* (delay: number) {
                const me = rGetFiber()!
                const w = rSleep(delay)
                const entry = { due: (me.waiting as any).due as number, seq: seq++ }
                yield* w
                woke.push(entry)
            }, Math.floor(Math.random() * 200))
        }
        while (woke.length < N) {
            yield* rSleep(20)
        }
    })
    t.is(woke.length, N)
    let ordered = true
    for (let i = 1; i < N; i++) {
        const a = woke[i - 1], b = woke[i]
        if (a.due > b.due || (a.due === b.due && a.seq > b.seq)) {
            ordered = false
            break
        }
    }
    t.true(ordered)
})

test('an event proc runs on its own fiber after its delay and may block', async t => {
    const start = rGetTicks()
    const got = await inFiber(function* () {
        const me = rGetFiber()!
        let procFiber: RFiber | null = null
        rStartEvent(function* (data: string) {
            procFiber = rGetFiber()
            yield* rSleep(5)
            rStartEvent(null, data, 0)
        }, 'payload', 20)
        /* Nothing has resumed us yet; the proc's fiber is not ours */
        rStartEvent(null, 'self', 40)
        const v = yield* rYieldFiber()
        t.not(procFiber, me)
        return v
    })
    t.is(got, 'self')
    t.true(rGetTicks() - start >= 40)
})

test('rStartEvent with a null proc resumes the calling fiber with data', async t => {
    const v = await inFiber(function* () {
        rStartEvent(null, { n: 1 }, 5)
        return yield* rYieldFiber()
    })
    t.deepEqual(v, { n: 1 })
})

test('rStopEvent cancels; unknown ids give R_ERR_CANT_FIND; rLookupEvent tracks pending events', async t => {
    let ran = false
    const id = rStartEvent(() => { ran = true }, null, 10)
    t.true(id > 0)
    t.true(rLookupEvent(id))
    t.is(rStopEvent(id), 0)
    t.false(rLookupEvent(id))
    t.is(rStopEvent(id), R_ERR_CANT_FIND)
    t.is(rStopEvent(0), R_ERR_CANT_FIND)
    t.is(rRunEvent(123456789), R_ERR_CANT_FIND)
    await inFiber(function* () { yield* rSleep(30) })
    t.false(ran)
})

test('rRunEvent makes a far event due now', async t => {
    let ran = 0
    const id = rStartEvent(() => { ran++ }, null, 3_600_000)
    t.true(rGetNextDueEvent() <= rGetTicks() + 3_600_000)
    t.is(rRunEvent(id), 0)
    await inFiber(function* () { yield* rSleep(5) })
    t.is(ran, 1)
    t.false(rLookupEvent(id))
})

test('R_EVENT_FAST procs run inline on the main context; rAllocEvent resumes a given fiber', async t => {
    const seen: unknown[] = []
    rStartFastEvent((d: string) => { seen.push(rGetFiber() === null ? `main:${d}` : 'fiber') }, 'a', 1)
    rAllocEvent(null, (d: string) => { seen.push(rGetFiber() === null ? `main:${d}` : 'fiber') }, 'b', 1, R_EVENT_FAST)
    const v = await inFiber(function* () {
        rAllocEvent(rGetFiber(), null, 'direct', 2, 0)
        return yield* rYieldFiber()
    })
    t.is(v, 'direct')
    t.deepEqual(seen, ['main:a', 'main:b'])
    t.is(rAllocEvent(null, null, null, 1, 0), 0)
})

test('an event proc that throws is logged and others continue', async t => {
    let later = false
    rStartFastEvent(() => { throw new Error('fast failure') }, null, 1)
    rStartEvent(() => { throw new Error('fiber failure') }, null, 1)
    rStartEvent(() => { later = true }, null, 3)
    await inFiber(function* () { yield* rSleep(10) })
    t.true(later)
})

test('delays beyond the 32-bit timer range are clamped, not fired early', async t => {
    let ran = false
    const id = rStartEvent(() => { ran = true }, null, 2 ** 40)
    await inFiber(function* () { yield* rSleep(5) })
    t.false(ran)
    t.true(rLookupEvent(id))
    t.is(rStopEvent(id), 0)
    t.true(rGetNextDueEvent() < MAXTIME || rGetNextDueEvent() === MAXTIME)
})

test('rSleep on the main context blocks the thread', t => {
    const start = rGetTicks()
    const w = rSleep(30)
    t.true(rGetTicks() - start >= 29)
    t.true([...(w as any)].length === 0)
})
