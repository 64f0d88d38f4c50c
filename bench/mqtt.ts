/*
    The MQTT throughput benchmark: fiber-mqtt, MQTT.js and a raw writer (pre-encoded packets on a plain socket:
    the ceiling) against the same peers, interleaved (A B C A B C ...), at least 3 rounds. Prints medians,
    min-max and the ratio to MQTT.js per round; writes bench/results/latest.json and bench/results/ratios.svg.

        npm run bench [-- --rounds 3] [-- --quick] [-- --only seq-q1,pub-q1] [-- --sink node]

    The publish figures (QoS 0/1/2, bursts) are measured against the C sink (bench/lib/sink.c, built with the
    machine's C compiler), which acknowledges at a fraction of the Node sink's CPU so that the publisher is what
    is measured; without a compiler, or with --sink node, against the Node sink. Receiving, round trips and idle
    connections use the Node sink (it also sends).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hostContender } from './lib/host.js'
import { Counter, processCpuMs, startBroker, startFastSink, startSink } from './lib/peers.js'
import { barChart } from './lib/svg.js'
import { fmtNum, median, percentile, progress } from './lib/stats.js'
import type { Contender, Footprint, Measure } from './lib/contender.js'
import { benchOptions } from './lib/options.js'

const options = benchOptions('npm run bench [-- --rounds 3] [--warmup 3] [--quick] [--scale 1] [--only seq-q1,pub-q1] [--sink c|node] [--out DIR]',
    ['--quick'], ['--rounds', '--warmup', '--scale', '--only', '--sink', '--out'])
const quick = options.has('--quick')
const value = options.value
const ROUNDS = Math.max(quick ? 1 : 3, options.number('--rounds', 3))
/* Checked also with --quick, which sets its own */
const scale = options.number('--scale', 1)
const SCALE = quick ? 0.01 : scale
/* Warm-up rounds (not recorded) before the measured ones: see main */
const WARMUP = Math.max(1, options.number('--warmup', quick ? 1 : 3))
/* Only these figures (their keys, comma-separated), e.g. to measure one again with more rounds */
const only = value('--only')?.split(',')
const sinkChoice = value('--sink') ?? 'c'
if (sinkChoice !== 'c' && sinkChoice !== 'node') {
    console.error(`--sink: ${sinkChoice}: c or node`)
    process.exit(2)
}
/* A quick or partial run: its figures go to a temporary folder, never over the committed results */
const out = value('--out') ?? (quick || only !== undefined ? `${mkdtempSync(join(tmpdir(), 'fiber-mqtt-bench-'))}/` : fileURLToPath(new URL('../../bench/results/', import.meta.url)))

/* Counts: scaled down for --quick; the warm-up rounds run the full counts */
let warming = false
const n = (count: number) => Math.max(10, Math.round(count * SCALE))
/* A burst is issue 18's: a million messages published at once, the client's queue holding what the window cannot
   (at a fifth of that, the cost of holding them hardly showed: 0.35 us per QoS 1 message at 200,000, 0.68 us at a million) */
const BURST = 1_000_000
/* Each contender in a process of its own, kept up for the run (bench/lib/host.ts) */
const MODULES: Record<string, string> = { 'fiber-mqtt': 'fiber-client', 'MQTT.js': 'mqttjs-client', 'raw writer': 'raw-client' }

interface Figure {
    key: string
    name: string
    unit: string
    target: number | null
    /** compare on a quantity where lower is better (bytes per connection) */
    lowerIsBetter?: boolean
    brokerBound?: boolean
    /** the client's CPU per message must stay at or below this (us) */
    cpuMax?: number
}

const figures: Figure[] = [
    { key: 'pub-q0-16', name: 'QoS 0 publish, 16 B', unit: 'msgs/s', target: 10 },
    { key: 'pub-q0-1k', name: 'QoS 0 publish, 1 KiB', unit: 'msgs/s', target: 10 },
    { key: 'pub-q1', name: 'QoS 1 publish, 1,000 in flight', unit: 'msgs/s', target: 40, cpuMax: 0.5 },
    { key: 'pub-q2', name: 'QoS 2 publish, 1,000 in flight', unit: 'msgs/s', target: 40, cpuMax: 0.5 },
    /* Payloads of a JSON reading, a refill of the window half a MiB: the write path past its 64 KiB flush */
    { key: 'pub-q1-1k', name: 'QoS 1 publish, 1 KiB, 1,000 in flight', unit: 'msgs/s', target: null },
    { key: 'burst-q1', name: 'QoS 1 burst, no window', unit: 'msgs/s', target: 10 },
    { key: 'burst-q2', name: 'QoS 2 burst, no window', unit: 'msgs/s', target: 10 },
    { key: 'recv-q0', name: 'receive QoS 0', unit: 'msgs/s', target: 5, cpuMax: 0.25 },
    { key: 'recv-q1', name: 'receive QoS 1', unit: 'msgs/s', target: 5, cpuMax: 0.4 },
    { key: 'seq-q1', name: 'QoS 1 sequential round trips', unit: 'round trips/s', target: 1.5 },
    { key: 'idle-heap', name: '1,000 idle connections: heap each', unit: 'bytes', target: 4, lowerIsBetter: true },
    { key: 'idle-rss', name: '1,000 idle connections: RSS each', unit: 'bytes', target: null, lowerIsBetter: true },
    { key: 'idle-cold', name: '1,000 idle connections opened cold: heap each', unit: 'bytes', target: 5, lowerIsBetter: true },
    { key: 'through', name: 'publisher -> broker -> subscriber, QoS 0', unit: 'msgs/s', target: null, brokerBound: true },
    /* One publisher into the broker as it is installed (mosquitto holds small answers for the TCP acknowledgement
       of its last, Nagle's algorithm): what a device's backlog after a reconnect meets */
    { key: 'broker-q1', name: 'QoS 1 publish into the broker, 100 in flight', unit: 'msgs/s', target: null, brokerBound: true },
    { key: 'broker-q1-20', name: 'QoS 1 publish into the broker, 20 in flight', unit: 'msgs/s', target: null, brokerBound: true },
]
const unknown = only?.filter(k => !figures.some(f => f.key === k)) ?? []
if (unknown.length > 0) {
    console.error(`--only: unknown figure ${unknown.join(', ')}; the figures are ${figures.map(f => f.key).join(', ')}`)
    process.exit(2)
}
const hosts = await Promise.all(Object.values(MODULES).map(hostContender))
const contenders: Contender[] = hosts

interface Sample {
    value: number
    cpuUs: number
    p50?: number
    p99?: number
    brokerCpuUs?: number
    complete?: boolean
}

const results: Record<string, Record<string, Sample[]>> = {}
for (const f of figures) {
    results[f.key] = Object.fromEntries(contenders.map(c => [c.name, []]))
}

function sample(m: Measure): Sample {
    const s: Sample = { value: m.count / (m.ms / 1000), cpuUs: m.cpuMs * 1000 / m.count }
    if (m.latencies) {
        s.p50 = percentile(m.latencies, 50) * 1000
        s.p99 = percentile(m.latencies, 99) * 1000
    }
    return s
}

async function main(): Promise<void> {
    const sink = await startSink()
    const fast = sinkChoice === 'c' ? await startFastSink() : null
    const sinkLabel = fast !== null ? 'the publish figures against the C sink' : 'against the Node sink'
    const broker = await startBroker()
    const ports: Ports = { sink: sink.port, publish: (fast ?? sink).port, broker: broker.port }
    const counter = await Counter.start(broker.port)
    const brokerLabel = broker.kind
    /* Stopped from outside (Ctrl-C, a test's time limit): take the peers and the broker down too */
    const stopPeers = (): void => {
        counter.stop()
        sink.stop()
        fast?.stop()
        hosts.forEach(h => h.stop())
        void broker.stop().finally(() => process.exit(130))
    }
    process.once('SIGINT', stopPeers)
    process.once('SIGTERM', stopPeers)
    try {
        /* Figure by figure, the contenders interleaved in each round; the first WARMUP rounds warm every contender
           up on the figure at the full counts and are not recorded. One warm-up round at a fifth of the counts left
           fiber-mqtt compiling through the first measured rounds (the compiler threads' CPU is the client
           process's: runs of 200,000 QoS 1 messages in a row, one process, took 1.3, 0.6, 0.5, then 0.3-0.4 us of
           CPU each, its socket and scheduler paths, run once per batch rather than per message, optimized last).
           A host runs one figure's rounds in a row, so what a round measures is that path (not the garbage or the cold code of another figure's) */
        for (const f of figures) {
            if (f.key === 'idle-rss' || (only !== undefined && !only.includes(f.key))) {
                continue
            }
            for (let round = 1 - WARMUP; round <= ROUNDS; round++) {
                for (const c of contenders) {
                    progress(round <= 0 ? `warm-up ${round + WARMUP}/${WARMUP}: ${f.name}: ${c.name}` : `round ${round}/${ROUNDS}: ${f.name}: ${c.name}`)
                    warming = round <= 0
                    await runFigure(f, c, ports, broker.process.pid!, counter)
                }
            }
        }
    } finally {
        progress('done\n')
        hosts.forEach(h => h.stop())
        counter.stop()
        sink.stop()
        fast?.stop()
        await broker.stop()
    }
    report(brokerLabel, sinkLabel)
}

/* The peers' ports: the Node sink, the sink the publish figures use (the C sink, or the Node sink), the broker */
interface Ports {
    sink: number
    publish: number
    broker: number
}

async function runFigure(f: Figure, c: Contender, ports: Ports, brokerPid: number, counter: Counter): Promise<void> {
    const { sink: sinkPort, publish: pubPort, broker: brokerPort } = ports
    const push = (key: string, s: Sample): void => {
        if (!warming) {
            results[key][c.name].push(s)
        }
    }
    switch (f.key) {
    case 'pub-q0-16': return push(f.key, sample(await c.publish({ port: pubPort, count: n(200_000), qos: 0, size: 16, inflight: 1000, topic: 'bench/q0' })))
    case 'pub-q0-1k': return push(f.key, sample(await c.publish({ port: pubPort, count: n(50_000), qos: 0, size: 1024, inflight: 1000, topic: 'bench/q0' })))
    case 'pub-q1': return push(f.key, sample(await c.publish({ port: pubPort, count: n(200_000), qos: 1, size: 16, inflight: 1000, topic: 'bench/q1' })))
    case 'pub-q2': return push(f.key, sample(await c.publish({ port: pubPort, count: n(100_000), qos: 2, size: 16, inflight: 1000, topic: 'bench/q2' })))
    case 'pub-q1-1k': return push(f.key, sample(await c.publish({ port: pubPort, count: n(50_000), qos: 1, size: 1024, inflight: 1000, topic: 'bench/q1k' })))
    case 'burst-q1': return push(f.key, sample(await c.publish({ port: pubPort, count: n(BURST), qos: 1, size: 16, inflight: 1000, topic: 'bench/b1', burst: true })))
    case 'burst-q2': return push(f.key, sample(await c.publish({ port: pubPort, count: n(BURST), qos: 2, size: 16, inflight: 1000, topic: 'bench/b2', burst: true })))
    case 'recv-q0': return push(f.key, sample(await c.receive({ port: sinkPort, count: n(200_000), qos: 0, size: 16 })))
    case 'recv-q1': return push(f.key, sample(await c.receive({ port: sinkPort, count: n(100_000), qos: 1, size: 16 })))
    case 'seq-q1': return push(f.key, sample(await c.sequential({ port: sinkPort, count: n(15_000), qos: 1, size: 16 })))
    case 'idle-heap': {
        const fp: Footprint = await c.idle(sinkPort, quick || warming ? 20 : 1000)
        push('idle-heap', { value: fp.heapPerConn, cpuUs: NaN })
        push('idle-rss', { value: fp.rssPerConn, cpuUs: NaN })
        return
    }
    case 'idle-cold': {
        /* In a fresh process per contender and round: nothing warmed up (the warm-up round skips it) */
        if (!warming) {
            push('idle-cold', { value: (await coldFootprint(c, sinkPort, quick ? 20 : 1000)).heapPerConn, cpuUs: NaN })
        }
        return
    }
    case 'through': {
        const count = n(100_000)
        const cpuBefore = processCpuMs(brokerPid)
        const start = performance.now()
        /* QoS 0 through a broker may lose messages: wait a bounded time, then report the figure as incomplete */
        const arrived = counter.expect(count, quick ? 15_000 : 120_000)
        /* The publisher's CPU is its host's, measured over its run */
        const published = await c.publish({ port: brokerPort, count, qos: 0, size: 16, inflight: 1000, topic: 'bench/through' })
        const { complete } = await arrived
        const ms = performance.now() - start
        const s = sample({ count, ms, cpuMs: published.cpuMs })
        s.brokerCpuUs = (processCpuMs(brokerPid) - cpuBefore) * 1000 / count
        s.complete = complete
        return push(f.key, s)
    }
    case 'broker-q1':
    case 'broker-q1-20': {
        const count = n(30_000)
        const cpuBefore = processCpuMs(brokerPid)
        /* Complete when it returns: the last message waits for its acknowledgement */
        const s = sample(await c.publish({ port: brokerPort, count, qos: 1, size: 16, inflight: f.key === 'broker-q1' ? 100 : 20, topic: 'bench/into' }))
        s.brokerCpuUs = (processCpuMs(brokerPid) - cpuBefore) * 1000 / count
        s.complete = true
        return push(f.key, s)
    }
    }
}

/* The contender's idle connections opened by a process that has run nothing before (bench/idle-cold.ts) */
async function coldFootprint(c: Contender, port: number, count: number): Promise<Footprint> {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('idle-cold.js', import.meta.url)), MODULES[c.name], String(port), String(count)],
        { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    const code = await new Promise<number | null>(resolve => child.once('close', resolve))
    if (code !== 0) {
        throw new Error(`idle-cold ${c.name} exited with ${code}`)
    }
    return JSON.parse(out) as Footprint
}

function ratioOf(f: Figure, name: string, base: string): number[] {
    const a = results[f.key][name], b = results[f.key][base]
    /* A round where either side measured nothing gives no ratio (not 0, Infinity or NaN) */
    return a.map((s, i) => f.lowerIsBetter ? b[i]?.value / s.value : s.value / b[i]?.value).filter(r => Number.isFinite(r) && r > 0)
}

/* The median of the measured values: non-finite and (where nothing was measured) zero ones left out */
function measured(xs: (number | undefined)[], allowZero = false): number | null {
    const ok = xs.filter((x): x is number => x !== undefined && Number.isFinite(x) && (allowZero || x > 0))
    return ok.length > 0 ? median(ok) : null
}

function report(brokerLabel: string, sinkLabel: string): void {
    const header = ['figure', 'contender', 'median', 'min-max', 'vs MQTT.js (median; rounds)', 'client CPU us/msg', 'notes']
    const rows: string[][] = [header]
    const json: Record<string, unknown> = {}
    for (const f of figures) {
        json[f.key] = { name: f.name, unit: f.unit, target: f.target, results: results[f.key] }
        for (const c of contenders) {
            const samples = results[f.key][c.name]
            if (samples.length === 0) continue
            const values = samples.map(s => s.value).filter(v => Number.isFinite(v) && v > 0)
            if (values.length === 0) {
                rows.push([f.name, c.name, 'no measurement', '', '', '', samples.some(s => s.complete === false) ? 'INCOMPLETE: messages lost' : ''])
                continue
            }
            const ratios = c.name === 'MQTT.js' ? [] : ratioOf(f, c.name, 'MQTT.js')
            const notes: string[] = []
            const p50 = measured(samples.map(s => s.p50))
            const p99 = measured(samples.map(s => s.p99))
            if (f.key === 'seq-q1' && p50 !== null && p99 !== null) {
                notes.push(`p50 ${p50.toFixed(0)} us, p99 ${p99.toFixed(0)} us`)
            }
            if (f.brokerBound) {
                const brokerCpu = measured(samples.map(s => s.brokerCpuUs))
                if (brokerCpu !== null) notes.push(`${brokerLabel} CPU ${brokerCpu.toFixed(2)} us/msg (broker-bound)`)
                if (samples.some(s => !s.complete)) notes.push('INCOMPLETE: messages lost')
            }
            if (f.key.startsWith('burst-') && c.name === 'fiber-mqtt') {
                /* The burst's CPU per message against the same messages through a window (target: within 1.5x) */
                const windowed = measured(results[f.key.replace('burst-', 'pub-')][c.name].map(s => s.cpuUs), true)
                const own = measured(samples.map(s => s.cpuUs), true)
                if (windowed !== null && own !== null && windowed > 0) notes.push(`${(own / windowed).toFixed(2)}x the windowed CPU (target <= 1.5x)`)
            }
            /* The client's CPU against the raw writer's (or reader's), which does only the work: the floor, in the same run */
            const raw = measured((results[f.key]['raw writer'] ?? []).map(s => s.cpuUs), true)
            const own = measured(samples.map(s => s.cpuUs), true)
            const overRaw = c.name === 'fiber-mqtt' && raw !== null && own !== null && raw > 0 ? own / raw : null
            if (f.key === 'seq-q1' && overRaw !== null) notes.push(`CPU ${overRaw.toFixed(2)}x the raw writer's (target <= 1.25x)`)
            if (f.cpuMax !== undefined && c.name === 'fiber-mqtt') {
                if (overRaw !== null) notes.push(`the raw client ${raw!.toFixed(2)} us (${overRaw.toFixed(1)}x)`)
                notes.push(`target <= ${f.cpuMax} us CPU`)
            }
            if (ratios.length && f.target && c.name === 'fiber-mqtt') {
                notes.push(`target ${f.lowerIsBetter ? '<= 1/' : '>= '}${f.target}${f.lowerIsBetter ? '' : 'x'}`)
            }
            rows.push([f.name, c.name, `${fmtNum(median(values))} ${f.unit}`, `${fmtNum(Math.min(...values))}-${fmtNum(Math.max(...values))}`,
                ratios.length ? `${median(ratios).toFixed(2)}x; ${ratios.map(r => r.toFixed(2)).join(' ')}` : '',
                measured(samples.map(s => s.cpuUs), true)?.toFixed(2) ?? '', notes.join('; ')])
        }
    }
    const widths = header.map((_, i) => Math.max(...rows.map(r => r[i].length)))
    const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
    const lines = [`MQTT throughput: ${ROUNDS} interleaved rounds${quick ? ' (quick)' : ''}, each contender and each peer in a process of its own, ${sinkLabel}, broker ${brokerLabel}`, machine, '']
    rows.forEach((r, i) => {
        lines.push(r.map((cell, j) => cell.padEnd(widths[j])).join('  ').trimEnd())
        if (i === 0) lines.push(widths.map(w => '-'.repeat(w)).join('  '))
    })
    const text = lines.join('\n')
    console.log(text)
    console.log(`\nResults written to ${out}`)
    mkdirSync(out, { recursive: true })
    writeFileSync(`${out}latest.json`, JSON.stringify({ date: new Date().toISOString(), machine, rounds: ROUNDS, quick, broker: brokerLabel, sink: sinkLabel, figures: json }, null, 2))
    writeFileSync(`${out}latest.txt`, text + '\n')
    const bars = figures.filter(f => f.key !== 'idle-rss').map(f => ({
        label: f.lowerIsBetter ? `${f.name} (MQTT.js / x)` : f.name,
        target: f.target ?? undefined,
        values: [
            { name: 'fiber-mqtt / MQTT.js', value: measured(ratioOf(f, 'fiber-mqtt', 'MQTT.js')) ?? 0, color: '#2a7ab0' },
            { name: 'raw writer / MQTT.js', value: measured(ratioOf(f, 'raw writer', 'MQTT.js')) ?? 0, color: '#bbbbbb' },
        ],
    }))
    writeFileSync(`${out}ratios.svg`, barChart(`fiber-mqtt vs MQTT.js (median ratio, log scale; ${machine})`, bars))
}

await main()
