/*
    Fiber benchmark: the runtime's fibers against the same programs written with async/await and promises,
    interleaved in one process (A B A B ...), medians of several rounds. Both sides use named functions, as
    device code does (a closure per task costs V8 more for generators than for async functions).

    npm run bench:fibers [-- --rounds 5 --pings 1000000 --spawns 100000 --sleepers 10000 --parked 100000]
 */
import {
    rAllocFiber, rGetFiber, rGetFiberStats, rResumeFiber, rSleep, rSpawnFiber, rStartFiber, rYieldFiber, type RFiber,
} from '../runtime/index.js'
import { RingQueue } from '../runtime/queue.js'
import { gc, median, medianRatio, printTable, progress, type Row } from './lib/stats.js'
import { benchOptions } from './lib/options.js'

const options = benchOptions('npm run bench:fibers [-- --rounds 5 --pings 1000000 --spawns 100000 --sleepers 10000 --parked 100000]',
    [], ['--rounds', '--pings', '--spawns', '--sleepers', '--parked'])
const ROUNDS = Math.max(5, options.number('--rounds', 5))
const PINGS = options.number('--pings', 1_000_000)
const SPAWNS = options.number('--spawns', 100_000)
const SLEEPERS = options.number('--sleepers', 10_000)
const PARKED = options.number('--parked', 100_000)
const FLOOR = 'run-queue floor'
/* Ping-pong runs per round (each contender) */
const PING_RUNS = 3

/* Run a fiber proc and resolve with what it hands to `finish` */
let finish: (v: any) => void = () => undefined
function runFiber<T>(proc: (arg: any) => Generator<unknown, void, unknown>, arg: unknown): Promise<T> {
    return new Promise<T>(resolve => {
        finish = resolve
        rStartFiber(rAllocFiber('bench', proc, arg)!)
    })
}

/* Ping-pong: round trips per second between two fibers */
function* pongProc(ping: RFiber): Generator<unknown, void, unknown> {
    for (;;) {
        rResumeFiber(ping, 0)
        if ((yield* rYieldFiber()) === null) {
            return
        }
    }
}

function* pingProc(n: number): Generator<unknown, void, unknown> {
    const pong = rAllocFiber('pong', pongProc, rGetFiber())!
    const start = performance.now()
    rStartFiber(pong)
    for (let i = 0; i < n; i++) {
        yield* rYieldFiber()
        rResumeFiber(pong, i)
    }
    const elapsed = performance.now() - start
    yield* rYieldFiber()
    rResumeFiber(pong, null)
    finish(n / (elapsed / 1000))
}

async function asyncPingPong(n: number): Promise<number> {
    let toPong: ((v: number | null) => void) | null = null
    let toPing: (() => void) | null = null
    const pong = (async () => {
        for (;;) {
            const v = await new Promise<number | null>(r => { toPong = r })
            if (v === null) {
                return
            }
            toPing!()
        }
    })()
    await null
    const start = performance.now()
    for (let i = 0; i < n; i++) {
        const p = new Promise<void>(r => { toPing = r })
        toPong!(i)
        await p
    }
    const elapsed = performance.now() - start
    toPong!(null)
    await pong
    return n / (elapsed / 1000)
}

/*
    The floor under any run-queue fiber design: generators stepped FIFO from a ring queue, each suspension a
    reusable waitable (no allocation per switch), with no states, checks, errors or event-loop fairness. The
    issue's rule "resumes made during a step are queued and run FIFO" costs this much; fibers cannot beat it.
 */
const FLOOR_RESUMED = { value: undefined as unknown, done: true }
const FLOOR_PARK = { value: undefined, done: false }

class FloorFiber {
    gen: Generator<unknown, void, unknown> | null = null
    value: unknown = undefined
    parked = false;

    [Symbol.iterator](): this {
        return this
    }

    next(value?: unknown): IteratorResult<unknown, unknown> {
        if (this.parked) {
            this.parked = false
            FLOOR_RESUMED.value = value
            return FLOOR_RESUMED
        }
        this.parked = true
        return FLOOR_PARK
    }
}

const floorQueue = new RingQueue<FloorFiber>(1024)
let floorCurrent: FloorFiber | null = null

function floorResume(f: FloorFiber, value: unknown): void {
    f.value = value
    floorQueue.push(f)
}

function floorDrain(): void {
    let f: FloorFiber | undefined
    while ((f = floorQueue.shift()) !== undefined) {
        floorCurrent = f
        f.gen!.next(f.value)
    }
    floorCurrent = null
}

function* floorPong(ping: FloorFiber): Generator<unknown, void, unknown> {
    const self = floorCurrent!
    for (;;) {
        floorResume(ping, 0)
        if ((yield* self) === null) {
            return
        }
    }
}

let floorRate = 0
function* floorPing(n: number): Generator<unknown, void, unknown> {
    const self = floorCurrent!
    const pong = new FloorFiber()
    pong.gen = floorPong(self)
    const start = performance.now()
    floorResume(pong, undefined)
    for (let i = 0; i < n; i++) {
        yield* self
        floorResume(pong, i)
    }
    floorRate = n / ((performance.now() - start) / 1000)
    yield* self
    floorResume(pong, null)
}

function floorPingPong(n: number): number {
    const ping = new FloorFiber()
    ping.gen = floorPing(n)
    floorResume(ping, undefined)
    floorDrain()
    return floorRate
}

/* Spawn and finish: ms for 100,000 short-lived tasks */
let finished = 0
let target = 0
let waiter: RFiber | null = null

function* shortTask(): Generator<unknown, void, unknown> {
    if (++finished === target) {
        rResumeFiber(waiter!, 0)
    }
}

function* spawnProc(n: number): Generator<unknown, void, unknown> {
    finished = 0
    target = n
    waiter = rGetFiber()
    const start = performance.now()
    for (let i = 0; i < n; i++) {
        rSpawnFiber('task', shortTask)
    }
    yield* rYieldFiber()
    finish(performance.now() - start)
}

async function asyncShortTask(): Promise<void> {
    finished++
}

async function asyncSpawn(n: number): Promise<number> {
    finished = 0
    const start = performance.now()
    const tasks: Promise<void>[] = new Array(n)
    for (let i = 0; i < n; i++) {
        tasks[i] = asyncShortTask()
    }
    await Promise.all(tasks)
    return performance.now() - start
}

/* Sleepers: 10,000 tasks x 10 sleeps of 1 ms; wall ms and CPU ms */
function* sleeper(): Generator<unknown, void, unknown> {
    for (let j = 0; j < 10; j++) {
        yield* rSleep(1)
    }
    if (++finished === target) {
        rResumeFiber(waiter!, 0)
    }
}

function* sleepersProc(n: number): Generator<unknown, void, unknown> {
    finished = 0
    target = n
    waiter = rGetFiber()
    const cpu = process.cpuUsage()
    const start = performance.now()
    for (let i = 0; i < n; i++) {
        rSpawnFiber('sleeper', sleeper)
    }
    yield* rYieldFiber()
    const used = process.cpuUsage(cpu)
    finish([performance.now() - start, (used.user + used.system) / 1000])
}

async function asyncSleeper(): Promise<void> {
    for (let j = 0; j < 10; j++) {
        await new Promise<void>(r => setTimeout(r, 1))
    }
}

async function asyncSleepers(n: number): Promise<[number, number]> {
    const cpu = process.cpuUsage()
    const start = performance.now()
    const tasks: Promise<void>[] = new Array(n)
    for (let i = 0; i < n; i++) {
        tasks[i] = asyncSleeper()
    }
    await Promise.all(tasks)
    const used = process.cpuUsage(cpu)
    return [performance.now() - start, (used.user + used.system) / 1000]
}

/* Parked: heap bytes per parked task, after GC */
const parkedFibers: RFiber[] = []

function* parkedProc(): Generator<unknown, void, unknown> {
    parkedFibers.push(rGetFiber()!)
    yield* rYieldFiber()
}

function* parkProc(n: number): Generator<unknown, void, unknown> {
    parkedFibers.length = 0
    for (let i = 0; i < n; i++) {
        rSpawnFiber('parked', parkedProc)
    }
    while (parkedFibers.length < n) {
        yield* rSleep(1)
    }
    finish(0)
}

function* releaseProc(): Generator<unknown, void, unknown> {
    for (const f of parkedFibers) {
        rResumeFiber(f, 0)
    }
    parkedFibers.length = 0
    while (rGetFiberStats().active > 1) {
        yield* rSleep(1)
    }
    finish(0)
}

async function fiberParked(n: number): Promise<number> {
    parkedFibers.length = 0
    gc()
    const before = process.memoryUsage().heapUsed
    await runFiber(parkProc, n)
    gc()
    /* The list of fibers kept to release them is not part of a fiber's cost */
    const bytes = (process.memoryUsage().heapUsed - before - parkedFibers.length * 8) / n
    await runFiber(releaseProc, null)
    return bytes
}

const resumers: (() => void)[] = []

async function asyncParkedTask(): Promise<void> {
    await new Promise<void>(r => { resumers.push(r) })
}

async function asyncParked(n: number): Promise<number> {
    resumers.length = 0
    const tasks: Promise<void>[] = new Array(n)
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < n; i++) {
        tasks[i] = asyncParkedTask()
    }
    await null
    gc()
    /* Likewise the lists of resolvers and task promises */
    const bytes = (process.memoryUsage().heapUsed - before - (resumers.length + tasks.length) * 8) / n
    for (const r of resumers) {
        r()
    }
    await Promise.all(tasks)
    return bytes
}

async function main(): Promise<void> {
    if (!(globalThis as any).gc) {
        console.error('Run with node --expose-gc for the memory figure (npm run bench:fibers does)')
    }
    const rows: Row[] = [
        { name: 'ping-pong', unit: 'round trips/s', results: { fibers: [], 'async/await': [], [FLOOR]: [] }, higherIsBetter: true },
        { name: `spawn+finish ${SPAWNS / 1000}k`, unit: 'ms', results: { fibers: [], 'async/await': [] }, higherIsBetter: false },
        { name: `${SLEEPERS / 1000}k x 10 sleeps of 1 ms`, unit: 'wall ms', results: { fibers: [], 'setTimeout promises': [] }, higherIsBetter: false },
        { name: `${SLEEPERS / 1000}k x 10 sleeps of 1 ms`, unit: 'CPU ms', results: { fibers: [], 'setTimeout promises': [] }, higherIsBetter: false },
        { name: `parked ${PARKED / 1000}k`, unit: 'heap bytes each', results: { fibers: [], 'async/await': [] }, higherIsBetter: false },
    ]
    /* Warm up both sides once */
    await runFiber(pingProc, 50_000)
    await asyncPingPong(50_000)
    floorPingPong(50_000)
    await runFiber(spawnProc, 10_000)
    await asyncSpawn(10_000)
    for (let round = 1; round <= ROUNDS; round++) {
        progress(`round ${round}/${ROUNDS}: ping-pong`)
        /* Each from a collected heap (the floor, run after async/await, was slowed by the promises it left), and
           three times a round: a run is a tenth of a second, and one disturbed by the machine moves the median */
        for (let k = 0; k < PING_RUNS; k++) {
            gc()
            rows[0].results.fibers.push(await runFiber<number>(pingProc, PINGS))
            gc()
            rows[0].results['async/await'].push(await asyncPingPong(PINGS))
            gc()
            rows[0].results[FLOOR].push(floorPingPong(PINGS))
        }
        progress(`round ${round}/${ROUNDS}: spawn`)
        rows[1].results.fibers.push(await runFiber<number>(spawnProc, SPAWNS))
        rows[1].results['async/await'].push(await asyncSpawn(SPAWNS))
        progress(`round ${round}/${ROUNDS}: sleepers`)
        const [fw, fc] = await runFiber<[number, number]>(sleepersProc, SLEEPERS)
        const [aw, ac] = await asyncSleepers(SLEEPERS)
        rows[2].results.fibers.push(fw)
        rows[2].results['setTimeout promises'].push(aw)
        rows[3].results.fibers.push(fc)
        rows[3].results['setTimeout promises'].push(ac)
        progress(`round ${round}/${ROUNDS}: parked`)
        rows[4].results.fibers.push(await fiberParked(PARKED))
        rows[4].results['async/await'].push(await asyncParked(PARKED))
    }
    progress('done\n')
    printTable(`Fibers vs async/await: ${ROUNDS} interleaved rounds, Node ${process.version}`, rows.slice(0, 2), 'fibers', 'async/await')
    printTable('', rows.slice(2, 4), 'fibers', 'setTimeout promises')
    printTable('', rows.slice(4), 'fibers', 'async/await')
    console.log(`\nping-pong: fibers ${medianRatio(rows[0], 'fibers', 'async/await').toFixed(2)}x async/await (target >= 2x); ` +
        `the ${FLOOR} ${medianRatio(rows[0], FLOOR, 'async/await').toFixed(2)}x; fibers ${(100 * medianRatio(rows[0], 'fibers', FLOOR)).toFixed(0)}% of the floor (target >= 85%)`)
    console.log(`parked fiber: ${median(rows[4].results.fibers).toFixed(0)} heap bytes (target <= 250)`)
}

await main()
