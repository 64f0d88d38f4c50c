import test from 'ava'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mosquittoPath, startAedes, startMosquitto, type Broker } from '../brokers/broker.js'
import { quietLogs } from './helpers/quiet.js'
import { ended } from './helpers/child.js'
import { inFiber } from './helpers/fiber.js'
import { scripted } from './helpers/peer.js'
import { connack, send } from './helpers/mqtt5.js'
import { rCloseSocket, type RSocket } from '../socket/index.js'
import { encode } from '../mqtt/index.js'

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

/* The kill is a last resort (a process that should end ends long before): a subscriber's run includes its own
   start and several publishers' processes, which a full test run on two loaded cores can take over 20 s to get through */
function start(script: string, args: string[], timeout = 60_000): Proc {
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
        done: ended(child).then(code => { clearTimeout(timer); return code }),
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

/* What a command loads at start: pub and sub take neither the bench command's modules nor the layers the CLI does
   not use (the agent, the Mongoose and promise APIs); the bench loads its own on its command */
test('pub and sub start without the bench, the agent, the Mongoose or the promise modules', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-loaded-'))
    const hook = fileURLToPath(new URL('./helpers/loaded.js', import.meta.url))
    try {
        const loaded = async (command: string) => {
            const file = join(dir, command)
            writeFileSync(file, '')
            const child = spawn(process.execPath, ['--import', hook, cli, command, '--help'],
                { stdio: 'ignore', env: { ...process.env, LOADED_FILE: file } })
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
            await ended(child)
            clearTimeout(timer)
            return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(u => u.slice(u.indexOf('/dist/') + 6))
        }
        for (const command of ['pub', 'sub']) {
            const files = await loaded(command)
            t.true(files.includes(`bin/${command}.js`) && files.includes('mqtt/client/connect.js'), files.join(' '))
            t.deepEqual(files.filter(f => /^bin\/bench\/|^mqtt\/agent\/|^mqtt\/(mongoose|promise)\.js$|^index\.js$/.test(f)), [], command)
        }
        t.true((await loaded('bench')).includes('bin/bench/index.js'))
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
})

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
    /* -d: the trace (on stdout, as mosquitto_sub prints it) says when the subscription is in place */
    const sub = start(cli, ['sub', ...at(), '-t', 'cli/#', '-v', '-q', '1', '-C', '4', '-d', '-i', 'cli-sub'])
    t.true(await until(() => sub.out().includes('Subscribed (mid: 1): 1')), sub.out())
    t.is((await run(['pub', ...at(), '-t', 'cli/m', '-m', 'hello', '-q', '1'])).code, 0)
    t.is((await run(['pub', ...at(), '-t', 'cli/f', '-f', join(dir, 'payload.txt'), '-q', '2'])).code, 0)
    t.is((await run(['pub', ...at(), '-t', 'cli/n', '-n'])).code, 0)
    t.is((await run(['pub', ...at(), '-t', 'cli/s', '-s'], 'all of\nstdin')).code, 0)
    t.is(await sub.done, 0, `${sub.err()}\n${sub.out()}`)
    const printed = sub.out().split('\n').filter(l => l && !l.startsWith('Client ') && !l.startsWith('Subscribed'))
    t.deepEqual(printed.sort(), ['cli/f from a file', 'cli/m hello', 'cli/n (null)', 'cli/s all of', 'stdin'].sort())
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
    /* -d says when the subscription is in place (no fixed sleep: it would not hold on a loaded machine) */
    const sub = start(cli, ['sub', '-L', `mqtt://127.0.0.1:${broker.port}/url/topic`, '-N', '-C', '2', '-d'])
    t.true(await until(() => sub.out().includes('Subscribed (mid: 1)')), sub.out())
    const pub = await run(['pub', '-L', `mqtt://127.0.0.1:${broker.port}/url/topic`, '-m', 'a', '-d', '-q', '1', '-i', 'url-pub'])
    t.is(pub.code, 0)
    t.is(pub.out, [
        'Client url-pub sending CONNECT', 'Client url-pub received CONNACK (0)',
        "Client url-pub sending PUBLISH (d0, q1, r0, m1, 'url/topic', ... (1 bytes))", 'Client url-pub received PUBACK (Mid: 1, RC:0)',
        'Client url-pub sending DISCONNECT', ''].join('\n'))
    await run(['pub', '-L', `mqtt://127.0.0.1:${broker.port}/url/topic`, '-m', 'b'])
    t.is(await sub.done, 0)
    /* Without the trace lines, -N leaves the two payloads side by side */
    t.is(sub.out().replace(/(Client \S+|Subscribed) [^\n]*\n/g, ''), 'ab')
    /* A wildcard in the URL's topic is kept (not taken as a URL fragment) */
    const wild = start(cli, ['sub', '-L', `mqtt://127.0.0.1:${broker.port}/alerts/#`, '-v', '-C', '1', '-d'])
    t.true(await until(() => wild.out().includes('Subscribed (mid: 1)')), wild.out())
    await run(['pub', '-L', `mqtt://127.0.0.1:${broker.port}/alerts/fire`, '-m', 'hot'])
    t.is(await wild.done, 0)
    t.regex(wild.out(), /\nalerts\/fire hot\n/)
})

test('bad options and failed connections: a clear message, mosquitto\'s exit code, and never a hang', async t => {
    const cases: [string[], RegExp, number][] = [
        [['pub', '-Z'], /Error: Unknown option '-Z'\.\nUse 'fiber-mqtt pub --help' to see usage\./, 1],
        [['pub', '-t', 'a'], /Both topic and message must be supplied/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-n'], /Only one type of message can be sent at once/, 1],
        [['pub', '-t', 'a/+', '-m', 'x'], /Invalid publish topic 'a\/\+', does it contain '\+' or '#'\?/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-q', '3'], /Invalid QoS given: 3/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-p', 'port'], /Invalid port given: port/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-k', '0'], /keepalive given, it must be between 5 and 65535/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-c'], /You must provide a client id if you are using the -c option/, 1],
        [['pub', '-t'], /-t argument given but no topic specified/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-V', '4'], /Invalid protocol version argument given: 4/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-x', '60'], /--session-expiry-interval is an MQTT v5 option: use -V mqttv5/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-V', 'mqttv5', '-x', 'soon'], /Invalid session expiry interval given: soon/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-D', 'publish', 'user-property', 'a'], /--property argument given but not enough arguments specified/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-D', 'publish', 'payload-format-indicator', '2'], /^Error in PUBLISH properties: .*payloadFormatIndicator must be an integer from 0 to 1/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-D', 'connect', 'request-problem-information', '7'], /^Error in CONNECT properties: /, 1],
        [['sub', '-t', 'a', '-D', 'subscribe', 'subscription-identifier', '0'], /^Error in SUBSCRIBE properties: .* from 1 to 268435455/, 1],
        [['sub', '-t', 'a', '-D', 'subscribe', 'subscription-identifier', '1', '-D', 'subscribe', 'subscription-identifier', '2'], /^Error in SUBSCRIBE properties: Duplicate property/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-D', 'will', 'will-delay-interval', '5', '-D', 'will', 'will-delay-interval', '6'], /^Error in Will properties: Duplicate property/, 1],
        [['pub', '-t', 'a', '-m', 'x', '-D', 'publish', 'correlation-data', 'x'.repeat(65536)], /Property value too long for property correlation-data/, 1],
        [['pub', '-t', 'a', '-m', 'x', '--retain-as-published'], /Unknown option '--retain-as-published'/, 1],
        [['pub', '-t', 'a', '-m', 'x', '--will-payload', 'bye'], /no will topic given/, 1],
        [['sub'], /You must specify a topic to subscribe to/, 1],
        [['sub', '-t', 'a/#/b'], /Invalid subscription topic 'a\/#\/b', are all '\+' and '#' wildcards correct\?/, 1],
        [['sub', '-t', 'a', '-P', 'x'], /A password \(-P\) needs a user name/, 1],
        [['sub', '-t', 'a', '--cert', 'c.pem'], /Both certfile and keyfile must be provided/, 1],
        [['sub', '-t', 'a', '-m', 'x'], /Unknown option '-m'/, 1],
        [['sub', '-L', 'http://h/t'], /Unsupported URL scheme/, 1],
        [['sub', '-L', 'mqtt://u:hunter2@h:99999/t'], /Invalid URL for -L: Bad port "99999" in "mqtt:\/\/u:\*\*\*@h:99999\/t"/, 1],
        [['frobnicate'], /Unknown command 'frobnicate'/, 1],
        [['pub', '-h', '127.0.0.1', '-p', '1', '-t', 'a', '-m', 'x'], /Error: Connection refused/, 1],
        [['sub', '-h', '127.0.0.1', '-p', '1', '-t', 'a'], /Error: Connection refused/, 1],
        [['pub', '-h', 'no-such-host.invalid', '-t', 'a', '-m', 'x'], /Unable to connect \(Lookup error\.\)/, 1],
        [['pub', '-t', 'a', '-f', '/no/such/file', '-p', '1'], /Unable to open file "\/no\/such\/file"/, 1],
        [['pub', ...at(), '-t', 'a', '-s'], /Error: Zero length input\.\nError loading input from stdin\./, 1],
    ]
    for (const [args, pattern, code] of cases) {
        const r = await run(args, '')
        t.is(r.code, code, args.join(' '))
        t.regex(r.err, pattern, args.join(' '))
        t.false(r.err.includes('hunter2'))
    }
    const quiet = await run(['pub', '-h', '127.0.0.1', '-p', '1', '-t', 'a', '-m', 'x', '--quiet'])
    t.is(quiet.code, 1)
    t.is(quiet.err, '')
    const help = await run(['sub', '--help'])
    t.is(help.code, 1)
    t.regex(help.out, /Usage: fiber-mqtt sub/)
})

test('a broker that never answers CONNECT: pub gives up after the keep-alive (19), sub ends at -W', async t => {
    const silent = createServer(() => undefined)
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { silent.close() })
    const port = String((silent.address() as { port: number }).port)
    const began = Date.now()
    const pub = await run(['pub', '-h', '127.0.0.1', '-p', port, '-t', 'a', '-m', 'x', '-k', '5'])
    t.is(pub.code, 19, pub.err)
    t.regex(pub.err, /No CONNACK/)
    t.true(Date.now() - began < 15_000)
    const sub = await run(['sub', '-h', '127.0.0.1', '-p', port, '-t', 'a', '-k', '60', '-W', '2'])
    t.is(sub.code, 27, sub.err)
})

test('-d against a broker that sends a SUBSCRIBE: the trace names it, and sub ends on "Unexpected SUBSCRIBE"', async t => {
    const hostile = createServer(s => {
        s.once('data', () => {
            s.write(Uint8Array.of(0x20, 2, 0, 0))
            /* After the client's own SUBSCRIBE: one from the broker, which only a client sends */
            s.once('data', () => { s.write(Uint8Array.of(0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00)) })
        })
    })
    await new Promise<void>(resolve => hostile.listen(0, '127.0.0.1', resolve))
    t.teardown(() => { hostile.close() })
    const port = String((hostile.address() as { port: number }).port)
    const sub = await run(['sub', '-h', '127.0.0.1', '-p', port, '-t', 'a', '-d', '-i', 'hx', '-W', '5'])
    t.is(sub.code, 1, sub.err)
    t.true(sub.out.includes('Client hx received SUBSCRIBE (Mid: 1)\n'), sub.out)
    t.regex(sub.err, /Unexpected SUBSCRIBE from the broker/)
})

test('sub -E: what comes in the same read as the SUBACK (an UNSUBACK, a retained message) is neither traced nor printed, as mosquitto_sub reads nothing after it', async t => {
    const { port, listener } = await inFiber<{ port: number, listener: RSocket }>(function* () {
        return yield* scripted(function* (peer) {
            yield* peer.accept()
            yield* peer.expect(8)
            yield* peer.expect(10)
            /* One write: the broker's answers and a retained message arrive together */
            const answers = [encode({ type: 9, id: 1, granted: [0] }), encode({ type: 11, id: 2 }),
                encode({ type: 3, dup: false, qos: 0, retain: true, topic: 'e/x', id: 0, payload: new TextEncoder().encode('late') })]
            yield* peer.send(Uint8Array.from(answers.flatMap(a => [...a])))
            yield* peer.next(5000)
        })
    })
    t.teardown(() => { rCloseSocket(listener) })
    const sub = await run(['sub', '-h', '127.0.0.1', '-p', String(port), '-t', 'e/#', '-U', 'old/#', '-E', '-d', '-i', 'ex', '-W', '5'])
    t.is(sub.code, 0, sub.err)
    t.is(sub.out, ['sending CONNECT', 'received CONNACK (0)', 'sending SUBSCRIBE (Mid: 1, Topic: e/#, QoS: 0, Options: 0x00)',
        'sending UNSUBSCRIBE (Mid: 2, Topic: old/#)', 'received SUBACK'].map(l => `Client ex ${l}\n`).join('') +
        'Subscribed (mid: 1): 0\nClient ex sending DISCONNECT\n')
})

test('sub -d -V mqttv5: received packets traced as they came (a SUBACK\'s reason codes, the server\'s DISCONNECT, as mosquitto_sub logs it)', async t => {
    const { port, listener } = await inFiber<{ port: number, listener: RSocket }>(function* () {
        return yield* scripted(function* (peer, index) {
            yield* peer.expect(1)
            yield* connack(peer)
            if (index > 0) {
                yield* peer.next(5000)
                return
            }
            const sub = (yield* peer.expect(8)) as unknown as { id: number }
            yield* send(peer, { type: 9, id: sub.id, reasonCodes: [1], properties: {} })
            yield* send(peer, { type: 14, reasonCode: 0x98, properties: { reasonString: 'maintenance' } })
            yield* peer.next(1000)
        }, 5)
    })
    t.teardown(() => { rCloseSocket(listener) })
    const sub = await run(['sub', '-h', '127.0.0.1', '-p', String(port), '-V', '5', '-t', 'a', '-q', '1', '-d', '-i', 'd5', '-W', '2'])
    t.is(sub.code, 27, sub.err)
    t.true(sub.out.startsWith(['sending CONNECT', 'received CONNACK (0)', 'sending SUBSCRIBE (Mid: 1, Topic: a, QoS: 1, Options: 0x00)',
        'received SUBACK'].map(l => `Client d5 ${l}\n`).join('') + 'Subscribed (mid: 1): 1\nReceived DISCONNECT (152)\nClient d5 sending CONNECT\n'), sub.out)
})

test('pub -l: lines go out as they are read, up to -M unacknowledged (not a round trip each); a refused one still ends it with its error', async t => {
    /* The broker answers nothing until it has seen five PUBLISHes: a publisher that waits for each line's answer stalls */
    const seen: string[] = []
    const { port, listener } = await inFiber<{ port: number, listener: RSocket }>(function* () {
        return yield* scripted(function* (peer, index) {
            yield* peer.expect(1)
            yield* connack(peer)
            const ids: number[] = []
            while (ids.length < 5) {
                const p = (yield* peer.expect(3, 5000)) as unknown as { id: number, payload: Uint8Array } | null
                if (p === null) {
                    return
                }
                seen.push(`${index}:${new TextDecoder().decode(p.payload)}`)
                ids.push(p.id)
            }
            /* The second connection's third line is refused (Not authorized) */
            for (const [i, id] of ids.entries()) {
                yield* send(peer, { type: 4, id, reasonCode: index === 1 && i === 2 ? 0x87 : 0, properties: {} })
            }
            yield* peer.next(5000)
        }, 5)
    })
    t.teardown(() => { rCloseSocket(listener) })
    const lines = 'one\ntwo\nthree\nfour\nfive\n'
    const ok = await run(['pub', '-h', '127.0.0.1', '-p', String(port), '-V', '5', '-t', 'l', '-q', '1', '-l', '-M', '20'], lines)
    t.is(ok.code, 0, ok.err)
    t.deepEqual(seen, ['0:one', '0:two', '0:three', '0:four', '0:five'])
    const refused = await run(['pub', '-h', '127.0.0.1', '-p', String(port), '-V', '5', '-t', 'l', '-q', '1', '-l', '-M', '20'], lines)
    t.is(refused.code, 1, refused.err)
    t.regex(refused.err, /^Error: Publish returned -21: .*Not authorized \(PUBACK 0x87\)$/m)
})

if (mosquittoPath() === null) {
    test('mosquitto is installed', t => {
        t.fail('mosquitto is not installed: apt-get install -y mosquitto')
    })
} else {
    test('credentials and TLS against mosquitto: -u/-P, --cafile, --insecure (host name only), --alpn', async t => {
        const secured = await startMosquitto({ users: { alice: 'secret' }, tls: { ca: `${fixtures}ca.crt`, cert: `${fixtures}server.crt`, key: `${fixtures}server.key` } })
        const misnamed = await startMosquitto({ tls: { ca: `${fixtures}ca.crt`, cert: `${fixtures}wrong-host.crt`, key: `${fixtures}wrong-host.key` } })
        try {
            const base = ['-h', '127.0.0.1', '-p', String(secured.port), '-t', 'sec/t', '-m', 'x']
            t.is((await run(['pub', ...base, '-u', 'alice', '-P', 'secret'])).code, 0)
            const wrong = await run(['pub', ...base, '-u', 'alice', '-P', 'nope'])
            t.is(wrong.code, 5)
            t.regex(wrong.err, /Connection error: Connection Refused: not authorised\.\nError: The connection was refused\./)
            const wrongSub = await run(['sub', ...base.slice(0, 6), '-u', 'alice', '-P', 'nope'])
            t.is(wrongSub.code, 5)
            const tls = ['-h', 'localhost', '-p', String(secured.tlsPort), '-t', 'tls/t', '-m', 'x']
            t.is((await run(['pub', ...tls, '--cafile', `${fixtures}ca.crt`])).code, 0)
            t.is((await run(['pub', ...tls, '--capath', fixtures, '--tls-version', 'tlsv1.2'])).code, 0)
            t.is((await run(['pub', ...tls, '--cafile', `${fixtures}ca.crt`, '--tls-version', 'tlsv1.3', '--ciphers', 'DEFAULT'])).code, 0)
            t.is((await run(['pub', ...tls, '--cafile', `${fixtures}ca.crt`, '--tls-version', 'tlsv9'])).code, 1)
            const untrusted = await run(['pub', ...tls, '--cafile', `${fixtures}other-ca.crt`])
            t.is(untrusted.code, 8)
            t.regex(untrusted.err, /A TLS error occurred/)
            /* --insecure skips the host name check only: an untrusted chain is still refused */
            t.is((await run(['pub', ...tls, '--cafile', `${fixtures}other-ca.crt`, '--insecure'])).code, 8)
            const named = ['-h', '127.0.0.1', '-p', String(misnamed.tlsPort), '-t', 'tls/t', '-m', 'x', '--cafile', `${fixtures}ca.crt`]
            t.is((await run(['pub', ...named])).code, 8)
            t.is((await run(['pub', ...named, '--insecure'])).code, 0)
            /* TLS to a plain port, plain to a TLS port */
            t.is((await run(['pub', '-h', '127.0.0.1', '-p', String(secured.port), '-t', 'a', '-m', 'x', '--cafile', `${fixtures}ca.crt`])).code, 8)
            const plain = await run(['pub', '-h', '127.0.0.1', '-p', String(secured.tlsPort), '-t', 'a', '-m', 'x'])
            t.is(plain.code, 7)
            t.regex(plain.err, /The connection was lost/)
            const alpn = await run(['pub', ...tls, '--cafile', `${fixtures}ca.crt`, '--alpn', 'x-amzn-mqtt-ca'])
            t.is(alpn.code, 8)
        } finally {
            await secured.stop()
            await misnamed.stop()
        }
    })

    test('TLS-PSK (--psk, --psk-identity) and a bind address (-A)', async t => {
        const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-psk-'))
        t.teardown(() => rmSync(dir, { recursive: true, force: true }))
        writeFileSync(join(dir, 'psk'), 'dev1:0102030405060708090a0b0c0d0e0f10\n')
        const b = await startMosquitto({ extraPorts: 1, extra: ([port]) => [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'psk_hint fiber', `psk_file ${join(dir, 'psk')}`] })
        const pskPort = b.extraPorts[0]
        try {
            const psk = ['-h', '127.0.0.1', '-p', String(pskPort), '-t', 'psk/t', '-m', 'x']
            const sub = start(cli, ['sub', ...psk.slice(0, 6), '--psk', '0102030405060708090a0b0c0d0e0f10', '--psk-identity', 'dev1', '-C', '1', '-d'])
            t.true(await until(() => sub.out().includes('Subscribed (mid: 1)')), sub.out() + sub.err())
            t.is((await run(['pub', ...psk, '--psk', '0102030405060708090a0b0c0d0e0f10', '--psk-identity', 'dev1', '-A', '127.0.0.1'])).code, 0)
            t.is(await sub.done, 0)
            t.regex(sub.out(), /\nx\n/)
            const wrong = await run(['pub', ...psk, '--psk', '0102030405060708090a0b0c0d0e0f11', '--psk-identity', 'dev1'])
            t.is(wrong.code, 8)
            t.is((await run(['pub', ...psk, '--psk', 'xyz', '--psk-identity', 'dev1'])).code, 1)
            t.is((await run(['pub', ...psk, '--psk', '0102'])).code, 1)
            t.regex((await run(['pub', '-h', '127.0.0.1', '-p', String(b.port), '-t', 'a', '-m', 'x', '-A', 'not-an-ip'])).err, /Invalid bind address/)
        } finally {
            await b.stop()
        }
    })

    test('sub stays through a broker restart, and a resumed -c session keeps what the broker queued meanwhile', async t => {
        const persistent = await startMosquitto({ persistence: true })
        try {
            const at2 = ['-h', '127.0.0.1', '-p', String(persistent.port)]
            const sub = start(cli, ['sub', ...at2, '-t', 'restart/#', '-q', '1', '-c', '-i', 'cli-keeper', '-C', '3', '-d'], 40_000)
            t.true(await until(() => sub.out().includes('Subscribed (mid: 1): 1')), sub.out())
            t.is((await run(['pub', ...at2, '-t', 'restart/a', '-m', 'before', '-q', '1'])).code, 0)
            t.true(await until(() => sub.out().includes('before')))
            await persistent.kill()
            await persistent.restart()
            /* Published while the subscriber is away: the broker queues it for the -c session */
            t.is((await run(['pub', ...at2, '-t', 'restart/b', '-m', 'queued', '-q', '1'])).code, 0)
            t.true(await until(() => sub.out().includes('queued'), 15_000), sub.out())
            t.is((await run(['pub', ...at2, '-t', 'restart/c', '-m', 'after', '-q', '1'])).code, 0)
            t.is(await sub.done, 0, sub.err())
            const printed = sub.out().split('\n').filter(l => l && !l.startsWith('Client ') && !l.startsWith('Subscribed'))
            t.deepEqual(printed, ['before', 'queued', 'after'])
            t.true(sub.out().split('sending CONNECT').length >= 3, 'connected again')
        } finally {
            await persistent.stop()
        }
    })
}

if (mosquittoPath() !== null) {
    test('-V mqttv5 and -x: pub and sub speak MQTT 5 to mosquitto (its log says p5), a persistent session is kept for -x seconds', async t => {
        const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-v5-cli-'))
        const log = join(dir, 'mosquitto.log')
        const b = await startMosquitto({ extra: [`log_dest file ${log}`, 'log_type all'] })
        try {
            const base = ['-h', '127.0.0.1', '-p', String(b.port)]
            const retained = await run(['pub', ...base, '-V', 'mqttv5', '-t', 'v5cli/a', '-m', 'five', '-q', '1', '-r', '-i', 'v5pub'])
            t.is(retained.code, 0, retained.err)
            const got = await run(['sub', ...base, '-V', '5', '-t', 'v5cli/#', '-q', '1', '-C', '1', '-v', '-i', 'v5sub', '-c', '-x', '300', '-W', '10'])
            t.is(got.code, 0, got.err)
            t.is(got.out, 'v5cli/a five\n')
            /* The session outlives the connection: a message queued meanwhile arrives at the next connect */
            t.is((await run(['pub', ...base, '-V', 'mqttv5', '-t', 'v5cli/b', '-m', 'while away', '-q', '1'])).code, 0)
            const again = await run(['sub', ...base, '-V', '5', '-t', 'v5cli/b', '-q', '1', '-C', '1', '-v', '-i', 'v5sub', '-c', '-x', '300', '-W', '10'])
            t.is(again.out, 'v5cli/b while away\n', again.err)
            await run(['pub', ...base, '-t', 'v5cli/a', '-n', '-r'])
            const text = readFileSync(log, 'utf8')
            t.regex(text, /as v5pub \(p5, c1, k60\)/)
            t.regex(text, /as v5sub \(p5, c0, k60\)/)
        } finally {
            await b.stop()
            rmSync(dir, { recursive: true, force: true })
        }
    })
}
