import test from 'ava'
import {
    done, FiberError, R_ERR_BAD_ARGS, R_ERR_BAD_STATE, rAllocFiber, rAwait, rCancelFiber, rGetFiber, rGetFiberStats,
    rIsMain, rResumeFiber, rSetLogHandler, rSleep, rSpawnFiber, rStartFiber, rYieldFiber, type Fiber, type RFiber,
} from '../../runtime/index.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('yield* on a call evaluates to its C return value', async t => {
    const rc = await inFiber(function* () {
        return yield* done(-34)
    })
    t.is(rc, -34)
})

test('a complete waitable costs no switch and no allocation', async t => {
    t.is(done(0), done(0))
    t.is(done(R_ERR_BAD_STATE), done(R_ERR_BAD_STATE))
    t.is(done(undefined), done(undefined))
    t.is(done(true), done(true))
    const order: string[] = []
    await inFiber(function* () {
        rSpawnFiber('other', () => { order.push('other') })
        for (let i = 0; i < 1000; i++) {
            yield* done(i)
        }
        order.push('self')
        yield* rSleep(0)
    })
    /* The other fiber was runnable the whole time, yet never ran while this one passed 1,000 complete waits */
    t.deepEqual(order, ['self', 'other'])
})

test('rSpawnFiber runs fibers later, in FIFO order', async t => {
    const order: number[] = []
    await inFiber(function* () {
        for (let i = 0; i < 5; i++) {
            rSpawnFiber('n', (n: number) => { order.push(n) }, i)
        }
        order.push(-1)
        yield* rSleep(0)
    })
    t.deepEqual(order, [-1, 0, 1, 2, 3, 4])
    t.is(rSpawnFiber('bad', 42 as any), R_ERR_BAD_ARGS)
    t.is(rAllocFiber('bad', null as any), null)
})

function stackDepth(): number {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = Infinity
    const depth = new Error().stack!.split('\n').length
    Error.stackTraceLimit = limit
    return depth
}

test('1,000,000 resumes between two fibers leave the stack flat', async t => {
    const N = 500_000
    const depths: number[] = []
    let pong: RFiber | null = null
    pong = rAllocFiber('pong', function* (): Fiber<void> {
        for (;;) {
            const ping = (yield* rYieldFiber()) as RFiber | null
            if (ping === null) {
                return
            }
            rResumeFiber(ping, 1)
        }
    })!
    rStartFiber(pong)
    const count = await inFiber<number>(function* () {
        yield* rSleep(0)
        const me = rGetFiber()!
        let n = 0
        for (let i = 0; i < N; i++) {
            if (i % 100_000 === 0 || i === N - 1) {
                depths.push(stackDepth())
            }
            rResumeFiber(pong!, me)
            n += (yield* rYieldFiber()) as number
        }
        rResumeFiber(pong!, null)
        return n
    })
    /* Each round trip is two resumes: 1,000,000 in all */
    t.is(count, N)
    /* The depth differs only by which Node callback started the drain (a microtask or an immediate) */
    t.true(Math.max(...depths) - Math.min(...depths) <= 4, depths.join(','))
    t.true(depths[depths.length - 1] < 40)
    t.true(pong.done)
})

test('a fiber that throws ends alone and is logged with its name', async t => {
    const lines: string[] = []
    const prior = rSetLogHandler((type, source, msg) => { lines.push(`${type}:${source}:${msg}`) })
    try {
        let survivor = 0
        await inFiber(function* () {
            rSpawnFiber('doomed', function* () {
                yield* rSleep(1)
                throw new Error('kaboom')
            })
            rSpawnFiber('survivor', function* () {
                for (let i = 0; i < 5; i++) {
                    yield* rSleep(2)
                    survivor++
                }
            })
            for (let i = 0; i < 1000 && survivor < 5; i++) {
                yield* rSleep(5)
            }
        })
        t.is(survivor, 5)
        t.true(lines.some(l => l.startsWith('error:fiber:Fiber "doomed" failed') && l.includes('kaboom')))
    } finally {
        rSetLogHandler(prior)
    }
})

test('resuming a finished or running fiber returns an error code', async t => {
    const f = rAllocFiber('short', () => 7)!
    rStartFiber(f)
    await inFiber(function* () {
        yield* rSleep(0)
        t.true(f.done)
        t.is(f.value, 7)
        t.is(rResumeFiber(f, 1), R_ERR_BAD_STATE)
        t.is(rResumeFiber(rGetFiber()!, 1), R_ERR_BAD_STATE)
        t.is(rResumeFiber({} as any, 1), R_ERR_BAD_ARGS)
        t.is(rCancelFiber(f), R_ERR_BAD_STATE)
    })
})

test('rResumeFiber from the main context runs the fiber now and returns what it yields', t => {
    const f = rAllocFiber('echo', function* () {
        let v = yield* rYieldFiber('ready')
        for (;;) {
            v = yield* rYieldFiber(`got ${v}`)
        }
    })!
    t.true(rIsMain())
    t.is(rResumeFiber(f), 'ready')
    t.is(rResumeFiber(f, 'a'), 'got a')
    t.is(rResumeFiber(f, 'b'), 'got b')
    t.is(rCancelFiber(f), 0)
})

test('waiting outside a fiber fails with a clear message', t => {
    const err = t.throws(() => rYieldFiber(), { instanceOf: FiberError })
    t.regex(err!.message, /outside a fiber/)
    const w = rAwait(new Promise(() => undefined))
    t.throws(() => w[Symbol.iterator]().next(), { instanceOf: FiberError, message: /outside a fiber/ })
})

test('yield (without *) on a waitable or a promise is reported to the fiber', async t => {
    const messages = await inFiber<string[]>(function* () {
        const out: string[] = []
        try {
            yield rSleep(1) as any
        } catch (err) {
            out.push((err as Error).message)
        }
        try {
            yield Promise.resolve(1) as any
        } catch (err) {
            out.push((err as Error).message)
        }
        return out
    })
    t.regex(messages[0], /write "yield\*"/)
    t.regex(messages[1], /yielded a promise/)
})

test('a bare yield parks like rYieldFiber and takes the resume value', t => {
    const f = rAllocFiber('bare', function* (): Generator<unknown, string, unknown> {
        const v = yield 'first'
        return `resumed with ${v}`
    })!
    t.is(rResumeFiber(f), 'first')
    t.is(rResumeFiber(f, 9), 'resumed with 9')
    t.true(f.done)
})

test('a body that is an iterator of its own (not a generator) runs as a generator would: it parks, takes resume values, returns', t => {
    const seen: unknown[] = []
    let closed = false
    const body = {
        n: 0,
        [Symbol.iterator]() { return this },
        next(v?: unknown): IteratorResult<unknown, string> {
            seen.push(v)
            return this.n++ < 2 ? { value: `step ${this.n}`, done: false } : { value: 'finished', done: true }
        },
        return(v?: unknown): IteratorResult<unknown, unknown> {
            closed = true
            return { value: v, done: true }
        },
    }
    const f = rAllocFiber('custom', () => body)!
    t.is(rResumeFiber(f), 'step 1')
    t.is(rResumeFiber(f, 'a'), 'step 2')
    t.is(rResumeFiber(f, 'b'), 'finished')
    t.true(f.done)
    t.deepEqual(seen, [undefined, 'a', 'b'])
    /* Cancelled while parked: its return() runs */
    const g = rAllocFiber('custom-cancelled', () => ({ ...body, n: 0 }))!
    t.is(rResumeFiber(g), 'step 1')
    t.is(rCancelFiber(g), 0)
    t.is(rResumeFiber(rAllocFiber('after', function* () { return 1 })!), 1)
    t.true(g.done)
    t.true(closed)
})

test('a fiber cancelled after it is started but before its first step ends without running (its argument is not replaced)', async t => {
    const seen: unknown[] = []
    await inFiber(function* () {
        const f = rAllocFiber('never-ran', function* (arg: unknown) {
            seen.push(arg)
        }, { agent: 1 })!
        rStartFiber(f)
        t.is(rCancelFiber(f), 0)
        yield* rSleep(0)
        t.true(f.done)
    })
    t.deepEqual(seen, [])
})

test('a fiber resumed and then cancelled before it runs: its generator returns, the pending value never reaches it', async t => {
    const seen: unknown[] = []
    let cleaned = false
    await inFiber(function* () {
        const f = rAllocFiber('resumed-then-cancelled', function* () {
            try {
                seen.push(yield* rYieldFiber())
                seen.push(yield* rYieldFiber())
            } finally {
                cleaned = true
            }
        })!
        rStartFiber(f)
        yield* rSleep(0)
        rResumeFiber(f, 'first')
        yield* rSleep(0)
        /* Queued with a value, then cancelled in the same step: the cancellation wins */
        rResumeFiber(f, 'second')
        t.is(rCancelFiber(f), 0)
        yield* rSleep(0)
        t.true(f.done)
    })
    t.deepEqual(seen, ['first'])
    t.true(cleaned)
})

test('cancelling a fiber runs its finally blocks and releases its timer', async t => {
    let cleaned = false
    let after = false
    const f = rAllocFiber('sleeper', function* () {
        try {
            yield* rSleep(60_000)
            after = true
        } finally {
            cleaned = true
        }
    })!
    rStartFiber(f)
    await inFiber(function* () {
        yield* rSleep(1)
        t.is(rCancelFiber(f), 0)
        yield* rSleep(0)
    })
    t.true(cleaned)
    t.false(after)
    t.true(f.done)
})

test('a cancelled waiter on a promise leaves nothing behind; rAwait passes values and errors', async t => {
    const v = await inFiber(function* () {
        return yield* rAwait(Promise.resolve(5))
    })
    t.is(v, 5)
    const err = await t.throwsAsync(inFiber(function* () {
        return yield* rAwait(Promise.reject(new Error('nope')))
    }))
    t.is(err!.message, 'nope')
})

test.serial('fiber statistics count active and peak fibers', async t => {
    const before = rGetFiberStats()
    await inFiber(function* () {
        for (let i = 0; i < 100; i++) {
            rSpawnFiber('s', function* () { yield* rSleep(5) })
        }
        yield* rSleep(1)
        t.true(rGetFiberStats().active >= before.active + 100)
        yield* rSleep(20)
    })
    const after = rGetFiberStats()
    t.true(after.peak >= before.active + 100)
    t.true(after.total >= before.total + 101)
})

test('a plain-function fiber and rStartFiber resume of a parked fiber', async t => {
    const seen: unknown[] = []
    const f = rAllocFiber('parked', function* () {
        seen.push(yield* rYieldFiber())
    })!
    rStartFiber(f)
    await inFiber(function* () {
        yield* rSleep(0)
        rStartFiber(f, 'data')
        yield* rSleep(0)
    })
    t.deepEqual(seen, ['data'])
})
