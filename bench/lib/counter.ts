/*
    A counting subscriber in its own process, for the publisher -> broker -> subscriber figure. It connects to
    the broker (argv: port), subscribes to bench/through with QoS 1 and reports progress on stdout:
    "ready", then "count <n>" whenever the parent writes a line to its stdin, and "done <n> <ms>" once it
    has the expected number of messages (the parent's "expect <n>" line).
 */
import { connect } from 'node:net'
import { encode, MqttDecoder, PacketWriter } from '../../mqtt/index.js'

const port = Number(process.argv[2])
const sock = connect(port, '127.0.0.1')
const decoder = new MqttDecoder()
const writer = new PacketWriter()
let count = 0
let expected = Infinity
let first = 0

sock.setNoDelay(true)
sock.on('connect', () => {
    sock.write(encode({ type: 1, protocolName: 'MQTT', protocolLevel: 4, clean: true, keepAlive: 600, clientId: `counter-${process.pid}`, will: null, username: null, password: null }))
    sock.write(encode({ type: 8, id: 1, subscriptions: [{ topic: 'bench/through', qos: 1 }] }))
})
sock.on('data', chunk => {
    decoder.push(chunk, p => {
        if (p.type === 9) {
            process.stdout.write('ready\n')
        } else if (p.type === 3) {
            if (count === 0) {
                first = performance.now()
            }
            count++
            if (p.qos === 1) {
                writer.ack(0x40, p.id)
            }
            if (count === expected) {
                process.stdout.write(`done ${count} ${(performance.now() - first).toFixed(1)}\n`)
            }
        }
    })
    const acks = writer.take()
    if (acks) {
        sock.write(acks)
    }
})
sock.on('error', err => {
    process.stdout.write(`error ${err.message}\n`)
    process.exit(1)
})
process.stdin.on('data', d => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
        const m = /^expect (\d+)/.exec(line)
        if (m) {
            expected = count + Number(m[1])
            if (count >= expected) {
                process.stdout.write(`done ${count} 0\n`)
            }
        } else {
            process.stdout.write(`count ${count}\n`)
        }
    }
})
process.stdin.on('end', () => process.exit(0))
