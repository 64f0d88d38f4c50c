/*
    The same load as `fiber-mqtt bench pub|sub`, written on MQTT.js as its documentation shows: clients that
    publish stamped payloads (up to a window in flight each) or subscribe and count. Prints one JSON line:
    { sent, received, duplicates, gaps, activeMs, cpuMs }.
        node mqttjs-loadgen.js pub|sub <port> <clients> <qos> <limit> <topic> <size> <inflight>
 */
import mqtt, { type MqttClient } from 'mqtt'
import { readStamp, wallMs, writeStamp } from '../../bin/bench/stamp.js'

const [mode, portText, clientsText, qosText, limitText, topic, sizeText, inflightText] = process.argv.slice(2)
const port = Number(portText)
const clients = Number(clientsText)
const qos = Number(qosText) as 0 | 1 | 2
const limit = Number(limitText)
const size = Number(sizeText)
const inflight = Number(inflightText)
const cpu0 = process.cpuUsage()
let first = 0
let last = 0
let sent = 0
let received = 0
let dups = 0
let gaps = 0

function connect(id: string): Promise<MqttClient> {
    return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: id, clean: true, reconnectPeriod: 0, keepalive: 600 })
}

function mark(): void {
    const now = wallMs()
    if (first === 0) first = now
    last = now
}

function publisher(client: MqttClient, n: number, quota: number): Promise<void> {
    const origin = 1 + Math.floor(Math.random() * 0xfffe)
    const t = topic.replace(/%i/g, String(n))
    return new Promise((resolve, reject) => {
        let seq = 0
        let busy = 0
        const next = () => {
            while (busy < inflight && seq < quota) {
                const payload = Buffer.alloc(size)
                writeStamp(new DataView(payload.buffer, payload.byteOffset, payload.length), origin, n, seq++)
                busy++
                client.publish(t, payload, { qos }, err => {
                    if (err) {
                        reject(err)
                        return
                    }
                    sent++
                    mark()
                    busy--
                    if (seq >= quota && busy === 0) resolve()
                    else next()
                })
            }
        }
        next()
    })
}

async function main(): Promise<void> {
    const list = await Promise.all(Array.from({ length: clients }, (_, i) => connect(`mqttjs_${mode}_${process.pid}_${i}`)))
    if (mode === 'pub') {
        await Promise.all(list.map((c, i) => publisher(c, i, Math.floor(limit / clients) + (i < limit % clients ? 1 : 0))))
    } else {
        await new Promise<void>(resolve => {
            for (const c of list) {
                const lastSeq = new Map<number, number>()
                const stamp = { key: 0, seq: 0, sentMs: 0 }
                c.on('message', (_t, payload) => {
                    received++
                    mark()
                    const s = readStamp(payload, stamp)
                    if (s !== null) {
                        const prev = lastSeq.get(s.key)
                        if (prev === undefined || s.seq > prev) {
                            if (prev !== undefined && s.seq > prev + 1) gaps += s.seq - prev - 1
                            lastSeq.set(s.key, s.seq)
                        } else {
                            dups++
                        }
                    }
                    if (received >= limit) resolve()
                })
                c.subscribe(topic, { qos }, () => process.stderr.write('subscribed\n'))
            }
        })
    }
    await Promise.all(list.map(c => c.endAsync()))
    const cpu = process.cpuUsage(cpu0)
    process.stdout.write(JSON.stringify({ sent, received, duplicates: dups, gaps, activeMs: last - first, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n')
}

await main()
