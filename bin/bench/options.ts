/*
    Options of `fiber-mqtt bench conn|pub|sub|join`, in the manner of emqtt-bench: -c clients, -i connect
    interval, -I publish interval, -s size, -q QoS, -t topic pattern (%i client number, %c client id,
    %u user name), -L message limit, -F in-flight window, plus workers (-w), a duration (-d), reports
    (--json, --csv, --chart) and coordination of several processes through a broker (--coordinate, join).
 */
import { availableParallelism } from 'node:os'
import { isIP } from 'node:net'
import { readFileSync } from 'node:fs'
import { MqttUrlError, parseMqttUrl } from '../../mqtt/url.js'
import { topicFilterProblem, topicNameProblem } from '../../mqtt/topic.js'
import { UsageError } from '../args.js'
import { NAP_MAX } from '../../socket/nap.js'

export type Mode = 'conn' | 'pub' | 'sub'

export interface BenchOptions {
    mode: Mode
    host: string
    port: number
    tls: boolean
    /** MQTT over WebSocket (--url ws:// or wss://): the HTTP path */
    websocket: string | null
    cafile: string | null
    certfile: string | null
    keyfile: string | null
    insecure: boolean
    alpn: string | null
    username: string | null
    password: string | null
    keepAlive: number
    clean: boolean
    count: number
    startNumber: number
    /** Milliseconds between connects, over the whole run */
    interval: number
    prefix: string
    topic: string
    qos: number
    retain: boolean
    /** Milliseconds between one client's publishes (0: as fast as its window allows) */
    pubInterval: number
    size: number
    /** Total messages (pub: published over all clients; sub: received, then the run stops); 0: no limit */
    limit: number
    inflight: number
    /** Read coalescing on each client's connection, in milliseconds (0: off) */
    coalesce: number
    ifaddr: string[]
    workers: number
    /** Seconds; 0: until the limit or Ctrl-C */
    duration: number
    json: boolean
    csv: string | null
    chart: string | null
    coordinate: boolean
    members: number
    run: string
    control: string | null
    help: boolean
}

export const BENCH_USAGE = `Usage: fiber-mqtt bench conn|pub|sub [options]
       fiber-mqtt bench join --run NAME [-h host] [-p port] [--control URL]

A load generator for MQTT brokers: many clients on fibers, in one or more processes.

 -h, --host HOST        broker host (localhost)
 -p, --port PORT        broker port (1883; 8883 with --ssl)
 --url URL              the broker as a URL: mqtt[s]://[user[:password]@]host[:port], or ws[s]://...[/path]
 -u, --username USER    user name, %i is the client number
 -P, --password PASS    password
 -k, --keepalive SEC    keep-alive in seconds (300)
 -C, --clean BOOL       clean session (true)
 -c, --count N          clients (200)
 -n, --startnumber N    first client number (0)
 -i, --interval MS      milliseconds between connects over the whole run (10)
     --prefix TEXT      client id prefix (fmb): ids are PREFIX_MODE_N
 -t, --topic PATTERN    topic (pub) or filter (sub); %i client number, %c client id, %u user name
 -q, --qos 0|1|2        QoS (0)
 -r, --retain           publish retained (pub)
 -I, --interval_of_msg MS  milliseconds between one client's publishes, 0: as fast as its window allows (1000)
 -s, --size BYTES       payload size (256); 24 bytes or more carry a sequence number and send time
 -L, --limit N          pub: messages in all; sub: stop once N are received (0: no limit)
 -F, --inflight N       QoS 1/2 messages in flight per client (100)
     --coalesce MS      read coalescing: once six reads come within MS, a client naps MS before the next
                        (fewer wake-ups per message, up to MS of added latency; 0: off, the default)
 -S, --ssl              TLS; --cafile FILE, --certfile FILE, --keyfile FILE, --insecure, --alpn PROTOCOL
     --ifaddr A,B,...   local addresses to connect from, in turn (more than 64k connections to one broker)
 -w, --workers N        worker processes (the number of cores)
 -d, --duration SEC     stop after this many seconds (0: at the limit or Ctrl-C)
     --json             the summary as JSON on stdout
     --csv FILE         the per-second series as CSV
     --chart FILE       the per-second series as an SVG chart
     --coordinate       lead a run of several processes: wait for --members others to join, then start all
     --members N        processes that join a coordinated run (1)
     --run NAME         the coordinated run's name (default)
     --control URL      the broker that carries the coordination (the broker under test)`

const VALUE = new Set(['-h', '--host', '-p', '--port', '--url', '-u', '--username', '-P', '--password', '-k', '--keepalive',
    '-C', '--clean', '-c', '--count', '-n', '--startnumber', '-i', '--interval', '--prefix', '-t', '--topic', '-q', '--qos',
    '-I', '--interval_of_msg', '-s', '--size', '-L', '--limit', '-F', '--inflight', '--coalesce', '--cafile', '--certfile', '--keyfile',
    '--alpn', '--ifaddr', '-w', '--workers', '-d', '--duration', '--csv', '--chart', '--members', '--run', '--control'])

export function benchDefaults(mode: Mode): BenchOptions {
    return {
        mode, host: 'localhost', port: 0, tls: false, websocket: null, cafile: null, certfile: null, keyfile: null, insecure: false, alpn: null,
        username: null, password: null, keepAlive: 300, clean: true, count: 200, startNumber: 0, interval: 10, prefix: 'fmb',
        topic: mode === 'sub' ? 'bench/#' : 'bench/%i', qos: 0, retain: false, pubInterval: 1000, size: 256, limit: 0,
        inflight: 100, coalesce: 0, ifaddr: [], workers: availableParallelism(), duration: 0, json: false, csv: null, chart: null,
        coordinate: false, members: 1, run: 'default', control: null, help: false,
    }
}

function int(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const n = Number(text)
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
        throw new UsageError(`${name} must be an integer from ${min} to ${max} (got '${text}').`)
    }
    return n
}

function bool(name: string, text: string): boolean {
    if (text === 'true' || text === 'false') {
        return text === 'true'
    }
    throw new UsageError(`${name} must be true or false (got '${text}').`)
}

/** The options of a bench command line (mode first); UsageError says what is wrong. */
export function parseBenchArgs(argv: string[]): BenchOptions {
    const mode = argv[0]
    if (mode !== 'conn' && mode !== 'pub' && mode !== 'sub') {
        throw new UsageError(`Unknown bench mode '${mode ?? ''}': conn, pub, sub or join.`)
    }
    const o = benchDefaults(mode)
    let portGiven = false
    for (let i = 1; i < argv.length; i++) {
        const arg = argv[i]
        let value = ''
        if (VALUE.has(arg)) {
            if (i + 1 >= argv.length) {
                throw new UsageError(`${arg} needs a value.`)
            }
            value = argv[++i]
        }
        switch (arg) {
        case '-h': case '--host': o.host = value; break
        case '-p': case '--port': o.port = int(arg, value, 1, 65535); portGiven = true; break
        case '--url': {
            try {
                const u = parseMqttUrl(value)
                o.host = u.host
                o.port = u.port
                o.tls = u.tls
                o.websocket = u.websocket
                portGiven = true
                if (u.username !== null) o.username = u.username
                if (u.password !== null) o.password = u.password
                if (u.topic !== null) o.topic = u.topic
            } catch (err) {
                throw new UsageError(err instanceof MqttUrlError ? err.message : String(err))
            }
            break
        }
        case '-u': case '--username': o.username = value; break
        case '-P': case '--password': o.password = value; break
        case '-k': case '--keepalive': o.keepAlive = int(arg, value, 0, 65535); break
        case '-C': case '--clean': o.clean = bool(arg, value); break
        case '-c': case '--count': o.count = int(arg, value, 1, 10_000_000); break
        case '-n': case '--startnumber': o.startNumber = int(arg, value, 0, 2 ** 32 - 1); break
        case '-i': case '--interval': o.interval = int(arg, value, 0, 3_600_000); break
        case '--prefix': o.prefix = value; break
        case '-t': case '--topic': o.topic = value; break
        case '-q': case '--qos': o.qos = int(arg, value, 0, 2); break
        case '-r': case '--retain': o.retain = true; break
        case '-I': case '--interval_of_msg': o.pubInterval = int(arg, value, 0, 3_600_000); break
        case '-s': case '--size': o.size = int(arg, value, 0, 256 * 1024 * 1024); break
        case '-L': case '--limit': o.limit = int(arg, value, 0); break
        case '-F': case '--inflight': o.inflight = int(arg, value, 1, 65535); break
        case '--coalesce': o.coalesce = int(arg, value, 0, NAP_MAX); break
        case '-S': case '--ssl': o.tls = true; break
        case '--cafile': o.cafile = value; break
        case '--certfile': o.certfile = value; break
        case '--keyfile': o.keyfile = value; break
        case '--insecure': o.insecure = true; break
        case '--alpn': o.alpn = value; break
        case '--ifaddr': {
            o.ifaddr = value.split(',').map(a => a.trim()).filter(a => a !== '')
            const bad = o.ifaddr.find(a => isIP(a) === 0)
            if (bad !== undefined || o.ifaddr.length === 0) {
                throw new UsageError(`--ifaddr takes IP addresses separated by commas (got '${bad ?? value}').`)
            }
            break
        }
        case '-w': case '--workers': o.workers = int(arg, value, 1, 1024); break
        case '-d': case '--duration': o.duration = int(arg, value, 0); break
        case '--json': o.json = true; break
        case '--csv': o.csv = value; break
        case '--chart': o.chart = value; break
        case '--coordinate': o.coordinate = true; break
        case '--members': o.members = int(arg, value, 1, 10_000); break
        case '--run': o.run = runName(value); break
        case '--control': o.control = controlUrl(value); break
        case '--help': o.help = true; break
        default:
            throw new UsageError(`Unknown option '${arg}'.`)
        }
    }
    if (!portGiven) {
        o.port = o.tls ? 8883 : 1883
    }
    if (o.certfile !== null && o.keyfile === null) {
        throw new UsageError('--certfile needs --keyfile.')
    }
    for (const [name, file] of [['--cafile', o.cafile], ['--certfile', o.certfile], ['--keyfile', o.keyfile]] as const) {
        if (file !== null) {
            try {
                readFileSync(file)
            } catch (err) {
                throw new UsageError(`Cannot read ${name} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`)
            }
        }
    }
    /* The pattern with its placeholders filled as a client would fill them must be a valid topic or filter */
    const sample = fillTopic(o.topic, o.startNumber, clientIdOf(o, o.startNumber), o.username ?? '')
    const problem = mode === 'sub' ? topicFilterProblem(sample) : topicNameProblem(sample)
    if (mode !== 'conn' && problem !== null) {
        throw new UsageError(`Bad topic '${o.topic}': ${problem.message ?? problem}.`)
    }
    return o
}

function runName(text: string): string {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
        throw new UsageError(`--run takes a name of letters, digits, '.', '_' or '-' (got '${text}').`)
    }
    return text
}

function controlUrl(text: string): string {
    try {
        parseMqttUrl(text)
    } catch (err) {
        throw new UsageError(err instanceof MqttUrlError ? err.message : String(err))
    }
    return text
}

/** The options of `bench join`: the run's name and where its coordination is. */
export interface JoinOptions {
    run: string
    host: string
    port: number
    /** Host and port given on the command line: they replace the plan's broker address */
    target: boolean
    control: string | null
    workers: number | null
    json: boolean
}

export function parseJoinArgs(argv: string[]): JoinOptions {
    const o: JoinOptions = { run: 'default', host: 'localhost', port: 1883, target: false, control: null, workers: null, json: false }
    for (let i = 1; i < argv.length; i++) {
        const arg = argv[i]
        const value = argv[i + 1]
        if (['--run', '-h', '--host', '-p', '--port', '--control', '-w', '--workers'].includes(arg) && value === undefined) {
            throw new UsageError(`${arg} needs a value.`)
        }
        switch (arg) {
        case '--run': o.run = runName(value); i++; break
        case '-h': case '--host': o.host = value; o.target = true; i++; break
        case '-p': case '--port': o.port = int(arg, value, 1, 65535); o.target = true; i++; break
        case '--control': o.control = controlUrl(value); i++; break
        case '-w': case '--workers': o.workers = int(arg, value, 1, 1024); i++; break
        case '--json': o.json = true; break
        default:
            throw new UsageError(`Unknown option '${arg}' (bench join takes --run, -h, -p, --control, -w and --json).`)
        }
    }
    return o
}

export function clientIdOf(o: BenchOptions, n: number): string {
    return `${o.prefix}_${o.mode}_${n}`
}

/** A topic pattern for one client: %i its number, %c its id, %u its user name. */
export function fillTopic(pattern: string, n: number, id: string, user: string): string {
    return pattern.replace(/%[icu]/g, m => m === '%i' ? String(n) : m === '%c' ? id : user)
}
