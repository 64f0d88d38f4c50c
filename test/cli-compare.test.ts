/*
    fiber-mqtt pub|sub beside mosquitto_pub|mosquitto_sub 2.0, against the same mosquitto: the same arguments
    must give the same exit code, the same stdout and the same messages at a third subscriber. Each case also
    states what is expected, so it is checked where the mosquitto tools are missing (then only the
    comparison is skipped).
 */
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rSleep } from '../runtime/index.js'
import { mqttPublish, mqttPublishEx, mqttPublishRetained, mqttSetProtocol, mqttSubscribe, MQTT_WAIT_ACK, type MqttRecv, type Properties } from '../mqtt/index.js'
import { mosquittoPath, startAedes, startMosquitto, type Broker } from '../brokers/broker.js'
import { inFiber } from './helpers/fiber.js'
import { connectClient, type Connected } from './helpers/client.js'
import { quietLogs } from './helpers/quiet.js'
import { ended } from './helpers/child.js'

quietLogs(test)

const cli = fileURLToPath(new URL('../bin/fiber-mqtt.js', import.meta.url))
const tools = spawnSync('sh', ['-c', 'command -v mosquitto_pub && command -v mosquitto_sub && command -v stdbuf'], { encoding: 'utf8' }).status === 0

type Tool = 'ours' | 'theirs'

interface Result {
    code: number | null
    out: string
    err: string
}

interface Running {
    out: () => string
    done: Promise<Result>
}

function launch(tool: Tool, command: 'pub' | 'sub', args: string[], stdin = '', ms = 20_000): Running {
    const child = tool === 'ours' ?
        spawn(process.execPath, [cli, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }) :
        /* Line-buffered: mosquitto's tools buffer stdout in blocks when it is a pipe */
        spawn('stdbuf', ['-oL', `mosquitto_${command}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    /* A child that exits at once (a usage error) may not read its stdin */
    child.stdin.on('error', () => undefined)
    child.stdin.end(stdin)
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    return {
        out: () => out,
        done: ended(child).then(code => { clearTimeout(timer); return { code, out, err } }),
    }
}

/** Client ids, time stamps and the seconds left of a message's expiry differ between runs: masked before comparing */
function normal(s: string): string {
    return s.replace(/Client \S+ /g, 'Client X ').replace(/"tst":(\t?)"[^"]+"/g, '"tst":$1"T"').replace(/"message-expiry-interval":(\t?)\d+/g, '"message-expiry-interval":$1E')
}

/** A message's MQTT 5 properties as the third subscriber records them */
function propsText(p: Properties | null): string {
    if (p === null || Object.keys(p).length === 0) return ''
    const { correlationData, messageExpiryInterval, ...rest } = p
    const o: Record<string, unknown> = { ...rest, ...correlationData ? { correlationData: Buffer.from(correlationData).toString() } : {}, ...messageExpiryInterval ? { expiry: true } : {} }
    /* In name order: the broker may reorder them */
    return `|${JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : 1)))}`
}

let broker: Broker
let watcher: Connected
/** Everything the third subscriber saw: topic, payload, QoS, retain */
const seen: string[] = []

const at = () => ['-h', '127.0.0.1', '-p', String(broker.port)]

if (mosquittoPath() === null) {
    test('mosquitto is installed', t => {
        t.fail('mosquitto is not installed: apt-get install -y mosquitto')
    })
} else {
    test.before(async () => {
        broker = await startMosquitto()
        watcher = await inFiber<Connected>(function* () {
            /* MQTT 5: it sees the properties of what the tools publish, and publishes with properties for sub's cases */
            const c = yield* connectClient(broker.port, { prepare: mq => mqttSetProtocol(mq, 5) })
            yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { seen.push(`${rp.topic}|${rp.text}|q${rp.qos}|r${rp.retain ? 1 : 0}${propsText(rp.properties)}`) }, 2, MQTT_WAIT_ACK, 'cmp/#')
            return c
        })
    })
    test.after.always(async () => {
        watcher?.sock.handle?.destroy()
        await broker?.stop()
    })

    /** What the third subscriber saw on a run's topic, with the run's own part of the topic masked */
    const seenOn = (prefix: string) => seen.filter(s => s.startsWith(`${prefix}/`) || s.startsWith(`${prefix}|`)).map(s => s.replace(prefix, 'T'))

    /** Wait until the third subscriber has seen what a run should have sent (bounded), then a little for extras */
    async function settle(prefix: string, want: number): Promise<void> {
        for (let i = 0; i < 500 && seenOn(prefix).length < want; i++) {
            await new Promise(r => setTimeout(r, 20))
        }
        await new Promise(r => setTimeout(r, 300))
    }

    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-cmp-'))
    const file = join(dir, 'payload.bin')
    writeFileSync(file, Buffer.from([0x68, 0x69, 0x00, 0xff, 0x0a]))
    test.after.always(() => rmSync(dir, { recursive: true, force: true }))

    interface PubCase {
        name: string
        args: string[]
        stdin?: string
        code: number
        /** What the third subscriber sees (topic masked as T) */
        sees?: string[]
        out?: string
        /** Only the exit code is compared (the texts are worded differently) */
        codeOnly?: boolean
        /** The first line of stderr, the same from both */
        err?: string
    }

    const D = (...words: string[]) => ['-D', ...words]

    const pubCases: PubCase[] = [
        { name: 'm', args: ['-m', 'hello'], code: 0, sees: ['T|hello|q0|r0'] },
        { name: 'q1', args: ['-m', 'one', '-q', '1'], code: 0, sees: ['T|one|q1|r0'] },
        { name: 'q2r', args: ['-m', 'two', '-q', '2', '-r'], code: 0, sees: ['T|two|q2|r0'] },
        { name: 'n', args: ['-n'], code: 0, sees: ['T||q0|r0'] },
        { name: 'f', args: ['-f', file, '-q', '1'], code: 0, sees: [`T|${Buffer.from([0x68, 0x69, 0x00, 0xff, 0x0a]).toString()}|q1|r0`] },
        { name: 'l', args: ['-l', '-q', '1'], stdin: 'one\r\n\ntwo\nthree', code: 0, sees: ['T|one\r|q1|r0', 'T||q1|r0', 'T|two|q1|r0', 'T|three|q1|r0'] },
        { name: 's', args: ['-s'], stdin: 'all\nof it', code: 0, sees: ['T|all\nof it|q0|r0'] },
        { name: 'repeat', args: ['-m', 'r', '--repeat', '3', '-q', '1'], code: 0, sees: ['T|r|q1|r0', 'T|r|q1|r0', 'T|r|q1|r0'] },
        {
            name: 'd', args: ['-m', 'traced', '-q', '2', '-d', '-i', 'cmp-pub'], code: 0, sees: ['T|traced|q2|r0'],
            out: ['sending CONNECT', 'received CONNACK (0)', "sending PUBLISH (d0, q2, r0, m1, 'T', ... (6 bytes))", 'received PUBREC (Mid: 1)',
                'sending PUBREL (m1)', 'received PUBCOMP (Mid: 1, RC:0)', 'sending DISCONNECT'].map(l => `Client X ${l}\n`).join(''),
        },
        {
            name: 'd0', args: ['-m', 'q0', '--repeat', '2', '-d', '-i', 'cmp-pub0'], code: 0, sees: ['T|q0|q0|r0', 'T|q0|q0|r0'],
            out: ['sending CONNECT', 'received CONNACK (0)', "sending PUBLISH (d0, q0, r0, m1, 'T', ... (2 bytes))",
                "sending PUBLISH (d0, q0, r0, m2, 'T', ... (2 bytes))", 'sending DISCONNECT'].map(l => `Client X ${l}\n`).join(''),
        },
        { name: 'A', args: ['-m', 'bound', '-A', '127.0.0.1'], code: 0, sees: ['T|bound|q0|r0'] },
        { name: 'will', args: ['-m', 'w', '--will-topic', 'cmp/will', '--will-payload', 'gone', '--will-qos', '1'], code: 0, sees: ['T|w|q0|r0'] },
        { name: 'empty-s', args: ['-s'], stdin: '', code: 1, sees: [] },
        { name: 'k4', args: ['-m', 'x', '-k', '4'], code: 1, sees: [] },
        { name: 'c', args: ['-m', 'x', '-c'], code: 1, sees: [] },
        { name: 'plus', args: ['-m', 'x', '-t', 'cmp/a/+'], code: 1, sees: [] },
        { name: 'zz', args: ['-m', 'x', '-Z'], code: 1, codeOnly: true },
        {
            name: 'D5', code: 0, args: ['-m', '{"a":1}', '-q', '1', ...D('publish', 'content-type', 'application/json'), ...D('publish', 'user-property', 'k', 'v'),
                ...D('publish', 'user-property', 'k', 'w'), ...D('publish', 'response-topic', 'cmp/reply'), ...D('publish', 'correlation-data', 'abc'),
                ...D('publish', 'payload-format-indicator', '1'), ...D('publish', 'message-expiry-interval', '3600'), ...D('connect', 'user-property', 'who', 'me'),
                ...D('will', 'content-type', 'text/plain'), '--will-topic', 'cmp/w5', ...D('disconnect', 'reason-string', 'done')],
            sees: ['T|{"a":1}|q1|r0|{"contentType":"application/json","correlationData":"abc","expiry":true,"payloadFormatIndicator":1,"responseTopic":"cmp/reply","userProperties":[["k","v"],["k","w"]]}'],
        },
        { name: 'alias', args: ['-m', 'x', '--repeat', '3', ...D('publish', 'topic-alias', '1')], code: 0, sees: ['T|x|q0|r0', 'T|x|q0|r0', 'T|x|q0|r0'] },
        { name: 'V5d', args: ['-m', 'v5', '-q', '1', '-V', 'mqttv5', '-d', '-i', 'cmp-v5'], code: 0, sees: ['T|v5|q1|r0'] },
        {
            /* MQTT 5: the broker's reason code in the trace (16: no subscriber has the topic) */
            name: 'V5rc', args: ['-m', 'x', '-q', '1', '-V', '5', '-d', '-i', 'cmp-v5rc', '-t', 'nobody/cmp-v5rc'], code: 0,
            out: ['sending CONNECT', 'received CONNACK (0)', "sending PUBLISH (d0, q1, r0, m1, 'nobody/cmp-v5rc', ... (1 bytes))",
                'received PUBACK (Mid: 1, RC:16)', 'sending DISCONNECT'].map(l => `Client X ${l}\n`).join(''),
        },
        { name: 'Ddup', args: ['-m', 'x', ...D('publish', 'content-type', 'a'), ...D('publish', 'content-type', 'b')], code: 1, err: 'Error in PUBLISH properties: Duplicate property in property list' },
        { name: 'Dname', args: ['-m', 'x', ...D('publish', 'bogus', '1')], code: 1, err: 'Error: Invalid property name given in --property argument.' },
        { name: 'Dcmd', args: ['-m', 'x', ...D('bogus', 'content-type', '1')], code: 1, err: 'Error: Invalid command given in --property argument.' },
        { name: 'Dplace', args: ['-m', 'x', ...D('publish', 'session-expiry-interval', '1')], code: 1, err: 'Error: session-expiry-interval property not allowed for publish in --property argument.' },
        { name: 'Dsubid', args: ['-m', 'x', ...D('publish', 'subscription-identifier', '3')], code: 1, err: 'Error: subscription-identifier property not supported for publish in --property argument.' },
        { name: 'Dauth', args: ['-m', 'x', ...D('auth', 'authentication-method', 'x')], code: 1, err: 'Error: authentication-method property not supported for auth in --property argument.' },
        { name: 'Drange', args: ['-m', 'x', ...D('connect', 'topic-alias-maximum', '70000')], code: 1, err: 'Error: Property value (70000) out of range for property topic-alias-maximum.' },
        { name: 'Dneg', args: ['-m', 'x', ...D('publish', 'message-expiry-interval', '-1')], code: 1, err: 'Error: Property value (-1) out of range for property message-expiry-interval.' },
        { name: 'Dshort', args: ['-m', 'x', ...D('publish', 'user-property', 'k')], code: 1, err: 'Error: --property argument given but not enough arguments specified.' },
        { name: 'Dzero', args: ['-m', 'x', ...D('connect', 'receive-maximum', '0')], code: 1, codeOnly: true },
        { name: 'e', args: ['-m', 'x', '-e', 'cmp/r'], code: 1, err: "Error: Unknown option '-e'." },
        { name: 'help', args: ['--help'], code: 1, codeOnly: true },
    ]

    test('pub beside mosquitto_pub: exit codes, stdout (the -d trace) and what a third subscriber sees', async t => {
        for (const c of pubCases) {
            const results: Partial<Record<Tool, { r: Result, sees: string[] }>> = {}
            for (const tool of (tools ? ['ours', 'theirs'] : ['ours']) as Tool[]) {
                const topic = `cmp/pub/${c.name}/${tool}`
                const args = [...at(), ...(c.args.includes('-t') ? [] : ['-t', topic]), ...c.args]
                const r = await launch(tool, 'pub', args, c.stdin).done
                await settle(`cmp/pub/${c.name}/${tool}`, c.sees?.length ?? 0)
                results[tool] = { r, sees: seenOn(`cmp/pub/${c.name}/${tool}`) }
            }
            const ours = results.ours!
            t.is(ours.r.code, c.code, `${c.name}: ${ours.r.err}`)
            if (c.sees) t.deepEqual(ours.sees, c.sees, c.name)
            if (c.err !== undefined) t.is(ours.r.err.split('\n')[0], c.err, c.name)
            if (c.out !== undefined) t.is(normal(ours.r.out).replaceAll(`cmp/pub/${c.name}/ours`, 'T'), c.out, c.name)
            const theirs = results.theirs
            if (theirs !== undefined) {
                t.is(ours.r.code, theirs.r.code, `${c.name}: exit codes (ours ${ours.r.err} / theirs ${theirs.r.err})`)
                if (c.err !== undefined) t.is(ours.r.err.split('\n')[0], theirs.r.err.split('\n')[0], `${c.name}: stderr`)
                if (!c.codeOnly) {
                    t.is(normal(ours.r.out).replaceAll('/ours', '/x'), normal(theirs.r.out).replaceAll('/theirs', '/x'), `${c.name}: stdout`)
                    t.deepEqual(ours.sees, theirs.sees, `${c.name}: what the third subscriber saw`)
                }
            }
        }
        /* Clean up the retained message of 'q2r' */
        await launch('ours', 'pub', [...at(), '-t', 'cmp/pub/q2r/ours', '-n', '-r']).done
        if (tools) await launch('theirs', 'pub', [...at(), '-t', 'cmp/pub/q2r/theirs', '-n', '-r']).done
    })

    interface SubCase {
        name: string
        args: string[]
        /** Retained messages published before the subscribers start: [subtopic, payload] */
        retained?: [string, string][]
        /** Messages published once both are subscribed: [subtopic, payload, qos, MQTT 5 properties] */
        live?: [string, string, number, Properties?][]
        code: number
        /** Expected stdout (after masking), or a check of it */
        out: string | RegExp
        err?: RegExp
    }

    const subCases: SubCase[] = [
        {
            name: 'v', args: ['-v', '-C', '4', '-q', '1'], live: [['a', 'hello', 0], ['b', '', 1], ['c', 'two words', 2], ['d/e', 'x', 1]], code: 0,
            out: 'T/a hello\nT/b (null)\nT/c two words\nT/d/e x\n',
        },
        { name: 'plain', args: ['-C', '3'], live: [['a', 'p1', 0], ['b', '', 0], ['c', 'p3', 0]], code: 0, out: 'p1\np3\n' },
        { name: 'N', args: ['-N', '-C', '3'], live: [['a', 'x', 0], ['a', 'y', 0], ['a', 'z', 0]], code: 0, out: 'xyz' },
        {
            name: 'F', args: ['-F', '%t|%p|%l|%q|%r|%x|%X|%%|@@|%10l|%-4q|%-6p|%05l|%4m|\\t|%A%C%D|end', '-C', '2', '-q', '1'],
            retained: [['r', 'kept']], live: [['a', 'AbC', 1]], code: 0,
            out: 'T/r|kept|4|1|1|6b657074|6B657074|%|@|         4|1|kept  |00004|   1|\t||end\nT/a|AbC|3|1|0|416243|416243|%|@|         3|1|AbC   |00003|   2|\t||end\n',
        },
        {
            name: 'Fj', args: ['-F', '%j', '-C', '1', '-q', '1'], live: [['a', '{"n": 1}', 1]], code: 0,
            out: '{"tst":"T","topic":"T/a","qos":1,"retain":0,"payloadlen":8,"mid":1,"payload":"{\\"n\\": 1}"}\n',
        },
        {
            name: 'FJ', args: ['-F', '%J', '-C', '1'], live: [['a', '{"n": [1, 2]}', 0]], code: 0,
            out: '{"tst":"T","topic":"T/a","qos":0,"retain":0,"payloadlen":13,"payload":{"n":[1,2]}}\n',
        },
        { name: 'R', args: ['-R', '-C', '1', '-v'], retained: [['r', 'stale']], live: [['a', 'fresh', 0]], code: 0, out: 'T/a fresh\n' },
        {
            name: 'ronly', args: ['--retained-only', '-v'], retained: [['r1', 'one'], ['r2', 'two']], live: [['a', 'live', 0]], code: 0,
            out: /^T\/r[12] (one|two)\nT\/r[12] (one|two)\n$/,
        },
        { name: 'T', args: ['-v', '-C', '2', '-T', 'cmp/sub/T/ours/skip', '-T', 'cmp/sub/T/theirs/skip'], live: [['skip', 'no', 0], ['a', 'yes', 0], ['b', 'yes2', 0]], code: 0, out: 'T/a yes\nT/b yes2\n' },
        { name: 'W', args: ['-W', '1'], code: 27, out: '', err: /Timed out/ },
        {
            name: 'F5', args: ['-V', 'mqttv5', '-F', '%t|%A|%C|%D|%F|%P|%R|%S|%-5F|%05S|%3C|%E|end', '-C', '2', '-q', '1', '-D', 'subscribe', 'subscription-identifier', '7'],
            live: [['a', 'x', 1, { contentType: 'app/json', userProperties: [['k', 'v'], ['k', 'w']], correlationData: Buffer.from('abc'), responseTopic: 'r/t', payloadFormatIndicator: 1 }],
                ['b', 'plain', 0]],
            code: 0, out: 'T/a||app/json|abc|1|k:v k:w|r/t|7|1    |00007|app/json||end\nT/b|||||||7|     |00007|   ||end\n',
        },
        {
            name: 'Fj5', args: ['-V', '5', '-F', '%j', '-C', '1'], live: [['a', '{"n":1}', 0, { messageExpiryInterval: 3600, userProperties: [['a', '1'], ['a', '2']] }]], code: 0,
            out: '{"tst":"T","topic":"T/a","qos":0,"retain":0,"payloadlen":7,"properties":{"user-properties":{"a":"1","a":"2"},"message-expiry-interval":E},"payload":"{\\"n\\":1}"}\n',
        },
        {
            name: 'FJp5', args: ['-V', '5', '-F', '%J', '--pretty', '-C', '1', '-q', '1'], live: [['a', '{"n":[1,2],"o":{}}', 1, { contentType: 'c' }]], code: 0,
            out: '{\n\t"tst":\t"T",\n\t"topic":\t"T/a",\n\t"qos":\t1,\n\t"retain":\t0,\n\t"payloadlen":\t18,\n\t"mid":\t1,\n\t"properties":\t{\n\t\t"content-type":\t"c"\n\t},' +
                '\n\t"payload":\t{\n\t\t"n":\t[1, 2],\n\t\t"o":\t{\n\t\t}\n\t}\n}\n',
        },
        { name: 'R5', args: ['-V', '5', '-R', '-C', '1', '-v'], retained: [['r', 'stale']], live: [['a', 'fresh', 0]], code: 0, out: 'T/a fresh\n' },
    ]

    test('sub beside mosquitto_sub: the same messages print the same, with the same exit code', async t => {
        for (const c of subCases) {
            const runs: Partial<Record<Tool, Running>> = {}
            const list = (tools ? ['ours', 'theirs'] : ['ours']) as Tool[]
            await inFiber(function* () {
                for (const tool of list) {
                    for (const [sub, payload] of c.retained ?? []) {
                        yield* mqttPublishRetained(watcher.mq, payload, 0, 1, MQTT_WAIT_ACK, `cmp/sub/${c.name}/${tool}/${sub}`)
                    }
                }
            })
            for (const tool of list) {
                /* -d tells when the subscription is in place; the trace lines are dropped before comparing */
                runs[tool] = launch(tool, 'sub', [...at(), '-t', `cmp/sub/${c.name}/${tool}/#`, '-d', ...c.args])
            }
            const ready = await inFiber<boolean>(function* () {
                for (let i = 0; i < 500; i++) {
                    if (list.every(tool => runs[tool]!.out().includes('Subscribed (mid: 1)'))) {
                        return true
                    }
                    yield* rSleep(10)
                }
                return false
            })
            t.true(ready, c.name)
            await inFiber(function* () {
                for (const [sub, payload, qos, properties] of c.live ?? []) {
                    for (const tool of list) {
                        yield* properties !== undefined ?
                            mqttPublishEx(watcher.mq, payload, 0, qos, MQTT_WAIT_ACK, { properties }, `cmp/sub/${c.name}/${tool}/${sub}`) :
                            mqttPublish(watcher.mq, payload, 0, qos, MQTT_WAIT_ACK, `cmp/sub/${c.name}/${tool}/${sub}`)
                    }
                }
            })
            const printed: Partial<Record<Tool, Result>> = {}
            for (const tool of list) {
                const r = await runs[tool]!.done
                printed[tool] = { ...r, out: normal(r.out).replace(/Client X [^\n]*\n|Subscribed \(mid[^\n]*\n/g, '').replaceAll(`cmp/sub/${c.name}/${tool}`, 'T') }
            }
            const ours = printed.ours!
            t.is(ours.code, c.code, `${c.name}: ${ours.err}`)
            if (typeof c.out === 'string') t.is(ours.out, c.out, c.name)
            else t.regex(ours.out, c.out, c.name)
            if (c.err) t.regex(ours.err, c.err, c.name)
            const theirs = printed.theirs
            if (theirs !== undefined) {
                t.is(ours.code, theirs.code, `${c.name}: exit codes`)
                if (typeof c.out === 'string') t.is(ours.out, theirs.out, `${c.name}: stdout`)
                else t.regex(theirs.out, c.out, `${c.name}: their stdout`)
            }
            /* Clear this case's retained messages */
            await inFiber(function* () {
                for (const tool of list) {
                    for (const [sub] of c.retained ?? []) {
                        yield* mqttPublishRetained(watcher.mq, '', 0, 1, MQTT_WAIT_ACK, `cmp/sub/${c.name}/${tool}/${sub}`)
                    }
                }
            })
        }
    })

    test('MQTT 5 refusals (a wrong password; a broker that speaks 3.1.1 only): the same words, trace and exit codes', async t => {
        const guarded = await startMosquitto({ users: { u: 'p' } })
        const old = await startAedes()
        try {
            const wrong = ['-h', '127.0.0.1', '-p', String(guarded.port), '-u', 'u', '-P', 'bad', '-V', '5', '-t', 'a']
            const v311 = ['-h', '127.0.0.1', '-p', String(old.port), '-V', '5', '-t', 'a']
            const unsupported = 'Connection error: Unsupported Protocol Version. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n'
            const protocol = 'Error: A network protocol error occurred when communicating with the broker.\n'
            const cases: [('pub' | 'sub'), string[], number, string, string][] = [
                ['pub', [...wrong, '-m', 'x', '-d', '-i', 'cmp-r'], 135, 'Connection error: Not authorized\n' + protocol,
                    'Client X sending CONNECT\nClient X received CONNACK (135)\n'],
                ['sub', wrong, 135, 'Connection error: Not authorized\n', ''],
                ['pub', [...v311, '-m', 'x', '-d', '-i', 'cmp-r'], 132, unsupported + protocol, 'Client X sending CONNECT\nClient X received CONNACK (132)\n'],
                ['sub', v311, 132, unsupported, ''],
            ]
            for (const [command, args, code, err, out] of cases) {
                const runs = (tools ? ['ours', 'theirs'] : ['ours']) as Tool[]
                for (const tool of runs) {
                    const r = await launch(tool, command, args).done
                    const name = `${tool} ${command} ${args.join(' ')}`
                    t.is(r.code, code, name)
                    t.is(r.err, err, name)
                    t.is(normal(r.out), out, name)
                }
            }
        } finally {
            await guarded.stop()
            await old.stop()
        }
    })

    test('-E exits once subscribed, -U unsubscribes, bad filters and --help: the same exit codes', async t => {
        const cases: [string[], number][] = [
            [['-t', 'cmp/e/#', '-E'], 0],
            [['-t', 'cmp/e/#', '-U', 'cmp/old/#', '-E'], 0],
            [['-t', 'a/#/b'], 1],
            [['-t', 'a', '-k', '3'], 1],
            [['-t', 'a', '-c'], 1],
            [['--help'], 1],
            [['-t', 'a', '-Z'], 1],
        ]
        for (const [args, code] of cases) {
            const ours = await launch('ours', 'sub', [...at(), ...args]).done
            t.is(ours.code, code, `${args.join(' ')}: ${ours.err}`)
            if (tools) {
                const theirs = await launch('theirs', 'sub', [...at(), ...args]).done
                t.is(ours.code, theirs.code, args.join(' '))
                if (!args.includes('--help')) t.is(ours.out === '', theirs.out === '', args.join(' '))
            }
        }
        /* The -d trace of -E with -U: both requests go out together, the SUBACK ends it */
        const args = [...at(), '-t', 'cmp/e/#', '-U', 'cmp/old/#', '-E', '-d', '-i', 'cmp-e']
        const e = await launch('ours', 'sub', args).done
        const expected = ['sending CONNECT', 'received CONNACK (0)', 'sending SUBSCRIBE (Mid: 1, Topic: cmp/e/#, QoS: 0, Options: 0x00)',
            'sending UNSUBSCRIBE (Mid: 2, Topic: cmp/old/#)', 'received SUBACK'].map(l => `Client X ${l}\n`).join('') +
            'Subscribed (mid: 1): 0\nClient X sending DISCONNECT\n'
        t.is(normal(e.out), expected)
        if (tools) {
            t.is(normal((await launch('theirs', 'sub', args).done).out), expected)
        }
    })

}
