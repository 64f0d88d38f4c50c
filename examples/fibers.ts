/*
    Fiber demo: the runtime on its own. A sampling fiber, a reporting fiber woken by a signal, a timer event,
    and a mutex shared by two fibers, ported from the shape of an Ioto C main(). Runs about two seconds.

    npm run demo:fibers
 */
import {
    rEnter, rGetTicks, rInfo, rInit, rLeave, rServiceEvents, rSignal, rSleep, rSpawnFiber, rStartEvent, rStop,
    rTerm, rWatch, TPS, type Fiber,
} from '../runtime/index.js'

const readings: number[] = []
const lock = { value: false }

function* sample(period: number): Fiber<void> {
    for (let i = 0; i < 8; i++) {
        readings.push(20 + Math.round(Math.random() * 50) / 10)
        if (readings.length % 4 === 0) {
            rSignal('sensor:batch', readings.length)
        }
        yield* rSleep(period)
    }
}

function* report(_data: unknown, count: number): Fiber<void> {
    const recent = readings.slice(-4)
    rInfo('demo', 'batch of 4 (total %d): average %.2f C', count, recent.reduce((a, b) => a + b, 0) / recent.length)
}

function* worker(name: string): Fiber<void> {
    for (let i = 0; i < 2; i++) {
        if ((yield* rEnter(lock, rGetTicks() + 5 * TPS)) === 0) {
            rInfo('demo', '%s holds the lock', name)
            yield* rSleep(50)
            rLeave(lock)
        }
    }
}

function* main(): Fiber<void> {
    rInfo('demo', 'starting fibers')
    rWatch('sensor:batch', report, null)
    rSpawnFiber('sampler', sample, 200)
    rSpawnFiber('worker-a', worker, 'worker-a')
    rSpawnFiber('worker-b', worker, 'worker-b')
    rStartEvent(function* () {
        rInfo('demo', 'timer event ran on its own fiber; stopping')
        rStop()
    }, null, 2 * TPS)
}

rInit(main, null)
await rServiceEvents()
rTerm()
