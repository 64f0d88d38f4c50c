/*
    `fiber-mqtt bench conn|pub|sub|join`: a broker load generator. One process runs its clients in itself or
    in worker processes and prints a progress line a second and a summary; with --coordinate it leads a run
    of several processes (on this machine or others) that join through the broker, and prints their merged
    progress and summary.
 */
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { rSleep, rSpawnFiber, Wait, type Fiber } from '../../runtime/index.js'
import { UsageError } from '../args.js'
import { CliError } from '../connect.js'
import { Control, type ControlTarget } from './control.js'
import { addTicks, checkTick, totalsOf, type Tick } from './meter.js'
import { LocalRun, Series, shareOf, WORKER_ENV, workerMain } from './local.js'
import { BENCH_USAGE, parseBenchArgs, parseJoinArgs, type BenchOptions } from './options.js'
import { progressLine, seriesChart, seriesCsv, summaryOf, summaryText } from './report.js'
import { addResources, checkResources, HOST, type Resources } from './source.js'
import { wallMs } from './stamp.js'

/** The bench command: exit code 0 when the run happened (failures are in its figures), 1 for bad usage or setup. */
export function* bench(argv: string[]): Fiber<number> {
    const worker = process.env[WORKER_ENV]
    if (worker !== undefined) {
        return yield* workerMain(worker)
    }
    if (argv.length === 0 || argv[0] === '--help' || argv.includes('--help')) {
        process.stdout.write(`${BENCH_USAGE}\n`)
        return argv.length === 0 ? 1 : 0
    }
    try {
        if (argv[0] === 'join') {
            return yield* join(argv)
        }
        const o = parseBenchArgs(argv)
        return o.coordinate ? yield* coordinate(o, argv) : yield* alone(o)
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write(`Error: ${err.message}\nUse 'fiber-mqtt bench --help' to see usage.\n`)
            return 1
        }
        if (err instanceof CliError) {
            process.stderr.write(`${err.message}\n`)
            return 1
        }
        throw err
    }
}

/** Ctrl-C: the first stops the run (the summary follows), a second one exits at once. */
function onInterrupt(stop: () => void): () => void {
    let count = 0
    const handler = () => {
        if (++count > 1) {
            process.exit(130)
        }
        process.stderr.write('\nStopping (Ctrl-C again to quit at once)\n')
        stop()
    }
    process.on('SIGINT', handler)
    process.on('SIGTERM', handler)
    return () => {
        process.off('SIGINT', handler)
        process.off('SIGTERM', handler)
    }
}

/** What progress reads: the tick of a second (merged from wherever it comes), and how many seconds there are. */
interface View {
    at(second: number): Tick | null
    length(): number
}

function viewOf(series: Series[] | (() => Series[])): View {
    const all = typeof series === 'function' ? series : () => series
    return {
        at: second => {
            let t: Tick | null = null
            for (const s of all()) {
                const one = s.at(second)
                if (one !== null) t = t === null ? one : addTicks(t, one)
            }
            return t
        },
        length: () => Math.max(0, ...all().map(s => s.list().length)),
    }
}

/** Prints one progress line per second of a series, lagging so that every source has reported. */
class Progress {
    private done = false
    private shown = 0
    private readonly tty = process.stderr.isTTY === true
    private readonly running = { failures: 0, sent: 0, acked: 0, received: 0, errors: {} as Record<string, number> }
    private readonly finished = new Wait<number>()

    constructor(private readonly o: BenchOptions, private readonly series: View, private readonly startMs: number,
        private readonly clients: number, private readonly lagMs: number, private readonly onSecond?: (t: Tick) => void) {
        rSpawnFiber('bench-progress', () => this.loop())
    }

    private *loop(): Fiber<void> {
        while (!this.done) {
            const due = this.startMs + (this.shown + 1) * 1000 + this.lagMs
            const left = due - wallMs()
            if (left > 0) {
                yield* rSleep(Math.min(250, Math.ceil(left)))
                continue
            }
            this.show(this.shown + 1)
        }
        this.finished.settle(0)
    }

    private show(second: number): void {
        this.shown = second
        const t = this.series.at(second)
        if (t === null) {
            return
        }
        const r = totalsOf([t])
        this.running.failures += r.failures
        this.running.sent += r.sent
        this.running.acked += r.acked
        this.running.received += r.received
        for (const [k, v] of Object.entries(r.errors)) this.running.errors[k] = (this.running.errors[k] ?? 0) + v
        const line = progressLine(this.o, t, { ...r, ...this.running }, this.clients)
        process.stderr.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`)
        this.onSecond?.(t)
    }

    /** Show what is left, then stop. */
    *end(): Fiber<void> {
        const last = this.series.length()
        while (this.shown < last) {
            this.show(this.shown + 1)
        }
        this.done = true
        yield* this.finished
        if (this.tty) process.stderr.write('\n')
    }
}

function workersOf(o: BenchOptions, explicit: number | null): number {
    return explicit ?? o.workers
}

/** A run of this process alone. */
function* alone(o: BenchOptions): Fiber<number> {
    const workers = Math.min(workersOf(o, null), o.count)
    const startMs = wallMs() + (workers > 1 ? 1000 : 20)
    let received = 0
    const run: LocalRun = new LocalRun(o, 0, o.count, startMs, workers, t => {
        received += t.received
        if (o.mode === 'sub' && o.limit > 0 && received >= o.limit) run.stop()
    })
    const progress = new Progress(o, viewOf([run.series]), startMs, o.count, 300)
    const off = onInterrupt(() => run.stop())
    try {
        yield* run.run()
    } finally {
        off()
    }
    yield* progress.end()
    report(o, run.series.list(), o.count, { workers, ...usage(run.resources, run.series.list()) })
    return 0
}

/** CPU per message and memory per connection, from what the parts used */
function usage(r: Resources, series: Tick[]): Record<string, number> {
    const t = totalsOf(series)
    const messages = t.sent + t.received
    const peak = Math.max(1, t.peakConnected)
    return {
        cpuMs: Math.round(r.cpuMs), cpuUsPerMessage: messages > 0 ? Number((r.cpuMs * 1000 / messages).toFixed(2)) : 0,
        heapPerConnection: Math.round(r.heapBytes / peak), rssPerConnection: Math.round(r.rssBytes / peak),
    }
}

function report(o: BenchOptions, series: Tick[], clients: number, extra: Record<string, unknown>, errors: Record<string, number> = {}): void {
    const summary = summaryOf(o, series, clients, extra)
    Object.assign(summary.errors as Record<string, number>, errors)
    process.stdout.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryText(summary)}\n`)
    if (o.csv !== null) {
        writeFileSync(o.csv, seriesCsv(series))
    }
    if (o.chart !== null) {
        writeFileSync(o.chart, seriesChart(`fiber-mqtt bench ${o.mode}: ${clients} clients, QoS ${o.qos}, ${o.size} bytes`, series))
    }
}

function controlTarget(o: BenchOptions): ControlTarget {
    return {
        url: o.control, host: o.host, port: o.port, tls: o.tls, cafile: o.cafile, insecure: o.insecure,
        username: o.username, password: o.password,
    }
}

const FINAL_WAIT = 60_000

/** Lead a run of 1 + members processes: wait for them, start all, merge their figures. */
function* coordinate(o: BenchOptions, argv: string[]): Fiber<number> {
    const id = `fmb-${HOST}-${process.pid}-lead`.slice(0, 64)
    const control = yield* Control.open(controlTarget(o), o.run, id)
    const joined: string[] = []
    const gotJoins = new Wait<number>()
    const live = new Map<number, Series>()
    const finals = new Map<number, Tick[]>()
    let resources: Resources = { cpuMs: 0, heapBytes: 0, rssBytes: 0 }
    let allFinals: Wait<number> | null = null
    let members: string[] = []
    let received = 0
    let stopped = false
    let run: LocalRun | null = null
    const stopAll = () => {
        if (!stopped) {
            stopped = true
            run?.stop()
            rSpawnFiber('bench-stop', function* () { yield* control.send('stop', { at: wallMs() }) })
        }
    }
    try {
        yield* control.on('join', value => {
            const m = value as { id?: unknown }
            if (typeof m?.id === 'string' && !joined.includes(m.id) && joined.length < o.members) {
                joined.push(m.id)
                process.stderr.write(`member ${joined.length} of ${o.members} joined: ${m.id}\n`)
                if (joined.length === o.members) gotJoins.settle(0)
            }
        })
        yield* control.on('tick/+', (value, topic) => {
            const index = Number(topic.slice(5))
            try {
                const t = checkTick(value)
                if (!live.has(index)) live.set(index, new Series())
                live.get(index)!.add(t)
                received += t.received
                if (o.mode === 'sub' && o.limit > 0 && received >= o.limit) stopAll()
            } catch { /* a malformed tick from a member is left out of the live view; its final counts */ }
        })
        yield* control.on('final/+', (value, topic) => {
            const index = Number(topic.slice(6))
            const f = value as { series?: unknown[], resources?: unknown }
            try {
                finals.set(index, (f?.series ?? []).map(checkTick))
                resources = addResources(resources, checkResources(f.resources))
            } catch {
                finals.set(index, [])
            }
            if (allFinals !== null && finals.size >= members.length - 1) allFinals.settle(0)
        })
        /* The plan: the command line without the coordination options */
        const plan = stripCoordination(argv)
        if ((yield* control.send('plan', { argv: plan, members: o.members }, true)) !== 0) {
            throw new CliError('Error: Cannot publish the run\'s plan on the control broker.')
        }
        process.stderr.write(`run '${o.run}': waiting for ${o.members} member(s) to join (fiber-mqtt bench join --run ${o.run})\n`)
        const off = onInterrupt(() => { stopped = true; gotJoins.settle(1) })
        const rc = yield* gotJoins
        off()
        yield* control.send('plan', null, true)
        if (rc !== 0) {
            process.stderr.write('Stopped before the run started.\n')
            return 1
        }
        members = [id, ...joined]
        const startMs = wallMs() + 2000
        yield* control.send('start', { startMs, members })
        const share = shareOf(0, o.count, 0, members.length)
        run = new LocalRun(o, share.first, share.count, startMs, Math.min(workersOf(o, null), Math.max(1, share.count)), t => {
            received += t.received
            if (o.mode === 'sub' && o.limit > 0 && received >= o.limit) stopAll()
        })
        const lead = run
        const progress = new Progress(o, viewOf(() => [lead.series, ...live.values()]), startMs, o.count, 2500)
        const off2 = onInterrupt(stopAll)
        try {
            yield* run.run()
        } finally {
            off2()
        }
        /* The others' finals (bounded: a member that died is reported, not waited for) */
        if (finals.size < members.length - 1) {
            allFinals = new Wait<number>()
            rSpawnFiber('bench-final-wait', function* () {
                yield* rSleep(FINAL_WAIT)
                allFinals?.settle(1)
            })
            yield* allFinals
        }
        yield* progress.end()
        const errors: Record<string, number> = {}
        const all: Tick[][] = [run.series.list()]
        for (let k = 1; k < members.length; k++) {
            const f = finals.get(k)
            if (f === undefined) {
                errors[`member ${k} (${members[k]}) sent no final report`] = 1
                all.push(live.get(k)?.list() ?? [])
            } else {
                all.push(f)
            }
        }
        const series = Series.merge(all)
        report(o, series, o.count, { members: members.length, run: o.run, ...usage(addResources(resources, run.resources), series) }, errors)
        return 0
    } finally {
        yield* control.close()
    }
}

/** The command line to hand to members: without --coordinate, --members, --control, -w and the report files. */
function stripCoordination(argv: string[]): string[] {
    const out: string[] = []
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        if (a === '--coordinate' || a === '--json') continue
        if (['--members', '--control', '-w', '--workers', '--csv', '--chart', '--run'].includes(a)) {
            i++
            continue
        }
        out.push(a)
    }
    return out
}

/** Join a coordinated run: take its plan, wait for the start, run this process's share, report. */
function* join(argv: string[]): Fiber<number> {
    const j = parseJoinArgs(argv)
    const id = `fmb-${HOST}-${process.pid}`.slice(0, 64)
    const target: ControlTarget = { url: j.control, host: j.host, port: j.port, tls: false, cafile: null, insecure: false, username: null, password: null }
    const control = yield* Control.open(target, j.run, id)
    try {
        const gotPlan = new Wait<unknown>()
        const gotStart = new Wait<unknown>()
        let local: LocalRun | null = null
        let stopped = false
        yield* control.on('stop', () => {
            stopped = true
            local?.stop()
        })
        yield* control.on('start', value => {
            if (!gotStart.settled) gotStart.settle(value)
        })
        yield* control.on('plan', value => {
            if (value !== null && !gotPlan.settled) gotPlan.settle(value)
        })
        process.stderr.write(`run '${j.run}': waiting for its plan\n`)
        const off = onInterrupt(() => {
            if (!gotPlan.settled) gotPlan.settle(null)
            if (!gotStart.settled) gotStart.settle(null)
            stopped = true
            local?.stop()
        })
        try {
            const plan = (yield* gotPlan) as { argv?: unknown } | null
            if (plan === null) {
                return 1
            }
            if (!Array.isArray(plan.argv) || !plan.argv.every(a => typeof a === 'string')) {
                throw new CliError('Error: The run\'s plan is malformed.')
            }
            const o = parseBenchArgs(plan.argv as string[])
            if (j.target) {
                o.host = j.host
                o.port = j.port
            }
            o.json = j.json
            yield* control.send('join', { id })
            const start = (yield* gotStart) as { startMs?: unknown, members?: unknown } | null
            if (start === null) {
                return 1
            }
            const members = start.members
            const index = Array.isArray(members) ? members.indexOf(id) : -1
            if (typeof start.startMs !== 'number' || index < 1) {
                throw new CliError('Error: The run started without this member.')
            }
            const share = shareOf(0, o.count, index, (members as string[]).length)
            process.stderr.write(`member ${index} of ${(members as string[]).length}: clients ${share.first}..${share.first + share.count - 1}\n`)
            local = new LocalRun(o, share.first, share.count, start.startMs, Math.min(j.workers ?? availableParallelism(), Math.max(1, share.count)), () => {})
            if (stopped) local.stop()
            const mine = local
            const progress = new Progress(o, viewOf([mine.series]), start.startMs, share.count, 1000, t => {
                rSpawnFiber('bench-tick', function* () { yield* control.send(`tick/${index}`, t) })
            })
            yield* local.run()
            yield* progress.end()
            yield* control.send(`final/${index}`, { series: local.series.list(), resources: local.resources })
            report(o, local.series.list(), share.count, { member: index, ...usage(local.resources, local.series.list()) })
            return 0
        } finally {
            off()
        }
    } finally {
        yield* control.close()
    }
}
