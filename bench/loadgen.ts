/*
    The load generator measured: the same pub/sub scenario (publishers fanning in to one subscriber through
    mosquitto) driven by `fiber-mqtt bench` and by the same load written on MQTT.js, interleaved, medians of
    the rounds; then how many idle connections one process holds and what each costs; then how the
    generator's rate grows with workers against the project's sink.
        npm run bench:loadgen [-- --quick] [--rounds N] [--conns N] [--out DIR]
    Writes loadgen.txt, loadgen.json and loadgen.svg (a real run's chart) in bench/results/ (a temporary
    folder for --quick).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startMosquitto } from '../brokers/broker.js'
import { startSink } from './lib/peers.js'
import { median } from './lib/stats.js'
import { benchOptions } from './lib/options.js'

const options = benchOptions('npm run bench:loadgen [-- --quick] [--rounds N] [--conns N] [--out DIR]', ['--quick'], ['--rounds', '--conns', '--out'])
const quick = options.has('--quick')
const value = options.value
const rounds = options.number('--rounds', quick ? 2 : 5)
const messages = quick ? 20_000 : 100_000
const longMessages = messages * 10
const out = value('--out') ?? (quick ? `${mkdtempSync(join(tmpdir(), 'fiber-mqtt-loadgen-'))}/` : fileURLToPath(new URL('../../bench/results/', import.meta.url)))
mkdirSync(out, { recursive: true })
const cli = fileURLToPath(new URL('../bin/fiber-mqtt.js', import.meta.url))
const mqttjs = fileURLToPath(new URL('./lib/mqttjs-loadgen.js', import.meta.url))

interface Proc { out: () => string, err: () => string, done: Promise<number | null> }

function start(script: string, argv: string[], node: string[] = []): Proc {
    const child = spawn(process.execPath, [...node, script, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    let o = '', e = ''
    child.stdout.on('data', d => { o += d })
    child.stderr.on('data', d => { e += d })
    return { out: () => o, err: () => e, done: new Promise(r => child.on('exit', code => r(code))) }
}

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!cond()) {
        if (Date.now() > deadline) throw new Error('timed out')
        await new Promise(r => setTimeout(r, 20))
    }
}

async function result(p: Proc): Promise<any> {
    const code = await p.done
    if (code !== 0) throw new Error(`exit ${code}: ${p.err()}`)
    return JSON.parse(p.out())
}

interface Sample { rate: number, pubUs: number, subUs: number, gaps: number, p50Ms: number | null, p99Ms: number | null }

async function scenario(tool: 'fiber-mqtt' | 'MQTT.js', port: number, qos: number, n: number, coalesce: number): Promise<Sample> {
    const topic = `load/${tool === 'fiber-mqtt' ? 'f' : 'm'}${qos}`
    const publishers = 4
    const size = 64
    let sub: Proc, pub: Proc
    if (tool === 'fiber-mqtt') {
        sub = start(cli, ['bench', 'sub', '-h', '127.0.0.1', '-p', String(port), '-c', '1', '-q', String(qos), '-t', `${topic}/#`, '-L', String(n), '-w', '1', '-d', '300', '--coalesce', String(coalesce), '--json'])
        await until(() => /conn 1\/1/.test(sub.err()))
        pub = start(cli, ['bench', 'pub', '-h', '127.0.0.1', '-p', String(port), '-c', String(publishers), '-i', '0', '-I', '0', '-q', String(qos),
            '-s', String(size), '-t', `${topic}/%i`, '-L', String(n), '-F', '100', '-w', '1', '--json'])
    } else {
        sub = start(mqttjs, ['sub', String(port), '1', String(qos), String(n), `${topic}/#`, String(size), '100'])
        await until(() => /subscribed/.test(sub.err()))
        pub = start(mqttjs, ['pub', String(port), String(publishers), String(qos), String(n), `${topic}/%i`, String(size), '100'])
    }
    const p = await result(pub)
    const s = await result(sub)
    /* fiber-mqtt's subscriber reports the end-to-end latency (send stamp to receipt) */
    const lat = s.latencyUs ?? null
    return { rate: s.received / (s.activeMs / 1000), pubUs: p.cpuMs * 1000 / n, subUs: s.cpuMs * 1000 / n, gaps: s.gaps,
        p50Ms: lat === null ? null : lat.p50 / 1000, p99Ms: lat === null ? null : lat.p99 / 1000 }
}

const lines: string[] = []
const say = (line: string) => { lines.push(line); process.stdout.write(`${line}\n`) }
const json: Record<string, unknown> = { rounds, messages, longMessages }

const broker = await startMosquitto()
try {
    say(`fiber-mqtt bench against MQTT.js: 4 publishers -> mosquitto -> 1 subscriber, ${messages.toLocaleString('en-US')} messages of 64 bytes ` +
        `(the last row ${longMessages.toLocaleString('en-US')}), ${rounds} rounds interleaved, medians`)
    say('')
    say('                        messages/s             publisher CPU us/msg     subscriber CPU us/msg')
    say('                   fiber     MQTT.js  ratio    fiber   MQTT.js  ratio   fiber   MQTT.js  ratio')
    /* fiber-mqtt's subscriber naps 1 ms between reads while messages come faster (mqttSetCoalesce); the third row
       is the same QoS 1 scenario 10x longer, so the code each process compiles once weighs little; the last
       one the QoS 1 scenario with a subscriber that reads each readable event at once (the library's default) */
    const rows = [['qos0', 'QoS 0', 0, messages, 1], ['qos1', 'QoS 1', 1, messages, 1], ['qos1long', `QoS 1, ${longMessages / 1e6}M`, 1, longMessages, 1],
        ['qos1eager', 'QoS 1, no nap', 1, messages, 0]] as const
    const latency: string[] = []
    for (const [key, label, qos, n, coalesce] of rows) {
        const samples: Record<string, Sample[]> = { 'fiber-mqtt': [], 'MQTT.js': [] }
        for (let r = 0; r < rounds; r++) {
            const order = r % 2 === 0 ? ['fiber-mqtt', 'MQTT.js'] as const : ['MQTT.js', 'fiber-mqtt'] as const
            for (const tool of order) {
                samples[tool].push(await scenario(tool, broker.port, qos, n, coalesce))
            }
        }
        const m = (tool: string, k: 'rate' | 'pubUs' | 'subUs') => median(samples[tool].map(s => s[k]))
        const f = (x: number, d = 2) => x.toFixed(d).padStart(8)
        say(`${label.padEnd(14)} ${f(m('fiber-mqtt', 'rate'), 0)}  ${f(m('MQTT.js', 'rate'), 0)}  ${f(m('fiber-mqtt', 'rate') / m('MQTT.js', 'rate'))}x ` +
            `${f(m('fiber-mqtt', 'pubUs'))} ${f(m('MQTT.js', 'pubUs'))} ${f(m('MQTT.js', 'pubUs') / m('fiber-mqtt', 'pubUs'))}x ` +
            `${f(m('fiber-mqtt', 'subUs'))} ${f(m('MQTT.js', 'subUs'))} ${f(m('MQTT.js', 'subUs') / m('fiber-mqtt', 'subUs'))}x`)
        json[key] = samples
        latency.push(`${label}: p50 ${median(samples['fiber-mqtt'].map(x => x.p50Ms ?? 0)).toFixed(1)} ms, p99 ${median(samples['fiber-mqtt'].map(x => x.p99Ms ?? 0)).toFixed(1)} ms`)
    }
    say('(CPU ratios are MQTT.js / fiber-mqtt: above 1x the generator spends less per message; gaps must be 0;')
    say(' fiber-mqtt\'s subscriber runs with --coalesce 1 but in the last row)')
    say(`fiber-mqtt's end-to-end latency (medians of the rounds; the broker's queue is most of it): ${latency.join('; ')}`)

    /* Scale: idle connections in one process, memory per connection after a collection */
    const limit = options.number('--conns', quick ? 2000 : 15000)
    const conn = await result(start(cli, ['bench', 'conn', '-h', '127.0.0.1', '-p', String(broker.port), '-c', String(limit), '-i', '0', '-k', '600',
        '-d', quick ? '4' : '15', '-w', '1', '--json', '--chart', join(out, 'loadgen-conn.svg')], ['--expose-gc']))
    say('')
    say(`Idle connections in one process (-w 1, mosquitto on the same 2-core machine, file limit ${limit + 1000}+):`)
    say(`  ${conn.peakConnected.toLocaleString('en-US')} held of ${limit.toLocaleString('en-US')} (${conn.failures} failed), ` +
        `${conn.heapPerConnection} bytes of heap and ${conn.rssPerConnection} bytes of RSS per connection, connect p50 ${(conn.connectLatencyUs.p50 / 1000).toFixed(1)} ms p99 ${(conn.connectLatencyUs.p99 / 1000).toFixed(1)} ms`)
    json.idle = conn

    /* Workers: the generator's own rate against the sink (it acknowledges at once) */
    const sink = await startSink()
    try {
        say('')
        say(`Workers: 8 publishers, QoS 1, 64 bytes, ${(messages * 4).toLocaleString('en-US')} messages against the project's sink (median of ${rounds})`)
        const byWorkers: Record<number, any[]> = {}
        for (let r = 0; r < rounds; r++) {
            for (const w of r % 2 === 0 ? [1, 2] : [2, 1]) {
                const p = await result(start(cli, ['bench', 'pub', '-h', '127.0.0.1', '-p', String(sink.port), '-c', '8', '-i', '0', '-I', '0', '-q', '1',
                    '-s', '64', '-t', 'w/%i', '-L', String(messages * 4), '-F', '1000', '-w', String(w), '--json']))
                ;(byWorkers[w] ??= []).push(p)
            }
        }
        for (const w of [1, 2]) {
            say(`  -w ${w}: ${Math.round(median(byWorkers[w].map(p => p.messageRate))).toLocaleString('en-US')} messages/s, ` +
                `${median(byWorkers[w].map(p => p.cpuUsPerMessage)).toFixed(2)} us CPU per message (all workers)`)
        }
        json.workers = byWorkers
    } finally {
        sink.stop()
    }

    /* A real run's chart: 200 publishers at 10 messages/s each for 20 s, one subscriber */
    const chartSub = start(cli, ['bench', 'sub', '-h', '127.0.0.1', '-p', String(broker.port), '-c', '1', '-q', '1', '-t', 'chart/#', '-d', quick ? '8' : '26', '-w', '1',
        '--chart', join(out, 'loadgen.svg'), '--csv', join(out, 'loadgen.csv')])
    await until(() => /conn 1\/1/.test(chartSub.err()))
    const chartPub = start(cli, ['bench', 'pub', '-h', '127.0.0.1', '-p', String(broker.port), '-c', '200', '-i', '10', '-I', '100', '-q', '1',
        '-t', 'chart/%i', '-d', quick ? '5' : '20', '-w', '2'])
    await chartPub.done
    await chartSub.done
    say('')
    say('A real run (README): 200 publishers ramped at 100/s, 10 messages/s each, one QoS 1 subscriber:')
    say(`$ fiber-mqtt bench pub -c 200 -i 10 -I 100 -q 1 -t 'chart/%i' -d 20 -w 2`)
    say(chartPub.out().trimEnd())
    say(`$ fiber-mqtt bench sub -c 1 -q 1 -t 'chart/#' -d 26 -w 1 --chart loadgen.svg`)
    say(chartSub.out().trimEnd())
} finally {
    await broker.stop()
}
writeFileSync(join(out, 'loadgen.txt'), lines.join('\n') + '\n')
writeFileSync(join(out, 'loadgen.json'), JSON.stringify(json, null, 1) + '\n')
process.stdout.write(`\nWritten to ${out}\n`)

