/*
    Start a broker for the examples, tests and benchmarks: the embedded aedes broker in a child process, or
    mosquitto (when installed) from a generated configuration. Loopback only; ports chosen at run time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Broker {
    kind: 'aedes' | 'mosquitto'
    host: string
    port: number
    /** A TLS listener's port (mosquitto with tls options) */
    tlsPort: number
    /** The MQTT over WebSocket port (aedes with the websocket option), or 0 */
    wsPort: number
    process: ChildProcess
    /** Stop and wait for the process to end (SIGTERM) */
    stop(): Promise<void>
    /** Kill at once (SIGKILL) and wait */
    kill(): Promise<void>
    /** Start again on the same ports (same persistence) */
    restart(): Promise<void>
}

export interface BrokerOptions {
    /** aedes: listen on this port (default: a free one) */
    port?: number
    /** user name -> password; anonymous clients are then refused */
    users?: Record<string, string>
    /** mosquitto: a TLS listener with these PEM files (paths) */
    tls?: { ca: string, cert: string, key: string, requireCertificate?: boolean }
    /** mosquitto: keep sessions and messages on disk across restarts */
    persistence?: boolean
    /** mosquitto: extra configuration lines */
    extra?: string[]
    /** aedes: also MQTT over WebSocket (ws, or wss with tls: PEM file paths); mosquitto: a ws listener (no tls) */
    websocket?: { tls?: { cert: string, key: string } }
}

const aedesMain = fileURLToPath(new URL('./aedes-main.js', import.meta.url))

/** The mosquitto binary, or null when it is not installed. */
export function mosquittoPath(): string | null {
    for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto']) {
        if (existsSync(p)) {
            return p
        }
    }
    const r = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' })
    return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer()
        s.on('error', reject)
        s.listen(0, '127.0.0.1', () => {
            const port = (s.address() as { port: number }).port
            s.close(() => resolve(port))
        })
    })
}

function exited(child: ChildProcess): Promise<void> {
    return new Promise(resolve => {
        if (child.exitCode !== null || child.signalCode !== null) {
            resolve()
        } else {
            child.once('exit', () => resolve())
        }
    })
}

/** A Broker around a child process that `launch` (re)starts; `cleanup` runs after a final stop. */
function handle(kind: Broker['kind'], port: number, tlsPort: number, launch: () => Promise<ChildProcess>, first: ChildProcess,
    cleanup: () => void, wsPort = 0): Broker {
    let child = first
    return {
        kind, host: '127.0.0.1', port, tlsPort, wsPort,
        get process() {
            return child
        },
        stop: async () => {
            child.stdin?.end()
            child.kill('SIGTERM')
            await exited(child)
            cleanup()
        },
        kill: async () => {
            child.kill('SIGKILL')
            await exited(child)
        },
        restart: async () => {
            child = await launch()
        },
    }
}

async function waitForPort(port: number, child: ChildProcess, ms: number): Promise<void> {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
        if (child.exitCode !== null) {
            throw new Error(`broker exited with code ${child.exitCode}`)
        }
        const ok = await new Promise<boolean>(resolve => {
            const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
            s.on('error', () => resolve(false))
        })
        if (ok) {
            return
        }
        await new Promise(r => setTimeout(r, 50))
    }
    throw new Error(`broker did not listen on ${port} within ${ms} ms`)
}

/** The embedded broker: aedes in a child process. */
export async function startAedes(options: BrokerOptions = {}): Promise<Broker> {
    let port = options.port ?? 0
    let wsPort = 0
    const launch = () => new Promise<ChildProcess>((resolve, reject) => {
        const websocket = options.websocket ? { ...options.websocket, port: wsPort } : undefined
        const child = spawn(process.execPath, [aedesMain, JSON.stringify({ port, users: options.users, websocket })], { stdio: ['pipe', 'pipe', 'inherit'] })
        let out = ''
        child.stdout!.on('data', (d: Buffer) => {
            out += d.toString()
            const m = /port (\d+)/.exec(out)
            if (m) {
                port = Number(m[1])
                wsPort = Number(/ws (\d+)/.exec(out)?.[1] ?? 0)
                resolve(child)
            }
        })
        child.once('exit', code => reject(new Error(`aedes exited with code ${code}`)))
        child.once('error', reject)
    })
    const child = await launch()
    return handle('aedes', port, 0, launch, child, () => undefined, wsPort)
}

/** mosquitto from a generated configuration (throws when it is not installed). */
export async function startMosquitto(options: BrokerOptions = {}): Promise<Broker> {
    const bin = mosquittoPath()
    if (bin === null) {
        throw new Error('mosquitto is not installed')
    }
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-mosquitto-'))
    const port = await freePort()
    const tlsPort = options.tls ? await freePort() : 0
    const wsPort = options.websocket ? await freePort() : 0
    const lines = [
        /* As root mosquitto would switch to its own user, who cannot read this private directory */
        process.getuid?.() === 0 ? 'user root' : '',
        'per_listener_settings true',
        `listener ${port} 127.0.0.1`,
        options.users ? `password_file ${join(dir, 'passwd')}` : 'allow_anonymous true',
        options.users ? 'allow_anonymous false' : '',
        /* mosquitto 2.0 drops QoS 2 messages beyond max_inflight_messages (default 20): lift the limits */
        'max_inflight_messages 0',
        'max_queued_messages 0',
        'max_keepalive 65535',
        'sys_interval 1',
    ]
    if (options.tls) {
        lines.push(`listener ${tlsPort} 127.0.0.1`, 'allow_anonymous true', `cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`,
            `keyfile ${options.tls.key}`, `require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`)
    }
    if (options.websocket) {
        /* mosquitto 2.0's websockets listener binds to an interface, not an address ("lo": 127.0.0.1 only), and
           starts only beside a plain listener, which there always is here */
        lines.push(`listener ${wsPort} lo`, 'protocol websockets', options.users ? 'allow_anonymous false' : 'allow_anonymous true',
            options.users ? `password_file ${join(dir, 'passwd')}` : '')
    }
    if (options.persistence) {
        lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'autosave_on_changes true')
    }
    lines.push(...(options.extra ?? []))
    writeFileSync(join(dir, 'mosquitto.conf'), lines.filter(Boolean).join('\n') + '\n')
    if (options.users) {
        const passwd = join(dir, 'passwd')
        writeFileSync(passwd, '')
        for (const [user, pass] of Object.entries(options.users)) {
            const r = spawnSync(join(bin, '..', 'mosquitto_passwd'), ['-b', passwd, user, pass], { encoding: 'utf8' })
            const alt = r.status === 0 ? r : spawnSync('mosquitto_passwd', ['-b', passwd, user, pass], { encoding: 'utf8' })
            if (alt.status !== 0) {
                throw new Error(`mosquitto_passwd failed: ${alt.stderr}`)
            }
        }
    }
    const launch = async () => {
        const child = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', process.env.MOSQUITTO_LOG ? 'inherit' : 'pipe'] })
        child.stderr?.resume()
        await waitForPort(port, child, 10_000)
        if (wsPort !== 0) {
            await waitForPort(wsPort, child, 10_000)
        }
        return child
    }
    return handle('mosquitto', port, tlsPort, launch, await launch(), () => rmSync(dir, { recursive: true, force: true }), wsPort)
}
