import test from 'ava'
import { readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startAedes } from '../brokers/broker.js'
import { mqttPublish, mqttSubscribe, MQTT_WAIT_ACK, type MqttRecv } from '../mqtt/index.js'
import { rAwait } from '../runtime/index.js'
import { inFiber } from './helpers/fiber.js'
import { connectClient } from './helpers/client.js'
import { until } from './mqtt/suite.js'
import { quietLogs } from './helpers/quiet.js'
import { ended } from './helpers/child.js'

quietLogs(test)

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}.js`, import.meta.url))

interface Run {
    code: number | null
    out: string
}

function run(name: string, args: string[] = [], env: Record<string, string> = {}, timeout = 30_000): { done: Promise<Run>, output: () => string } {
    const child = spawn(process.execPath, [example(name), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    const done = ended(child).then((code): Run => {
        clearTimeout(timer)
        return { code, out }
    })
    return { done, output: () => out }
}

test('examples/ioto-mqtt: the seed pages and Ioto sample run on the embedded broker', async t => {
    /* The sample logs with rtrace, as the C: trace lines shown */
    const r = await run('ioto-mqtt', [], { LOG_FILTER: 'stderr:error,info,trace:all' }).done
    t.is(r.code, 0, r.out)
    t.regex(r.out, /shadow: Received from topic myDevice\/change: blue/)
    t.regex(r.out, /done: 1 message\(s\) received/)
})

test('examples/device: the demo publishes telemetry and obeys a command', async t => {
    const r = await run('device').done
    t.is(r.code, 0, r.out)
    t.regex(r.out, /monitor: devices\/demo-device\/telemetry \{"temperature":\[/)
    t.regex(r.out, /sampling period now 100 ms/)
    t.regex(r.out, /demo: device published \d+ messages, \d+ acknowledged/)
})

test('examples/tick-tock: tick in, tock out, halt stops it', async t => {
    const broker = await startAedes()
    try {
        const child = run('tick-tock', ['127.0.0.1', String(broker.port)])
        await inFiber(function* () {
            t.true(yield* until(() => child.output().includes('ready: pid'), 30_000), child.output())
            const pid = /ready: pid (\d+)/.exec(child.output())![1]
            const tocks: string[] = []
            const c = yield* connectClient(broker.port)
            yield* mqttSubscribe(c.mq, (rp: MqttRecv) => { tocks.push(`${rp.topic} ${rp.text}`) }, 0, MQTT_WAIT_ACK, 'tock/#')
            for (let i = 0; i < 3; i++) {
                yield* mqttPublish(c.mq, 'tick', 0, 0, MQTT_WAIT_ACK, 'tick')
            }
            t.true(yield* until(() => tocks.length === 3))
            t.true(tocks.every(line => new RegExp(`^tock/${pid} ${pid} \\d+$`).test(line)), tocks.join('; '))
            /* As the libmosquitto client (loop_forever, on_connect): the broker restarts, it connects and subscribes again */
            c.sock.handle?.destroy()
            yield* rAwait(broker.kill().then(() => broker.restart()))
            const c2 = yield* connectClient(broker.port)
            yield* mqttSubscribe(c2.mq, (rp: MqttRecv) => { tocks.push(`${rp.topic} ${rp.text}`) }, 0, MQTT_WAIT_ACK, 'tock/#')
            let sent = 0
            while (tocks.length < 4 && sent++ < 100) {
                yield* mqttPublish(c2.mq, 'tick', 0, 0, MQTT_WAIT_ACK, 'tick')
                yield* until(() => tocks.length >= 4, 100)
            }
            t.true(tocks.length >= 4, 'a tock after the restart')
            yield* mqttPublish(c2.mq, 'halt', 0, 0, MQTT_WAIT_ACK, 'control/all')
        })
        const r = await child.done
        t.is(r.code, 0, r.out)
        t.regex(r.out, /halt received on control\/all/)
    } finally {
        await broker.stop()
    }
})

test('examples/mongoose: a Mongoose OS app (mqtt config, mgos_mqtt_* and MQTT.*) on the agent', async t => {
    const r = await run('mongoose').done
    t.is(r.code, 0, r.out)
    t.regex(r.out, /mJS: MQTT event handler: got 202/)
    t.regex(r.out, /mJS: Published: yes/)
    t.regex(r.out, /mJS: Topic: my\/topic message: \{"a":1,"b":2\}/)
    t.regex(r.out, /C: command on devices\/mongoose-dev\/cmd: reboot/)
    t.regex(r.out, /Topic: my\/topic\/state message: \{"temp": 21.5, "on": true, "name": "kitchen"\}/)
})

test('examples/sensor: sampling and publishing fibers, a command subscription and request/response', async t => {
    const r = await run('sensor').done
    t.is(r.code, 0, r.out)
    t.regex(r.out, /threshold from the cloud: 20.4/)
    t.regex(r.out, /reported \d+ samples, average/)
    t.regex(r.out, /command: sample every 20 ms/)
})

test('examples/tick-tock: an unreachable broker is a clear error and a non-zero exit', async t => {
    const r = await run('tick-tock', ['127.0.0.1', '1']).done
    t.is(r.code, 1)
    t.regex(r.out, /Cannot connect to 127.0.0.1:1: Connection refused/)
})

/*
    The port is line for line: each C line of Ioto's MQTT page and sample, after the mechanical rewrite of a port
    (yield* before calls that can wait, '.' for '->', quotes, no ';', a TypeScript signature, the README's listed
    renames: Ioto's agent->mqtt is ioto.mqtt, rtrace is rTrace), is a line of examples/ioto-mqtt.ts.
 */
/** The example's lines, and the original's non-comment lines, trimmed */
function sources(original: string, example: string): { lines: string[], ts: string[] } {
    const text = readFileSync(fileURLToPath(new URL(`../../test/fixtures/${original}`, import.meta.url)), 'utf8')
    const ts = readFileSync(fileURLToPath(new URL(`../../examples/${example}`, import.meta.url)), 'utf8').split('\n').map(l => l.trim())
    return { lines: text.split('\n').filter(l => l.trim() && !l.trim().startsWith('/*')), ts }
}

test('examples/mongoose matches the Mongoose OS page\'s mJS line for line after the mechanical rewrite', t => {
    const { lines, ts } = sources('mongoose.js', 'mongoose.ts')
    /* mJS to TypeScript: arrow functions for function expressions, const for let, no ';' */
    const rewrite = (line: string): string => line.trim()
        .replace(/function\(([^)]*)\) \{$/, '($1) => {')
        .replace(/^let /, 'const ')
        .replace(/;$/, '')
    t.true(lines.length >= 8)
    for (const line of lines) {
        t.true(ts.includes(rewrite(line)), `${line.trim()}  ->  ${rewrite(line)}`)
    }
})

test('examples/ioto-mqtt matches its C original line for line after the mechanical rewrite', t => {
    const { lines: cLines, ts } = sources('ioto-mqtt.c', 'ioto-mqtt.ts')
    const rewrite = (line: string): string => line.trim()
        .replace(/^static void (\w+)\((\w+) \*(\w+)\)$/, 'function $1($3: $2): void {')
        .replace(/\b(agent|ioto)->mqtt\b/g, 'ioto.mqtt')
        .replace(/->/g, '.')
        .replace(/"((?:[^"\\]|\\.)*)"/g, "'$1'")
        .replace(/^rtrace\(/, 'rTrace(')
        .replace(/;$/, '')
        .replace(/^(mqttPublish|mqttSubscribe|mqttUnsubscribe|mqttConnect|mqttPing|mqttRequest)\(/, 'yield* $1(')
    const lines = cLines
    t.true(lines.length >= 8)
    for (const line of lines) {
        t.true(ts.includes(rewrite(line)), `${line.trim()}  ->  ${rewrite(line)}`)
    }
})
