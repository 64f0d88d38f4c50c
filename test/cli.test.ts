import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mosquittoPath, startAedes, startMosquitto, type Broker } from '../examples/lib/broker.js'
import { quietLogs } from './helpers/quiet.js'

quietLogs(test)

const cli = fileURLToPath(new URL('../bin/fiber-mqtt.js', import.meta.url))
const tickTock = fileURLToPath(new URL('../examples/tick-tock.js', import.meta.url))
const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))

interface Proc {
    out: () => string
    err: () => string
    write: (s: string) => void
    end: () => void
    done: Promise<number | null>
}

function start(script: string, args: string[], timeout = 20_000): Proc {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    return {
        out: () => out, err: () => err,
        write: s => child.stdin.write(s),
        end: () => child.stdin.end(),
        done: new Promise(resolve => child.on('exit', code => { clearTimeout(timer); resolve(code) })),
    }
}

async function run(args: string[], stdin?: string): Promise<{ code: number | null, out: string, err: string }> {
    const p = start(cli, args)
    if (stdin !== undefined) {
        p.write(stdin)
    }
    p.end()
    const code = await p.done
    return { code, out: p.out(), err: p.err() }
}

async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
    const deadline = Date.now() + ms
    while (!cond()) {
        if (Date.now() > deadline) return false
        await new Promise(r => setTimeout(r, 20))
    }
    return true
}

let broker: Broker
test.before(async () => {
    broker = await startAedes()
})
test.after.always(async () => {
    await broker?.stop()
})

const at = () => ['-h', '127.0.0.1', '-p', String(broker.port)]

test('the tick-tock walk-through, verbatim apart from the command name', async t => {
    const client = start(tickTock, ['127.0.0.1', String(broker.port)])
    t.true(await until(() => client.err().includes('ready: pid')), client.err())
    const pid = /ready: pid (\d+)/.exec(client.err())![1]
    /* mosquitto_sub -t "tock/#"  ->  fiber-mqtt sub -t 'tock/#' */
    const sub = start(cli, ['sub', ...at(), '-t', 'tock/#', '-C', '3'])
    let subExited = false
    const subDone = sub.done.then(code => { subExited = true; return code })
    /*
        while true; do echo tick; sleep 1; done | mosquitto_pub -l -t "tick"  ->  ... | fiber-mqtt pub -l -t tick
        Ticks go on until the subscriber has its three tocks (it may subscribe after the first ticks on a busy machine)
     */
    const pub = start(cli, ['pub', ...at(), '-l', '-t', 'tick'])
    for (let i = 0; i < 150 && !subExited; i++) {
        pub.write('tick\n')
        await new Promise(r => setTimeout(r, 100))
    }
    pub.end()
    t.is(await pub.done, 0, pub.err())
    t.is(await subDone, 0, sub.err())
    const lines = sub.out().trim().split('\n')
    t.is(lines.length, 3)
    t.true(lines.every(l => new RegExp(`^${pid} \\d+$`).test(l)), sub.out())
    t.is((await run(['pub', ...at(), '-t', 'control/all', '-m', 'halt'])).code, 0)
    t.is(await client.done, 0)
})

test('sub -v prints topics, -C stops after a count; pub -m, -f, -n, -s, -q and -r', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-cli-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'payload.txt'), 'from a file')
    /* -d: the trace on stderr says when the subscription is in place */
    const sub = start(cli, ['sub', ...at(), '-t', 'cli/#', '-v', '-q', '1', '-C', '4', '-d'])
    t.true(await until(() => sub.err().includes('received SUBACK')), sub.err())
    t.is((await run(['pub', ...at(), '-t', 'cli/m', '-m', 'hello', '-q', '1'])).code, 0)
    t.is((await run(['pub', ...at(), '-t', 'cli/f', '-f', join(dir, 'payload.txt'), '-q', '2'])).code, 0)
    t.is((await run(['pub', ...at(), '-t', 'cli/n', '-n'])).code, 0)
    t.is((await run(['pub', ...at(), '-t', 'cli/s', '-s'], 'all of\nstdin')).code, 0)
    t.is(await sub.done, 0, sub.err())
    t.deepEqual(sub.out().split('\n').filter(Boolean).sort(), ['cli/f from a file', 'cli/m hello', 'cli/n ', 'cli/s all of', 'stdin'].sort())
    /* Retained: a later subscriber sees it, unless -R */
    t.is((await run(['pub', ...at(), '-t', 'cli/retained', '-m', 'kept', '-r', '-q', '1'])).code, 0)
    const r = await run(['sub', ...at(), '-t', 'cli/retained', '-C', '1', '-W', '5'])
    t.is(r.out, 'kept\n')
    const skip = await run(['sub', ...at(), '-t', 'cli/retained', '-R', '-W', '1'])
    t.is(skip.code, 27)
    t.is(skip.out, '')
    t.regex(skip.err, /Timed out/)
})

test('-L URLs, -N, and -d packet traces', async t => {
    const sub = start(cli, ['sub', '-L', `mqtt://127.0.0.1:${broker.port}/url/topic`, '-N', '-C', '2', '-d'])
    t.true(await until(() => sub.err().includes('received SUBACK')), sub.err())
    const pub = await run(['pub', '-L', `mqtt://127.0.0.1:${broker.port}/url/topic`, '-m', 'a', '-d', '-q', '1'])
    t.is(pub.code, 0)
    t.regex(pub.err, /sending CONNECT/)
    t.regex(pub.err, /sending PUBLISH \(q1, id 1, 'url\/topic', 1 bytes\)/)
    t.regex(pub.err, /received PUBACK \(id 1\)/)
    await run(['pub', '-L', `mqtt://127.0.0.1:${broker.port}/url/topic`, '-m', 'b'])
    t.is(await sub.done, 0)
    t.is(sub.out(), 'ab')
    /* A wildcard in the URL's topic is kept (not taken as a URL fragment) */
    const wild = start(cli, ['sub', '-L', `mqtt://127.0.0.1:${broker.port}/alerts/#`, '-v', '-C', '1', '-d'])
    t.true(await until(() => wild.err().includes('received SUBACK')), wild.err())
    await run(['pub', '-L', `mqtt://127.0.0.1:${broker.port}/alerts/fire`, '-m', 'hot'])
    t.is(await wild.done, 0)
    t.is(wild.out(), 'alerts/fire hot\n')
})

test('bad options and failed connections: a clear message and a non-zero exit', async t => {
    const cases: [string[], RegExp, number][] = [
        [['pub', '-Z'], /Error: Unknown option '-Z'\.\nUse 'fiber-mqtt pub --help' to see usage\./, 1],
        [['pub', '-t', 'a'], /Nothing to publish: give one of -m, -f, -l, -n or -s/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-n'], /Only one of -m, -f, -l, -n and -s/, 1],
        [['pub', '-t', 'a/+', '-m', 'x'], /Invalid publish topic 'a\/\+', does it contain '\+' or '#'\?/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-q', '3'], /Invalid QoS given: 3/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-p', 'port'], /Invalid port value 'port'/, 1],
        [['pub', '-t'], /-t argument given but no topic specified/, 1],
        [['sub'], /You must specify a topic to subscribe to/, 1],
        [['sub', '-t', 'a', '-P', 'x'], /A password \(-P\) needs a user name/, 1],
        [['sub', '-t', 'a', '--cert', 'c.pem'], /Both --cert and --key/, 1],
        [['sub', '-L', 'http://h/t'], /Unsupported URL scheme/, 1],
        [['sub', '-L', 'mqtt://u:hunter2@h:99999/t'], /Invalid URL for -L: Bad port "99999" in "mqtt:\/\/u:\*\*\*@h:99999\/t"/, 1],
        [['frobnicate'], /Unknown command 'frobnicate'/, 1],
        [['pub', '-h', '127.0.0.1', '-p', '1', '-t', 'a', '-m', 'x'], /Error: Connection refused/, 1],
        [['pub', '-h', 'no-such-host.invalid', '-t', 'a', '-m', 'x'], /Unable to connect \(Lookup error\.\)/, 1],
        [['pub', '-t', 'a', '-f', '/no/such/file', '-p', '1'], /Unable to read file "\/no\/such\/file"/, 1],
    ]
    for (const [args, pattern, code] of cases) {
        const r = await run(args)
        t.is(r.code, code, args.join(' '))
        t.regex(r.err, pattern, args.join(' '))
    }
    const help = await run(['sub', '--help'])
    t.is(help.code, 0)
    t.regex(help.out, /Usage: fiber-mqtt sub/)
})

if (mosquittoPath() === null) {
    test('mosquitto is installed', t => {
        t.fail('mosquitto is not installed: apt-get install -y mosquitto')
    })
} else {
    test('credentials and TLS against mosquitto: -u/-P, --cafile, --insecure, --alpn', async t => {
        const secured = await startMosquitto({ users: { alice: 'secret' }, tls: { ca: `${fixtures}ca.crt`, cert: `${fixtures}server.crt`, key: `${fixtures}server.key` } })
        try {
            const base = ['-h', '127.0.0.1', '-p', String(secured.port), '-t', 'sec/t', '-m', 'x']
            t.is((await run(['pub', ...base, '-u', 'alice', '-P', 'secret'])).code, 0)
            const wrong = await run(['pub', ...base, '-u', 'alice', '-P', 'nope'])
            t.is(wrong.code, 1)
            t.regex(wrong.err, /Connection error: Connection refused: (bad user name or password|not authorized) \(CONNACK [45]\)/)
            const tls = ['-h', 'localhost', '-p', String(secured.tlsPort), '-t', 'tls/t', '-m', 'x']
            t.is((await run(['pub', ...tls, '--cafile', `${fixtures}ca.crt`])).code, 0)
            const untrusted = await run(['pub', ...tls, '--cafile', `${fixtures}other-ca.crt`])
            t.is(untrusted.code, 1)
            t.regex(untrusted.err, /Certificate not trusted/)
            t.is((await run(['pub', ...tls, '--cafile', `${fixtures}other-ca.crt`, '--insecure'])).code, 0)
            const alpn = await run(['pub', ...tls, '--cafile', `${fixtures}ca.crt`, '--alpn', 'x-amzn-mqtt-ca'])
            t.is(alpn.code, 1)
            t.regex(alpn.err, /ALPN/)
        } finally {
            await secured.stop()
        }
    })
}
