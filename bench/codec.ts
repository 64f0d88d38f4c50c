/*
    Codec benchmark: encode and decode of 16 B and 1 KiB PUBLISH packets, and decode of a stream of mixed
    acknowledgements, against mqtt-packet in one process, interleaved, medians and ratios. Encoding is measured
    two ways: each packet into a buffer of its own (generate), and into a write batch (the client's path;
    mqtt-packet's writeToStream, as MQTT.js uses it).

    npm run bench:codec [-- --rounds 5]
 */
import mqttPacket from 'mqtt-packet'
import { encode, encodePublish, MqttDecoder, PacketWriter, encodeTopic, type Packet } from '../mqtt/index.js'
import { median, printTable, progress, type Row } from './lib/stats.js'
import { benchOptions } from './lib/options.js'

const options = benchOptions('npm run bench:codec [-- --rounds 5 --count 200000]', [], ['--rounds', '--count'])
const ROUNDS = Math.max(3, options.number('--rounds', 5))
const COUNT = options.number('--count', 200_000)
const TOPIC = 'devices/sensor-0042/temperature'

function rate(fn: () => number): number {
    const start = performance.now()
    const n = fn()
    return n / ((performance.now() - start) / 1000)
}

let sink = 0

function oursEncode(payload: Uint8Array): number {
    for (let i = 0; i < COUNT; i++) {
        sink += encodePublish(TOPIC, payload, 1, false, false, (i & 0xfffe) + 1).length
    }
    return COUNT
}

function oursBatch(payload: Uint8Array): number {
    const w = new PacketWriter()
    const topic = encodeTopic(TOPIC)
    for (let i = 0; i < COUNT; i++) {
        w.publish(topic, payload, 1, false, false, (i & 0xfffe) + 1)
        if (w.length > 60_000) {
            sink += w.take()!.length
        }
    }
    return COUNT
}

/* mqtt-packet's streaming encoder, as MQTT.js uses it: writes go to a stream */
const nullStream = { write(chunk: Buffer): boolean { sink += chunk.length; return true } }

function theirsStream(payload: Buffer): number {
    for (let i = 0; i < COUNT; i++) {
        mqttPacket.writeToStream({ cmd: 'publish', topic: TOPIC, payload, qos: 1, retain: false, dup: false, messageId: (i & 0xfffe) + 1 }, nullStream as any)
    }
    return COUNT
}

function theirsEncode(payload: Buffer): number {
    for (let i = 0; i < COUNT; i++) {
        sink += mqttPacket.generate({ cmd: 'publish', topic: TOPIC, payload, qos: 1, retain: false, dup: false, messageId: (i & 0xfffe) + 1 }).length
    }
    return COUNT
}

function stream(packets: Packet[], times: number): Uint8Array[] {
    const one = packets.map(p => encode(p))
    const chunks: Uint8Array[] = []
    let chunk: number[] = []
    for (let t = 0; t < times; t++) {
        for (const b of one) {
            chunk.push(...b)
            if (chunk.length >= 65536) {
                chunks.push(Uint8Array.from(chunk))
                chunk = []
            }
        }
    }
    if (chunk.length) {
        chunks.push(Uint8Array.from(chunk))
    }
    return chunks
}

function oursDecode(chunks: Uint8Array[]): number {
    const d = new MqttDecoder()
    let n = 0
    const count = () => { n++ }
    for (const c of chunks) {
        d.push(c, count)
    }
    return n
}

function theirsDecode(chunks: Buffer[]): number {
    const parser = mqttPacket.parser({ protocolVersion: 4 })
    let n = 0
    parser.on('packet', () => { n++ })
    for (const c of chunks) {
        parser.parse(c)
    }
    return n
}

function main(): void {
    const p16 = new Uint8Array(16).fill(65)
    const p1k = new Uint8Array(1024).fill(66)
    const publish = (payload: Uint8Array, id: number): Packet => ({ type: 3, dup: false, qos: 1, retain: false, topic: TOPIC, id, payload })
    const pubs16 = stream(Array.from({ length: 100 }, (_, i) => publish(p16, i + 1)), COUNT / 100)
    const pubs1k = stream(Array.from({ length: 100 }, (_, i) => publish(p1k, i + 1)), COUNT / 100 / 4)
    const acks: Packet[] = []
    for (let i = 1; i <= 100; i++) {
        acks.push({ type: 4, id: i }, { type: 5, id: i }, { type: 7, id: i }, { type: 6, id: i })
        if (i % 10 === 0) {
            acks.push({ type: 9, id: i, granted: [1] }, { type: 13 }, { type: 11, id: i })
        }
    }
    const ackStream = stream(acks, COUNT / acks.length)
    const asBuffers = (chunks: Uint8Array[]) => chunks.map(c => Buffer.from(c.buffer, c.byteOffset, c.length))
    /* Both decoders get Buffers, as a Node socket delivers them */
    const theirs16 = asBuffers(pubs16), theirs1k = asBuffers(pubs1k), theirsAcks = asBuffers(ackStream)
    const b16 = Buffer.from(p16), b1k = Buffer.from(p1k)

    const rows: Row[] = [
        { name: 'encode PUBLISH 16 B', unit: 'msgs/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
        { name: 'encode PUBLISH 1 KiB', unit: 'msgs/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
        { name: 'encode PUBLISH 16 B into a write batch', unit: 'msgs/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
        { name: 'encode PUBLISH 1 KiB into a write batch', unit: 'msgs/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
        { name: 'decode PUBLISH 16 B', unit: 'msgs/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
        { name: 'decode PUBLISH 1 KiB', unit: 'msgs/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
        { name: 'decode mixed acks', unit: 'packets/s', results: { 'fiber-mqtt': [], 'mqtt-packet': [] }, higherIsBetter: true },
    ]
    const jobs: [() => number, () => number][] = [
        [() => oursEncode(p16), () => theirsEncode(b16)],
        [() => oursEncode(p1k), () => theirsEncode(b1k)],
        [() => oursBatch(p16), () => theirsStream(b16)],
        [() => oursBatch(p1k), () => theirsStream(b1k)],
        [() => oursDecode(theirs16), () => theirsDecode(theirs16)],
        [() => oursDecode(theirs1k), () => theirsDecode(theirs1k)],
        [() => oursDecode(theirsAcks), () => theirsDecode(theirsAcks)],
    ]
    /* warm-up */
    for (const [a, b] of jobs) {
        a()
        b()
    }
    for (let round = 1; round <= ROUNDS; round++) {
        progress(`round ${round}/${ROUNDS}`)
        jobs.forEach(([ours, theirs], i) => {
            rows[i].results['fiber-mqtt'].push(rate(ours))
            rows[i].results['mqtt-packet'].push(rate(theirs))
        })
    }
    progress('done\n')
    printTable(`Codec vs mqtt-packet: ${ROUNDS} interleaved rounds, Node ${process.version}`, rows, 'fiber-mqtt', 'mqtt-packet')
    /* The target covers encode (own buffer) and decode; the write-batch rows are the client's path, for reference */
    const ratio = (r: Row) => median(r.results['fiber-mqtt'].map((v, i) => v / r.results['mqtt-packet'][i]))
    const targeted = rows.filter(r => !r.name.includes('write batch'))
    const worst = targeted.reduce((a, r) => ratio(r) < ratio(a) ? r : a)
    console.log(`\nlowest median ratio of the targeted figures ${ratio(worst).toFixed(1)}x, ${worst.name} (target >= 5x)${sink < 0 ? '' : ''}`)
}

main()
