/*
    `npm run bench -- --only`: a partial run measures the figures named and nothing else, writes to a temporary
    folder (never over the committed results), and an unknown figure is refused before any process starts.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const bench = fileURLToPath(new URL('../../bench/mqtt.js', import.meta.url))
const committed = fileURLToPath(new URL('../../../bench/results/latest.json', import.meta.url))

function run(args: string[], timeout = 120_000): Promise<{ code: number | null, out: string, err: string }> {
    return new Promise(resolve => {
        const child = spawn(process.execPath, [bench, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = ''
        let err = ''
        child.stdout.on('data', d => { out += d })
        child.stderr.on('data', d => { err += d })
        const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
        child.on('exit', code => { clearTimeout(timer); resolve({ code, out, err }) })
    })
}

test('an unknown figure is refused with the list of figures, exit code 2', async t => {
    const r = await run(['--only', 'seq-q1,nope'])
    t.is(r.code, 2, r.err)
    t.regex(r.err, /--only: unknown figure nope; the figures are pub-q0-16, .*seq-q1/)
    t.is(r.out, '')
})

test('--only measures those figures alone, for every contender, and leaves the committed results as they are', async t => {
    const before = existsSync(committed) ? statSync(committed).mtimeMs : null
    const r = await run(['--only', 'seq-q1', '--quick'])
    t.is(r.code, 0, r.out + r.err)
    const rows = r.out.split('\n').filter(l => /^QoS|^receive|^publisher|^1,000/.test(l))
    t.deepEqual(rows.map(l => l.split(/\s{2,}/).slice(0, 2).join(' / ')), [
        'QoS 1 sequential round trips / fiber-mqtt',
        'QoS 1 sequential round trips / MQTT.js',
        'QoS 1 sequential round trips / raw writer',
    ], r.out)
    const folder = /Results written to (\S+)/.exec(r.out)?.[1]
    t.truthy(folder, r.out)
    t.false(folder!.includes('bench/results'), folder)
    const json = JSON.parse(readFileSync(`${folder}latest.json`, 'utf8'))
    t.true(json.figures['seq-q1'].results['fiber-mqtt'].length > 0)
    t.is(json.figures['pub-q1'].results['fiber-mqtt'].length, 0)
    rmSync(folder!, { recursive: true, force: true })
    t.is(existsSync(committed) ? statSync(committed).mtimeMs : null, before)
})
