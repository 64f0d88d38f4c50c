import test from 'ava'
import { rGetFiber, rResumeFiber, rSignal, rSignalSync, rSleep, rWatch, rWatchOff, rYieldFiber } from '../../runtime/index.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('rSignal runs each watcher on a fiber of its own with (data, arg)', async t => {
    const seen: string[] = []
    const fibers = new Set<unknown>()
    const a = function* (data: string, arg: string) {
        fibers.add(rGetFiber())
        yield* rSleep(1)
        seen.push(`a:${data}:${arg}`)
    }
    const b = (data: string, arg: string) => {
        fibers.add(rGetFiber())
        seen.push(`b:${data}:${arg}`)
    }
    rWatch('sig:one', a, 'x')
    rWatch('sig:one', a, 'x')
    rWatch('sig:one', b, 'y')
    await inFiber(function* () {
        rSignal('sig:one', 'go')
        t.deepEqual(seen, [])
        yield* rSleep(10)
    })
    t.deepEqual(seen.sort(), ['a:x:go', 'b:y:go'])
    t.is(fibers.size, 2)
    rWatchOff('sig:one', a, 'x')
    rWatchOff('sig:one', b, 'y')
    rWatchOff('sig:none', b, 'y')
    rSignal('sig:one')
    rSignal('sig:none')
})

test('rSignalSync calls watchers inline and in order; the resume idiom delivers a value', async t => {
    const order: string[] = []
    rWatch('sig:sync', (d: string, arg: string) => { order.push(`${d}${arg}`) }, '1')
    rWatch('sig:sync', (d: string, arg: string) => { order.push(`${d}${arg}`) }, '2')
    const w = rSignalSync('sig:sync', '!')
    t.deepEqual(order, ['1!', '2!'])
    t.deepEqual([...(w as any)], [])
    const v = await inFiber(function* () {
        rWatch('sig:done', rResumeFiber, rGetFiber())
        rSpawnFiber2(() => rSignalSync('sig:done', 'done'))
        const r = yield* rYieldFiber()
        rWatchOff('sig:done', rResumeFiber, rGetFiber())
        return r
    })
    t.is(v, 'done')
    t.deepEqual([...(rSignalSync('sig:nobody') as any)], [])
})

test('a generator watcher blocks the rSignalSync caller', async t => {
    const order: string[] = []
    rWatch('sig:block', function* () {
        yield* rSleep(5)
        order.push('slow')
    }, null)
    rWatch('sig:block', function* () { order.push('after') }, null)
    rWatch('sig:block', () => { order.push('plain') }, null)
    await inFiber(function* () {
        yield* rSignalSync('sig:block')
        order.push('caller')
    })
    t.deepEqual(order, ['slow', 'after', 'plain', 'caller'])
})

function rSpawnFiber2(fn: () => unknown): void {
    void inFiber(function* () {
        yield* rSleep(1)
        fn()
    })
}
