/*
    A publisher process for the durable-store test: an agent with a store publishes messages "from..to-1"
    (QoS 1, one every 2 ms), prints "queued <n>" after each one accepted ("fail <n> <rc> <mqttGetError>" for one
    refused), and "idle" once everything it had is acknowledged.
        node durable-publisher.js '<agent config JSON>' from to
 */
import { ioAgent, ioAgentStats, mqttGetError, mqttPublish, MQTT_WAIT_NONE, rInit, rServiceEvents, rSleep, type Fiber } from '../../index.js'

/* Never outlive the test: its end of our stdin closes when it goes, however it goes */
process.stdin.on('end', () => process.exit(0)).resume()

const config = JSON.parse(process.argv[2])
const from = Number(process.argv[3])
const to = Number(process.argv[4])

function* main(): Fiber<void> {
    const agent = ioAgent(config)
    for (let i = from; i < to; i++) {
        const rc = yield* mqttPublish(agent.mqtt, String(i), 0, 1, MQTT_WAIT_NONE, 'durable/test')
        process.stdout.write(rc === 0 ? `queued ${i}\n` : `fail ${i} ${rc} ${mqttGetError(agent.mqtt)}\n`)
        yield* rSleep(2)
    }
    for (;;) {
        const s = ioAgentStats(agent)
        if (s.connected && s.queued === 0 && s.inflight === 0) {
            process.stdout.write('idle\n')
        }
        yield* rSleep(100)
    }
}

rInit(main, null)
await rServiceEvents()
