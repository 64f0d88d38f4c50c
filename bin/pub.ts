/*
    fiber-mqtt pub: mosquitto_pub's job. Publishes one message (-m, -f, -n, -s; --repeat times) or one per stdin
    line (-l, the line's bytes as they are, '\r' included), then disconnects.
 */
import { readFileSync } from 'node:fs'
import { rAwait, rSleep, type Fiber, type Waitable } from '../runtime/index.js'
import { rCloseSocket } from '../socket/index.js'
import {
    mqttFree, mqttGetError, mqttPublish, mqttPublishEx, mqttPublishRetained, mqttSetInflight, MQTT_WAIT_ACK, MQTT_WAIT_SENT,
    type Mqtt, type Properties,
} from '../mqtt/index.js'
import { RingQueue } from '../runtime/queue.js'
import type { Options } from './args.js'
import { linesOf } from './lines.js'
import { CliError, cliClient, connectCli, disconnectCli } from './connect.js'

/* -D publish: the message properties; a topic alias asked for means aliases, which the client numbers itself */
function messageProperties(o: Options): Properties | null {
    const { topicAlias, ...rest } = o.properties.publish
    void topicAlias
    return Object.keys(rest).length > 0 ? rest : null
}

/* Publish one message (on the wire or queued at the call); the waitable gives its outcome: acknowledged, or sent for QoS 0 */
function startPublish(mq: Mqtt, o: Options, payload: Uint8Array): Waitable<number> {
    const wait = o.qos > 0 ? MQTT_WAIT_ACK : MQTT_WAIT_SENT
    const properties = messageProperties(o)
    /* '%s': the topic is literal, whatever it contains */
    return properties !== null ? mqttPublishEx(mq, payload, payload.length, o.qos, wait, { retain: o.retain, properties }, '%s', o.topics[0]) :
        (o.retain ? mqttPublishRetained : mqttPublish)(mq, payload, payload.length, o.qos, wait, '%s', o.topics[0])
}

function* outcome(mq: Mqtt, w: Waitable<number>): Fiber<void> {
    const rc = yield* w
    if (rc !== 0) {
        throw new CliError(mq.connected ? `Error: Publish returned ${rc}: ${mqttGetError(mq)}` : 'Error: The connection was lost.', mq.connected ? 1 : 7)
    }
}

/*
    -l: each line goes out as it is read, up to -M (max inflight) of them waiting for their outcome at once (as
    mosquitto_pub keeps its window full), not one round trip per line; each outcome is checked, oldest first
 */
function* publishLines(mq: Mqtt, o: Options): Fiber<void> {
    const lines = linesOf(process.stdin as AsyncIterable<Buffer>)
    const waiting = new RingQueue<Waitable<number>>()
    for (;;) {
        const read = yield* rAwait(lines.next())
        if (read.done) {
            break
        }
        for (const line of read.value) {
            waiting.push(startPublish(mq, o, line))
            if (waiting.length >= o.maxInflight) {
                yield* outcome(mq, waiting.shift()!)
            }
        }
    }
    let w: Waitable<number> | undefined
    while ((w = waiting.shift()) !== undefined) {
        yield* outcome(mq, w)
    }
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const parts: Buffer[] = []
        stream.on('data', (d: Buffer) => parts.push(d))
        stream.on('end', () => resolve(Buffer.concat(parts)))
        stream.on('error', reject)
    })
}

function* payloadOf(o: Options): Fiber<Uint8Array | null> {
    if (o.file !== null) {
        try {
            return readFileSync(o.file)
        } catch {
            throw new CliError(`Error: Unable to open file "${o.file}".\nError loading input file "${o.file}".`)
        }
    }
    if (o.message !== null) {
        return Buffer.from(o.message)
    }
    if (o.nullMessage) {
        return new Uint8Array(0)
    }
    if (o.stdin) {
        const all = yield* rAwait(readAll(process.stdin))
        if (all.length === 0) {
            throw new CliError('Error: Zero length input.\nError loading input from stdin.')
        }
        return all
    }
    return null
}

export function* pub(o: Options): Fiber<number> {
    const payload = yield* payloadOf(o)
    const mq = cliClient(o)
    mqttSetInflight(mq, o.maxInflight)
    let sock
    try {
        sock = yield* connectCli(o, mq)
    } catch (err) {
        if (err instanceof CliError && err.message.startsWith('Connection error')) {
            /* mosquitto_pub's second line: an MQTT 5 refusal ends its loop as a protocol error */
            throw new CliError(`${err.message}\nError: ${err.code >= 0x80 ? 'A network protocol error occurred when communicating with the broker.' : 'The connection was refused.'}`, err.code)
        }
        throw err
    }
    try {
        if (payload !== null) {
            for (let i = 0; i < o.repeat; i++) {
                if (i > 0 && o.repeatDelay > 0) {
                    yield* rSleep(o.repeatDelay * 1000)
                }
                yield* outcome(mq, startPublish(mq, o, payload))
            }
        } else {
            yield* publishLines(mq, o)
        }
        disconnectCli(mq, o)
        mq.trace = false
    } finally {
        yield* mqttFree(mq)
        rCloseSocket(sock)
    }
    return 0
}
