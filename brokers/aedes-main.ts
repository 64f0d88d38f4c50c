/*
    The embedded broker process: aedes on 127.0.0.1, on the port given (0 picks a free one). Prints
    "port <n>" once listening; exits when its parent closes stdin or on SIGTERM.
    Options (JSON argument): { port, users: { name: password } }
 */
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const options = JSON.parse(process.argv[2] ?? '{}') as { port?: number, users?: Record<string, string> }
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
server.listen(options.port ?? 0, '127.0.0.1', () => {
    process.stdout.write(`port ${(server.address() as { port: number }).port}\n`)
})
const stop = () => {
    server.close()
    broker.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 500).unref()
}
process.stdin.on('end', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
