/*
    One process's part of a run: its clients in this process (one worker) or spread over worker processes
    (-w N, each a Source of its own), their ticks merged second by second into one series. Workers are this
    same program started with the plan in FIBER_MQTT_BENCH_WORKER; they talk to their parent over IPC and
    stop when it says so or when it goes away.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { rAwait, Wait, type Fiber } from '../../runtime/index.js'
import { addTicks, checkTick, emptyTick, type Tick } from './meter.js'
import { addResources, checkResources, Source, type Resources, type SourcePlan } from './source.js'
import { newOrigin } from './stamp.js'
import type { BenchOptions } from './options.js'

export const WORKER_ENV = 'FIBER_MQTT_BENCH_WORKER'

/** A per-second series that ticks from many sources add into. */
export class Series {
    private ticks: Tick[] = []

    add(t: Tick): void {
        const i = Math.max(0, t.second - 1)
        while (this.ticks.length <= i) {
            this.ticks.push(emptyTick(this.ticks.length + 1))
        }
        this.ticks[i] = addTicks(this.ticks[i], { ...t, second: i + 1 })
    }

    at(second: number): Tick | null {
        return this.ticks[second - 1] ?? null
    }

    list(): Tick[] {
        return this.ticks
    }

    static merge(all: Tick[][]): Tick[] {
        const s = new Series()
        for (const list of all) {
            for (const t of list) s.add(t)
        }
        return s.list()
    }
}

/** A range [first, first + count) of n clients split into parts: the part'th of parts. */
export function shareOf(first: number, count: number, part: number, parts: number): { first: number, count: number } {
    const a = Math.floor(count * part / parts)
    const b = Math.floor(count * (part + 1) / parts)
    return { first: first + a, count: b - a }
}

/** This process's clients, in this process or in workers: run() until every part is done. */
export class LocalRun {
    readonly series = new Series()
    /** What every part used (known once run() returns) */
    resources: Resources = { cpuMs: 0, heapBytes: 0, rssBytes: 0 }
    private source: Source | null = null
    private children: ChildProcess[] = []
    private stopped = false

    /** onTick sees every tick as it arrives (for limits and live reports) */
    constructor(private readonly o: BenchOptions, private readonly first: number, private readonly count: number,
        private readonly startMs: number, private readonly workers: number, private readonly onTick: (t: Tick) => void) {}

    stop(): void {
        if (this.stopped) {
            return
        }
        this.stopped = true
        this.source?.stop()
        for (const c of this.children) {
            if (c.connected) c.send({ stop: true })
        }
    }

    private add(t: Tick): void {
        this.series.add(t)
        this.onTick(t)
    }

    *run(): Fiber<void> {
        const parts = Math.max(1, Math.min(this.workers, this.count))
        if (parts === 1) {
            const plan: SourcePlan = { options: this.o, first: this.first, count: this.count, startMs: this.startMs, origin: newOrigin() }
            this.source = new Source(plan, t => this.add(t))
            if (this.stopped) this.source.stop()
            yield* this.source.run()
            this.resources = this.source.resources()
            return
        }
        const all = new Wait<number>()
        let left = parts
        for (let k = 0; k < parts; k++) {
            const share = shareOf(this.first, this.count, k, parts)
            const plan: SourcePlan = { options: this.o, ...share, startMs: this.startMs, origin: newOrigin() }
            const child = fork(process.argv[1], ['bench'], {
                env: { ...process.env, [WORKER_ENV]: JSON.stringify(plan) },
                stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            })
            this.children.push(child)
            let finished = false
            const end = (why: string | null) => {
                if (!finished) {
                    finished = true
                    if (why !== null) {
                        const t = emptyTick(1)
                        t.errors[why] = 1
                        this.add(t)
                    }
                    if (--left === 0) all.settle(0)
                }
            }
            child.on('message', (m: { tick?: unknown, done?: boolean, error?: string, resources?: unknown }) => {
                try {
                    if (m.tick !== undefined) this.add(checkTick(m.tick))
                    if (m.resources !== undefined) this.resources = addResources(this.resources, checkResources(m.resources))
                    if (m.error !== undefined) end(`worker ${k}: ${m.error}`)
                    if (m.done) end(null)
                } catch (err) {
                    end(`worker ${k}: ${(err as Error).message}`)
                }
            })
            child.on('exit', (code, signal) => end(`worker ${k} ended early (${signal ?? `exit code ${code}`})`))
            child.on('error', err => end(`worker ${k}: ${err.message}`))
        }
        if (this.stopped) this.stop()
        yield* all
    }
}

/** A worker's life: run its plan, ticks and the end to the parent; stop when told or when the parent goes. */
export function* workerMain(planText: string): Fiber<number> {
    const plan = JSON.parse(planText) as SourcePlan
    const send = (m: unknown) => { if (process.connected) process.send!(m) }
    let source: Source
    try {
        source = new Source(plan, tick => send({ tick }))
    } catch (err) {
        send({ error: (err as Error).message })
        return 1
    }
    /* Ctrl-C reaches the whole process group: the parent decides, and tells */
    process.on('SIGINT', () => {})
    process.on('message', (m: { stop?: boolean }) => { if (m?.stop) source.stop() })
    process.on('disconnect', () => source.stop())
    yield* source.run()
    if (process.connected) {
        /* The last message is on its way before the worker exits */
        yield* rAwait(new Promise<void>(resolve => process.send!({ done: true, resources: source.resources() }, undefined, {}, () => resolve())))
    }
    return 0
}
