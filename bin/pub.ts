/*
    fiber-mqtt pub: mosquitto_pub's job. Publishes one message (-m, -f, -n, -s) or one per stdin line (-l).
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import {
    mqttDisconnect, mqttFree, mqttGetError, mqttPublish, mqttPublishRetained, rAwait, rCloseSocket,
    MQTT_WAIT_ACK, MQTT_WAIT_SENT, type Fiber, type Mqtt,
} from '../index.js'
import type { Options } from './args.js'
import { CliError, connectCli } from './connect.js'

function* publishOne(mq: Mqtt, o: Options, payload: Uint8Array): Fiber<void> {
    const publish = o.retain ? mqttPublishRetained : mqttPublish
    /* %s: the topic is literal here, whatever it contains */
    const rc = yield* publish(mq, payload, payload.length, o.qos, o.qos > 0 ? MQTT_WAIT_ACK : MQTT_WAIT_SENT, '%s', o.topics[0])
    if (rc !== 0) {
        throw new CliError(`Error: Publish failed: ${mqttGetError(mq)}`)
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

export function* pub(o: Options): Fiber<number> {
    let payload: Uint8Array | null = null
    if (o.file !== null) {
        try {
            payload = readFileSync(o.file)
        } catch (err) {
            throw new CliError(`Error: Unable to read file "${o.file}": ${(err as Error).message}.`)
        }
    } else if (o.message !== null) {
        payload = Buffer.from(o.message)
    } else if (o.nullMessage) {
        payload = new Uint8Array(0)
    } else if (o.stdin) {
        payload = yield* rAwait(readAll(process.stdin))
    }
    const { mq, sock } = yield* connectCli(o, 'fiber-mqtt-pub-')
    try {
        if (payload !== null) {
            yield* publishOne(mq, o, payload)
        } else {
            /* -l: a message per line, as lines arrive, until stdin ends */
            const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]()
            for (;;) {
                const line = yield* rAwait(lines.next())
                if (line.done) {
                    break
                }
                yield* publishOne(mq, o, Buffer.from(line.value))
            }
        }
    } finally {
        mqttDisconnect(mq)
        yield* mqttFree(mq)
        rCloseSocket(sock)
    }
    return 0
}
