import test from 'ava'
import { R_ERR_CANT_ACCESS, rCancelFiber, rAllocFiber, rEnter, rGetTicks, rLeave, rSleep, rSpawnFiber, rStartFiber } from '../../runtime/index.js'
import { inFiber } from '../helpers/fiber.js'
import { quietLogs } from '../helpers/quiet.js'

quietLogs(test)

test('rEnter takes a free lock at once', async t => {
    const lock = { value: false }
    const rc = await inFiber(function* () {
        return yield* rEnter(lock, 0)
    })
    t.is(rc, 0)
    t.true(lock.value)
    rLeave(lock)
    t.false(lock.value)
})

test('rEnter returns R_ERR_CANT_ACCESS once its absolute deadline passes', async t => {
    const lock = { value: true }
    const [rc, waited, past] = await inFiber<[number, number, number]>(function* () {
        const start = rGetTicks()
        const rc = yield* rEnter(lock, start + 30)
        const waited = rGetTicks() - start
        const past = yield* rEnter(lock, rGetTicks() - 1)
        return [rc, waited, past]
    })
    t.is(rc, R_ERR_CANT_ACCESS)
    t.true(waited >= 29)
    t.is(past, R_ERR_CANT_ACCESS)
    t.true(lock.value)
})

test('rLeave admits waiters in arrival order, at once', async t => {
    const lock = { value: false }
    const order: string[] = []
    await inFiber(function* () {
        yield* rEnter(lock, 0)
        for (const name of ['a', 'b', 'c']) {
            rSpawnFiber(name, function* () {
                t.is(yield* rEnter(lock, 0), 0)
                order.push(`${name} in`)
                rLeave(lock)
            })
        }
        yield* rSleep(5)
        order.push('leave')
        rLeave(lock)
        /* A zero sleep only lets one event-loop turn pass: the waiters must already be through (no polling) */
        yield* rSleep(0)
        order.push('after')
    })
    t.deepEqual(order, ['leave', 'a in', 'b in', 'c in', 'after'])
    t.false(lock.value)
})

test('a waiter that times out or is cancelled leaves the queue', async t => {
    const lock = { value: false }
    const order: string[] = []
    await inFiber(function* () {
        yield* rEnter(lock, 0)
        rSpawnFiber('impatient', function* () {
            order.push(`impatient ${yield* rEnter(lock, rGetTicks() + 5)}`)
        })
        const cancelled = rAllocFiber('cancelled', function* () {
            yield* rEnter(lock, 0)
            order.push('cancelled entered')
        })!
        rStartFiber(cancelled)
        rSpawnFiber('patient', function* () {
            order.push(`patient ${yield* rEnter(lock, 0)}`)
            rLeave(lock)
        })
        yield* rSleep(20)
        rCancelFiber(cancelled)
        yield* rSleep(0)
        rLeave(lock)
        yield* rSleep(1)
    })
    t.deepEqual(order, [`impatient ${R_ERR_CANT_ACCESS}`, 'patient 0'])
    t.false(lock.value)
})
