import test from 'ava'
import {
    done, rDeadline, rGetTicks, rResumeFiber, rGetFiber, rSleep, rSpawnFiber, rYieldFiber, Wait, R_ERR_TIMEOUT, type Fiber, type RFiber,
} from '../../runtime/index.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('rDeadline: a complete result comes back at once, whatever the deadline', async t => {
    const r = await inFiber(function* () {
        return [yield* rDeadline(done(7), rGetTicks() - 1), yield* rDeadline(done('x'), 0)]
    })
    t.deepEqual(r, [7, 'x'])
})

test('rDeadline: a result that arrives before the deadline is the result, and the timer is gone', async t => {
    const [rc, waited] = await inFiber<[number, number]>(function* () {
        const w = new Wait<number>()
        rSpawnFiber('producer', function* () {
            yield* rSleep(20)
            w.settle(42)
        })
        const start = rGetTicks()
        const rc = yield* rDeadline(w, start + 2000)
        /* Nothing fires later into this fiber: a later wait is undisturbed */
        yield* rSleep(50)
        return [rc, rGetTicks() - start]
    })
    t.is(rc, 42)
    t.true(waited < 1000)
})

test('rDeadline: past the deadline the wait ends with R_ERR_TIMEOUT; the operation settles later without harm', async t => {
    const [rc, waited, settledLater, again] = await inFiber<[number, number, boolean, number]>(function* () {
        const w = new Wait<number>()
        const start = rGetTicks()
        const rc = yield* rDeadline(w, start + 40)
        const waited = rGetTicks() - start
        w.settle(5)
        /* The same result can still be read once it is there */
        const again = yield* w
        return [rc, waited, w.settled, again]
    })
    t.is(rc, R_ERR_TIMEOUT)
    t.true(waited >= 39 && waited < 1000, `${waited} ms`)
    t.true(settledLater)
    t.is(again, 5)
})

test('rDeadline over a composite wait leaves it: its finally blocks run', async t => {
    const log: string[] = []
    function* composite(): Fiber<number> {
        try {
            yield* rSleep(10_000)
            log.push('slept')
            return 1
        } finally {
            log.push('finally')
        }
    }
    const [rc, waited] = await inFiber<[number, number]>(function* () {
        const start = rGetTicks()
        const rc = yield* rDeadline(composite(), start + 30)
        return [rc, rGetTicks() - start]
    })
    t.is(rc, R_ERR_TIMEOUT)
    t.true(waited < 1000)
    t.deepEqual(log, ['finally'])
})

test('rDeadline: a resume from elsewhere is still the result; a deadline of 0 waits without limit', async t => {
    const r = await inFiber(function* () {
        const me = rGetFiber() as RFiber
        rSpawnFiber('resumer', function* () {
            yield* rSleep(20)
            rResumeFiber(me, 'woken')
        })
        const a = yield* rDeadline(rYieldFiber(), rGetTicks() + 5000)
        rSpawnFiber('resumer', function* () {
            yield* rSleep(60)
            rResumeFiber(me, 'late')
        })
        const b = yield* rDeadline(rYieldFiber(), 0)
        return [a, b]
    })
    t.deepEqual(r, ['woken', 'late'])
})

test('rDeadline outside a fiber fails with a clear message', t => {
    const gen = rDeadline(new Wait<number>(), rGetTicks() + 10)
    t.throws(() => gen.next(), { message: /Cannot wait outside a fiber/ })
})
