/*
    A publisher process for the full-disk test: an agent with a durable store and no reachable broker publishes
    QoS 1 messages of 1 KiB until one fails, printing "ok <i>" for each stored one and then
    "fail <i> <rc> <mqttGetError>".
        node store-filler.js <store path> <unreachable port> <count>
 */
import { ioAgent, ioAgentStop, mqttGetError, mqttPublish, MQTT_WAIT_NONE, rInit, rServiceEvents, rStop, type Fiber } from '../../index.js'

const [path, port, count] = process.argv.slice(2)

function* main(): Fiber<void> {
    const agent = ioAgent({ mqtt: { server: `127.0.0.1:${port}`, client_id: 'filler', clean_session: false }, store: { path } })
    const payload = 'x'.repeat(1024)
    for (let i = 0; i < Number(count); i++) {
        const rc = yield* mqttPublish(agent.mqtt, `${i}:${payload}`, 0, 1, MQTT_WAIT_NONE, 'fill/test')
        if (rc !== 0) {
            process.stdout.write(`fail ${i} ${rc} ${mqttGetError(agent.mqtt)}\n`)
            break
        }
        process.stdout.write(`ok ${i}\n`)
    }
    yield* ioAgentStop(agent)
    rStop()
}

rInit(main, null)
await rServiceEvents()
