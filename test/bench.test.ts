import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { quietLogs } from './helpers/quiet.js'
import { ended } from './helpers/child.js'

quietLogs(test)

/*
    Run a benchmark script to its end (killed after limitMs) and collect its exit code and stdout; stderr (the
    progress lines and any error) is appended to stdout when the run fails, so a failure says why.
 */
function runScript(script: string, args: string[], limitMs: number): Promise<{ code: number | null, stdout: string }> {
    return new Promise(resolve => {
        const path = fileURLToPath(new URL(`../bench/${script}`, import.meta.url))
        const child = spawn(process.execPath, ['--expose-gc', path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', d => { stdout += d })
        child.stderr.on('data', d => { stderr += d })
        const started = Date.now()
        /* At the limit SIGTERM (the harness then stops its broker and peers), SIGKILL if that does not end it */
        let killer: NodeJS.Timeout | undefined
        const timer = setTimeout(() => {
            child.kill('SIGTERM')
            killer = setTimeout(() => child.kill('SIGKILL'), 5000)
        }, limitMs)
        void ended(child).then(code => {
            clearTimeout(timer)
            clearTimeout(killer)
            resolve({ code, stdout: code === 0 ? stdout : `${stdout}\n--- stderr (exit ${code} after ${Date.now() - started} ms):\n${stderr.slice(-4000)}` })
        })
    })
}

const committedJson = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url))
const readCommitted = (): string | null => existsSync(committedJson) ? readFileSync(committedJson, 'utf8') : null

/*
    Run the throughput harness with `args` (a quick or partial run): it ends well, writes to a temporary folder and
    never over the committed results; then `check` its output and that folder, which is removed afterwards.
 */
async function harnessRun(t: ExecutionContext, args: string[], check: (stdout: string, out: string) => void): Promise<void> {
    const before = readCommitted()
    let out = ''
    try {
        const { code, stdout } = await runScript('mqtt.js', args, 100_000)
        t.is(code, 0, stdout)
        out = /Results written to (\S+)/.exec(stdout)?.[1] ?? ''
        t.true(out.startsWith(tmpdir()), out)
        t.is(readCommitted(), before)
        check(stdout, out)
    } finally {
        if (out) rmSync(out, { recursive: true, force: true })
    }
}

/* One benchmark at a time: run together they only load each other (and slow the harness past its bound) */
test.serial('the throughput harness runs end to end with tiny counts and writes its table, JSON and chart (a quick run to a temporary folder)', async t => {
    await harnessRun(t, ['--quick', '--rounds', '1'], (stdout, out) => {
        /* No meaningless rows */
        t.notRegex(stdout, /NaN|Infinity|CPU 0\.00 us/)
        /* It says which sink the publish figures met */
        t.regex(stdout, /each peer in a process of its own, (the publish figures against the C sink|against the Node sink), broker/)
        for (const figure of ['QoS 0 publish, 16 B', 'QoS 1 publish, 1,000 in flight', 'QoS 1 burst, no window', 'QoS 2 burst, no window',
            'x the windowed CPU', 'receive QoS 1', 'QoS 1 sequential round trips', '1,000 idle connections: heap each', '1,000 idle connections opened cold: heap each', 'publisher -> broker -> subscriber',
            'QoS 1 publish into the broker, 100 in flight', 'QoS 1 publish into the broker, 20 in flight', 'QoS 1 publish, 1 KiB, 1,000 in flight']) {
            t.true(stdout.includes(figure), figure)
        }
        /* Each CPU target beside the work alone in the same run: the raw client's CPU per message and the client's multiple of it */
        for (const figure of ['QoS 1 publish, 1,000 in flight', 'QoS 2 publish, 1,000 in flight', 'receive QoS 0', 'receive QoS 1']) {
            t.regex(stdout, new RegExp(`${figure} +fiber-mqtt .*the raw client \\d+\\.\\d\\d us \\(\\d+\\.\\dx\\); target <= [\\d.]+ us CPU`), figure)
        }
        for (const contender of ['fiber-mqtt', 'MQTT.js', 'raw writer']) {
            t.true(stdout.includes(contender))
        }
        const json = JSON.parse(readFileSync(`${out}latest.json`, 'utf8'))
        t.is(json.rounds, 1)
        t.is(Object.keys(json.figures).length, 16)
        t.is(json.figures['pub-q1'].results['fiber-mqtt'].length, 1)
        t.true(json.figures['pub-q1'].results['fiber-mqtt'][0].value > 0)
        t.true(existsSync(`${out}ratios.svg`))
        t.regex(readFileSync(`${out}ratios.svg`, 'utf8'), /^<svg [^>]+>[\s\S]*fiber-mqtt \/ MQTT\.js[\s\S]*<\/svg>\n$/)
    })
})

test.serial('npm run bench -- --only: an unknown figure is refused with the list of figures (exit code 2)', async t => {
    const { code, stdout } = await runScript('mqtt.js', ['--only', 'seq-q1,nope'], 30_000)
    t.is(code, 2, stdout)
    t.regex(stdout, /--only: unknown figure nope; the figures are pub-q0-16, .*seq-q1/)
})

test.serial('the benchmarks refuse an unknown option, a missing value or a count that is not one (exit code 2, nothing run) and print their usage for --help', async t => {
    const before = readCommitted()
    const refused: [string, string[], RegExp][] = [
        ['mqtt.js', ['--rondus', '3'], /Unknown option --rondus\nUsage: npm run bench /],
        ['mqtt.js', ['--rounds'], /--rounds needs a value/],
        ['mqtt.js', ['--quick', '--scale', 'x'], /--scale: "x" is not a number/],
        ['fibers.js', ['--pings', '-5'], /--pings: "-5" is not a number/],
        ['socket.js', ['--mb', '1'], /Unknown option --mb\nUsage: npm run bench:socket/],
        ['codec.js', ['--count', ''], /--count: "" is not a number/],
        ['loadgen.js', ['--quik'], /Unknown option --quik/],
        ['websocket.js', ['--rounds', '2'], /Unknown option --rounds\nUsage: npm run bench:ws \[-- --quick\]/],
        ['soak.js', ['ten'], /minutes: "ten" is not a number above 0/],
    ]
    for (const [script, args, message] of refused) {
        const { code, stdout } = await runScript(script, args, 30_000)
        t.is(code, 2, `${script} ${args.join(' ')}: ${stdout}`)
        t.regex(stdout, message, script)
    }
    for (const script of ['mqtt.js', 'fibers.js', 'loadgen.js', 'soak.js']) {
        const { code, stdout } = await runScript(script, ['--help'], 30_000)
        t.is(code, 0, stdout)
        t.regex(stdout, /^Usage: npm run /, script)
    }
    t.is(readCommitted(), before)
})

test.serial('npm run bench -- --only measures those figures alone, for every contender, never over the committed results', async t => {
    await harnessRun(t, ['--only', 'seq-q1', '--quick'], (stdout, out) => {
        const rows = stdout.split('\n').filter(l => / {2}(fiber-mqtt|MQTT\.js|raw writer) {2}/.test(l))
        t.deepEqual(rows.map(l => l.split(/\s{2,}/).slice(0, 2).join(' / ')), [
            'QoS 1 sequential round trips / fiber-mqtt',
            'QoS 1 sequential round trips / MQTT.js',
            'QoS 1 sequential round trips / raw writer',
        ], stdout)
        const json = JSON.parse(readFileSync(`${out}latest.json`, 'utf8'))
        t.true(json.figures['seq-q1'].results['fiber-mqtt'].length > 0)
        t.is(json.figures['pub-q1'].results['fiber-mqtt'].length, 0)
    })
})

test.serial('npm run size reports the minified and gzipped size of runtime + socket + client, beside MQTT.js; MQTT 5, WebSocket and TLS are left out of a 3.1.1 app', async t => {
    const { stdout: out } = await runScript('size.js', [], 60_000)
    const m = /runtime \+ socket \+ MQTT 3\.1\.1 client: ([\d.]+) KB minified\+gzipped at start/.exec(out)
    t.truthy(m, out)
    t.true(Number(m![1]) > 1 && Number(m![1]) < 100)
    /* MQTT.js beside it, bundled the same way, and an app's bundle of each */
    t.regex(out, /MQTT\.js [\d.]+ KB: 1\/[\d.]+ \(target <= 1\/5\)/)
    t.regex(out, /an app's bundle at start: [\d.]+ KB against MQTT\.js's [\d.]+ KB: 1\/[\d.]+; with MQTT 5: [\d.]+ KB/)
    /* MQTT 5 and WebSocket are parts: a 3.1.1 app does not load them at start (WebSocket comes on first use) */
    t.regex(out, /MQTT 5 and WebSocket modules loaded at start by a 3\.1\.1 app: none/)
    /* TLS too: loaded by the first TLS connect */
    t.regex(out, /the TLS part loaded at start by an app \(by URL, or ported from C\): no/)
    /* A client carries no parser for what only a client sends, nor encoder for what only a server sends */
    t.regex(out, /the codec's server side \(parsing CONNECT, SUBSCRIBE, UNSUBSCRIBE; encoding CONNACK, SUBACK\) at an app's start: none/)
    t.regex(out, /the same app ported from C \(rConnectSocket\) +[\d.]+ KB minified +[\d.]+ KB gzipped/)
    /* What bounds the size, in the same run: the app's code without its text */
    const code = /the same app with every string emptied \(its code alone\): ([\d.]+) KB, 1\/[\d.]+ of MQTT\.js; its text is [\d.]+ KB/.exec(out)
    const app = /an app's bundle at start: ([\d.]+) KB/.exec(out)
    t.truthy(code, out)
    t.true(Number(code![1]) > 1 && Number(code![1]) < Number(app![1]))
    t.regex(out, /app: connect, publish, subscribe \(fiber-mqtt\).*on first use/)
})

test.serial('the fibers benchmark runs with tiny counts and prints every figure with the run-queue floor', async t => {
    const { code, stdout } = await runScript('fibers.js', ['--pings', '2000', '--spawns', '500', '--sleepers', '50', '--parked', '500'], 60_000)
    t.is(code, 0, stdout)
    for (const figure of ['ping-pong', 'spawn+finish', 'sleeps of 1 ms', 'heap bytes each', 'run-queue floor', 'setTimeout promises']) {
        t.true(stdout.includes(figure), figure)
    }
    t.regex(stdout, /ping-pong: fibers [\d.]+x async\/await \(target >= 2x\); the run-queue floor [\d.]+x/)
})

test.serial('the socket benchmark runs with tiny counts and prints both ratios', async t => {
    const { code, stdout } = await runScript('socket.js', ['--rounds', '3', '--mib', '1', '--pings', '100'], 60_000)
    t.is(code, 0, stdout)
    t.regex(stdout, /throughput \d+% of node:net \(target >= 90%\), round trips \d+% \(target >= 80%\)/)
})

test.serial('the codec benchmark runs with tiny counts against mqtt-packet', async t => {
    const { code, stdout } = await runScript('codec.js', ['--rounds', '3', '--count', '500'], 60_000)
    t.is(code, 0, stdout)
    t.true(stdout.includes('mqtt-packet'))
    t.regex(stdout, /decode/)
})
