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
    /** mosquitto: the ports chosen for `extra` (BrokerOptions.extraPorts of them), in order */
    extraPorts: number[]
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
    /** mosquitto: extra configuration lines, or a function of `extraPorts` free ports that returns them */
    extra?: string[] | ((ports: number[]) => string[])
    /** mosquitto: how many free ports to choose for `extra` (a listener of its own) */
    extraPorts?: number
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
    cleanup: () => void, wsPort = 0, extraPorts: number[] = []): Broker {
    let child = first
    return {
        kind, host: '127.0.0.1', port, tlsPort, wsPort, extraPorts,
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

/* The broker ended before it listened: its code and what it said last */
class BrokerExit extends Error {
    constructor(readonly code: number, readonly said: string) {
        super(`broker exited with code ${code}${said ? `: ${said}` : ''}`)
    }
}

async function waitForPort(port: number, child: ChildProcess, ms: number, said: () => string = () => ''): Promise<void> {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
        if (child.exitCode !== null) {
            throw new BrokerExit(child.exitCode, said())
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
    /* A port free a moment ago may be taken before mosquitto binds it (another test's listener, or the local
       port of a connection): then mosquitto exits at start, and it starts again on ports chosen afresh */
    for (let attempt = 1; ; attempt++) {
        const ports = await choosePorts(options)
        writeFileSync(join(dir, 'mosquitto.conf'), mosquittoConfig(options, dir, ports))
        const launch = () => launchMosquitto(bin, dir, ports.port, ports.wsPort)
        try {
            const child = await launch()
            return handle('mosquitto', ports.port, ports.tlsPort, launch, child, () => rmSync(dir, { recursive: true, force: true }), ports.wsPort, ports.extra)
        } catch (err) {
            if (!(err instanceof BrokerExit && /address already in use/i.test(err.said)) || attempt === 3) {
                rmSync(dir, { recursive: true, force: true })
                throw err
            }
        }
    }
}

interface MosquittoPorts {
    port: number
    tlsPort: number
    wsPort: number
    extra: number[]
}

async function choosePorts(options: BrokerOptions): Promise<MosquittoPorts> {
    const extra: number[] = []
    for (let i = 0; i < (options.extraPorts ?? 0); i++) {
        extra.push(await freePort())
    }
    return { port: await freePort(), tlsPort: options.tls ? await freePort() : 0, wsPort: options.websocket ? await freePort() : 0, extra }
}

function mosquittoConfig(options: BrokerOptions, dir: string, ports: MosquittoPorts): string {
    const lines = [
        /* As root mosquitto would switch to its own user, who cannot read this private directory */
        process.getuid?.() === 0 ? 'user root' : '',
        'per_listener_settings true',
        `listener ${ports.port} 127.0.0.1`,
        options.users ? `password_file ${join(dir, 'passwd')}` : 'allow_anonymous true',
        options.users ? 'allow_anonymous false' : '',
        /* mosquitto 2.0 drops QoS 2 messages beyond max_inflight_messages (default 20): lift the limits */
        'max_inflight_messages 0',
        'max_queued_messages 0',
        'max_keepalive 65535',
        'sys_interval 1',
    ]
    if (options.tls) {
        lines.push(`listener ${ports.tlsPort} 127.0.0.1`, 'allow_anonymous true', `cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`,
            `keyfile ${options.tls.key}`, `require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`)
    }
    if (options.websocket) {
        /* mosquitto 2.0's websockets listener binds to an interface, not an address ("lo": 127.0.0.1 only), and
           starts only beside a plain listener, which there always is here */
        lines.push(`listener ${ports.wsPort} lo`, 'protocol websockets', options.users ? 'allow_anonymous false' : 'allow_anonymous true',
            options.users ? `password_file ${join(dir, 'passwd')}` : '')
    }
    if (options.persistence) {
        lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'autosave_on_changes true')
    }
    const extra = options.extra ?? []
    lines.push(...(typeof extra === 'function' ? extra(ports.extra) : extra))
    return lines.filter(Boolean).join('\n') + '\n'
}

/* mosquitto started on its configuration in dir, once it listens; what it writes to stderr is kept (its last
   words name why it could not start) unless MOSQUITTO_LOG shows it */
async function launchMosquitto(bin: string, dir: string, port: number, wsPort: number): Promise<ChildProcess> {
    const child = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', process.env.MOSQUITTO_LOG ? 'inherit' : 'pipe'] })
    let said = ''
    child.stderr?.on('data', (d: Buffer) => {
        said = (said + d.toString()).slice(-2000)
    })
    const words = () => said.trim()
    try {
        await waitForPort(port, child, 10_000, words)
        if (wsPort !== 0) {
            await waitForPort(wsPort, child, 10_000, words)
        }
    } catch (err) {
        if (!(err instanceof BrokerExit) || child.stderr === null) {
            child.kill('SIGKILL')
            throw err
        }
        /* Its last words may still be in the pipe when its exit is seen */
        await new Promise(resolve => {
            child.stderr!.once('close', resolve)
            setTimeout(resolve, 1000).unref()
        })
        throw new BrokerExit(err.code, words())
    }
    guard(child)
    return child
}

/*
    mosquitto does not end with the process that started it (aedes does: its stdin closes). A parent killed at
    once (SIGKILL, a time limit) would leave it running, holding its port: a guard, a shell that looks once a
    second, stops it (SIGTERM) when the parent is gone. The guard ends when mosquitto does (killed then, so that
    it never signals a pid used again), and keeps nothing of the parent's open.
 */
function guard(child: ChildProcess): void {
    const parent = process.pid, broker = child.pid!
    const g = spawn('sh', ['-c', `while kill -0 ${parent} && kill -0 ${broker}; do sleep 1; done 2>/dev/null; kill ${broker} 2>/dev/null`],
        { stdio: 'ignore' })
    g.on('error', () => undefined)
    g.unref()
    child.once('exit', () => g.kill('SIGKILL'))
}
