/*
    The embedded broker process: aedes on 127.0.0.1, on the port given (0 picks a free one). Prints
    "port <n>" once listening; exits when its parent closes stdin or on SIGTERM.
    Options (JSON argument): { port, users: { name: password }, websocket: { tls?: { cert, key } } }; with websocket
    it also listens for MQTT over WebSocket (subprotocol "mqtt", any path; over TLS with tls) and prints
    "ws <n>" before the port line.
 */
import { createServer } from 'node:net'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import { Aedes } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'

const options = JSON.parse(process.argv[2] ?? '{}') as {
    port?: number, users?: Record<string, string>, websocket?: { port?: number, tls?: { cert: string, key: string } }
}
/* A short heartbeat so that $SYS traffic shows up in tests */
const broker = await Aedes.createBroker({ heartbeatInterval: 1000 })
if (options.users) {
    const users = options.users
    broker.authenticate = (_client, username, password, done) => {
        const ok = username !== undefined && users[username] !== undefined && password?.toString() === users[username]
        if (ok) {
            done(null, true)
        } else {
            const err = new Error('Bad user name or password') as Error & { returnCode: number }
            err.returnCode = 4
            done(err, false)
        }
    }
}
const server = createServer(broker.handle)
let web: Server | null = null
if (options.websocket) {
    const tls = options.websocket.tls
    web = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }) : createHttpServer()
    const wss = new WebSocketServer({ server: web, handleProtocols: protocols => protocols.has('mqtt') ? 'mqtt' : false })
    wss.on('connection', socket => broker.handle(createWebSocketStream(socket) as never))
    await new Promise<void>(resolve => web!.listen(options.websocket!.port ?? 0, '127.0.0.1', resolve))
    process.stdout.write(`ws ${(web.address() as { port: number }).port}\n`)
}
server.listen(options.port ?? 0, '127.0.0.1', () => {
    process.stdout.write(`port ${(server.address() as { port: number }).port}\n`)
})
const stop = () => {
    server.close()
    web?.close()
    broker.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 500).unref()
}
process.stdin.on('end', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
