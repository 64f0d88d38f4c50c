/*
    The test broker's start-up: a port taken between its choice and mosquitto's bind starts mosquitto again on
    fresh ports; a broker that cannot start says why, in mosquitto's words.
 */
import test from 'ava'
import { createServer, type Server } from 'node:net'
import { mosquittoPath, startMosquitto } from '../brokers/broker.js'

function listen(): Promise<{ server: Server, port: number }> {
    return new Promise((resolve, reject) => {
        const server = createServer(s => s.destroy())
        server.on('error', reject)
        server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }))
    })
}

if (mosquittoPath() !== null) {
    test('a port taken before mosquitto binds it: mosquitto starts again on ports chosen afresh', async t => {
        const taken = await listen()
        const seen: number[][] = []
        try {
            /* The first configuration's extra listener is on the taken port, as if another process took it */
            const b = await startMosquitto({ extraPorts: 1, extra: ports => {
                seen.push(ports)
                return [`listener ${seen.length === 1 ? taken.port : ports[0]} 127.0.0.1`, 'allow_anonymous true']
            } })
            try {
                t.is(seen.length, 2)
                t.not(b.extraPorts[0], taken.port)
                t.deepEqual(b.extraPorts, seen[1])
                t.is(b.process.exitCode, null)
            } finally {
                await b.stop()
            }
        } finally {
            taken.server.close()
        }
    })

    test('a broker that cannot start: the error carries what mosquitto said, after three tries for a taken port', async t => {
        const taken = await listen()
        let calls = 0
        try {
            const err = await t.throwsAsync(startMosquitto({ extra: () => {
                calls++
                return [`listener ${taken.port} 127.0.0.1`]
            } }))
            t.regex(err!.message, /^broker exited with code \d+: .*address already in use/is)
            t.is(calls, 3)
            const bad = await t.throwsAsync(startMosquitto({ extra: ['no_such_option 1'] }))
            t.regex(bad!.message, /^broker exited with code \d+: .*no_such_option/s)
        } finally {
            taken.server.close()
        }
    })
}
