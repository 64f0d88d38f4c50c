/*
    A process that starts mosquitto and holds it: prints "broker <pid> <port>" once it listens, then waits to be
    killed (test/brokers.test.ts kills it with SIGKILL, which no handler sees).
        node dist/test/helpers/broker-holder.js
 */
import { startMosquitto } from '../../brokers/broker.js'

const broker = await startMosquitto()
process.stdout.write(`broker ${broker.process.pid} ${broker.port}\n`)
setInterval(() => undefined, 60_000)
