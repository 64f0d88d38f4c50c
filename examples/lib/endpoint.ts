/*
    Where the examples connect: the broker named by MQTT_BROKER ("host:port"), or, when none is named, the
    embedded aedes broker started for the run (and stopped after it).
 */
import { startAedes } from '../../brokers/broker.js'

export interface Endpoint {
    host: string
    port: number
    embedded: boolean
    stop(): Promise<void>
}

export async function endpoint(): Promise<Endpoint> {
    const named = process.env.MQTT_BROKER
    if (named) {
        const [host, port] = named.includes(':') ? named.split(':') : [named, '1883']
        return { host: host || '127.0.0.1', port: Number(port), embedded: false, stop: async () => undefined }
    }
    const broker = await startAedes()
    return { host: broker.host, port: broker.port, embedded: true, stop: () => broker.stop() }
}
