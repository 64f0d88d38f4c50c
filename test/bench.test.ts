import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const harness = fileURLToPath(new URL('../bench/mqtt.js', import.meta.url))

test('the throughput harness runs end to end with tiny counts and writes its table, JSON and chart', async t => {
    const out = mkdtempSync(join(tmpdir(), 'fiber-mqtt-bench-')) + '/'
    try {
        const { code, stdout } = await new Promise<{ code: number | null, stdout: string }>(resolve => {
            const child = spawn(process.execPath, ['--expose-gc', harness, '--quick', '--rounds', '1', '--out', out], { stdio: ['ignore', 'pipe', 'ignore'] })
            let stdout = ''
            child.stdout.on('data', d => { stdout += d })
            const timer = setTimeout(() => child.kill('SIGKILL'), 100_000)
            child.on('exit', code => {
                clearTimeout(timer)
                resolve({ code, stdout })
            })
        })
        t.is(code, 0, stdout)
        for (const figure of ['QoS 0 publish, 16 B', 'QoS 1 publish, 1,000 in flight', 'receive QoS 1', 'QoS 1 sequential round trips',
            '1,000 idle connections: heap each', 'publisher -> broker -> subscriber']) {
            t.true(stdout.includes(figure), figure)
        }
        for (const contender of ['fiber-mqtt', 'MQTT.js', 'raw writer']) {
            t.true(stdout.includes(contender))
        }
        const json = JSON.parse(readFileSync(`${out}latest.json`, 'utf8'))
        t.is(json.rounds, 1)
        t.is(Object.keys(json.figures).length, 10)
        t.is(json.figures['pub-q1'].results['fiber-mqtt'].length, 1)
        t.true(json.figures['pub-q1'].results['fiber-mqtt'][0].value > 0)
        t.true(existsSync(`${out}ratios.svg`))
        t.regex(readFileSync(`${out}ratios.svg`, 'utf8'), /^<svg [^>]+>[\s\S]*fiber-mqtt \/ MQTT\.js[\s\S]*<\/svg>\n$/)
    } finally {
        rmSync(out, { recursive: true, force: true })
    }
})

test('npm run size reports the minified and gzipped size of runtime + socket + mqtt', async t => {
    const script = fileURLToPath(new URL('../bench/size.js', import.meta.url))
    const out = await new Promise<string>(resolve => {
        const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'ignore'] })
        let text = ''
        child.stdout.on('data', d => { text += d })
        child.on('exit', () => resolve(text))
    })
    const m = /runtime \+ socket \+ mqtt: ([\d.]+) KB minified\+gzipped/.exec(out)
    t.truthy(m, out)
    t.true(Number(m![1]) > 1 && Number(m![1]) < 100)
})
